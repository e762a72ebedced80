"""Small text tools shared by citation checking and the extractive backend: sentences and word overlap.

Support is measured lexically (share of a sentence's content words found in a source, after light
stemming). No NLI model can be downloaded here; lexical support is deterministic, fast, and strict
enough to catch a sentence that no source talks about, though it cannot catch a negation.
"""

from __future__ import annotations

import re
from functools import lru_cache

from common.errors import PapersError

_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d+\](?:\s*\[\d+\])*)?\s+(?=[A-Z0-9(\"'\[])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|et al|vs|cf|Fig|Eq|approx|resp)\.$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_CITE = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s*%)?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
    once only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your paper papers work works propose proposed present show shows study using use
    uses used based new approach method methods which what whose does corpus collection say says tell give
    summarize summarise summary overview research find list know explain describe discuss discussed""".split()
)


TEXT_CACHE = 16384  # texts whose sentences and words are kept: every abstract sentence of a large corpus


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping trailing [n] citations with their sentence."""
    return list(_sentences(text))


@lru_cache(maxsize=TEXT_CACHE)
def _sentences(text: str) -> tuple[str, ...]:
    """Abstracts are split again and again (quoting, roles, answerability, summaries): split each once."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"(?<=[.!?]) % (?=\S)", " ", text)  # LaTeX comment markers left between sentences
    if not text:
        return ()
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start : m.end()].strip()
        head = text[start : m.start() + 1].rstrip()
        if _ABBREV.search(head.split("[")[0].rstrip()):
            continue
        parts.append(candidate)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return tuple(parts)


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return word


def content_words(text: str) -> set[str]:
    return set(_content_words(text))  # a new set each call: callers may change theirs


@lru_cache(maxsize=TEXT_CACHE)
def _content_words(text: str) -> tuple[str, ...]:
    """The stemmed content words in first-seen order, so the set built from them is the one a set
    comprehension over the text builds (same insertion order, same iteration order)."""
    return tuple(dict.fromkeys(stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2))


def support(sentence: str, source: str, question: str | None = None) -> float:
    """Share of the sentence's content words that the source contains (0 when the sentence has none).

    With ``question``, only the words beyond the question's own count: a sentence that merely restates
    the question ("X is a method for Y", asked "Which method does Y?") says nothing the source backs, so
    it scores 0 even when the source contains every word of it. A figure (two or more digits, a decimal
    or a percentage) the source does not state makes the support 0: an invented number is never backed."""
    body = strip_citations(sentence)
    if numbers(body) - numbers(source) - (numbers(question) if question else set()):
        return 0.0
    words = content_words(body)
    if question:
        words -= content_words(question)
    if not words:
        return 0.0
    return len(words & content_words(source)) / len(words)


def numbers(text: str) -> set[str]:
    """The figures a text states, normalised ("17,000" -> "17000", "65.9 %" -> "65.9%"); single digits
    are left out (they are often enumerations or spelled out elsewhere)."""
    out = set()
    for raw in _NUMBER.findall(text.replace("\\%", "%")):
        value = re.sub(r"\s+", "", raw)
        value = re.sub(r"(?<=\d),(?=\d{3})", "", value).rstrip(".,")
        if len(value.rstrip("%")) >= 2 or value.endswith("%"):
            out.add(value.rstrip("%"))
    return out


def citations_in(sentence: str) -> list[int]:
    return [int(n) for n in _CITE.findall(sentence)]


def strip_citations(sentence: str) -> str:
    return _CITE.sub("", sentence).strip()


def check_question(question: str | None, max_chars: int) -> str:
    """The stripped question, or one clear error; cheap, so callers check before loading anything."""
    question = (question or "").strip()
    if not question:
        raise PapersError("the question is empty: type a few words about what you want to know")
    if len(question) > max_chars:
        raise PapersError(f"the question is {len(question)} characters long; keep it under {max_chars} (PAPERS_MAX_QUESTION_CHARS)")
    return question
