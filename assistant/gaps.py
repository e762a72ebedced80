"""What the cited papers do not contain: the question's specific terms that none of them mentions.

The answerability model's typical error is an in-domain near miss: a paper that matches the question's words
one by one but not its subject ("How do you run quantized neural networks on tiny microcontrollers?" answered
from a mixed-precision quantization paper). A literal, checkable statement helps the reader judge it:
'None of the cited papers mention "microcontrollers".'

A question's concepts are runs of consecutive content words (``assistant.concepts``). A concept is missing
when one of its *specific* words is in none of the papers' titles and abstracts (stemmed as
``assistant.text.stem`` does; a word of 7+ letters also counts as mentioned when a paper has a word with its
first six letters: "memorisation" / "memorization", "jailbroken" / "jailbreak"). Specific, so that the words
a paraphrase is made of never fire ("models", "really", "bigger", "pick"):
  - rare in the corpus: at most ``max_share`` of the abstracts use it (``SentencePicker.df``; for a long word,
    any word with its six-letter prefix), and
  - a name as typed (a capital letter away from a sentence's start: "QLoRA", "Dota", "TENT"), or not a common
    English word: not a whole word of the MiniLM (BERT uncased) WordPiece vocabulary, also after removing a
    plain inflection or prefix ("labelling", "minimally", "rewrite", "maximise" are common; "microcontrollers",
    "crossword", "subnetworks" are not).
A missing concept is reported as typed from its first to its last specific word ("tiny microcontrollers" ->
"microcontrollers", "QLoRA fine-tune" -> "QLoRA"): only letters, digits, hyphens and spaces, never markup. The bar is
fitted on dev (``python -m evals.fit_gaps``): 0, words no abstract uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.concepts import concepts, spans
from assistant.text import content_words, stem

if TYPE_CHECKING:
    from assistant.extractive import SentencePicker


PREFIX = 6  # a word of 7+ letters is taken as mentioned when a paper has a word with its first 6 ("memorisation", "memorization")


class GapFinder:
    """The corpus vocabulary (abstract document frequencies and title words) and the specificity bar."""

    def __init__(self, picker: SentencePicker, titles: Iterable[str], max_share: float) -> None:
        self.picker = picker
        self.max_df = max_share * picker.n
        corpus = set(picker.df).union(*(content_words(t) for t in titles))
        self.corpus: frozenset[str] = frozenset(corpus | _prefixes(corpus))
        self.prefix_df: dict[str, int] = {}  # the most abstracts any word of a 6-letter prefix is used by
        for w, n in picker.df.items():
            if len(w) > PREFIX and n > self.prefix_df.get(w[:PREFIX], 0):
                self.prefix_df[w[:PREFIX]] = n

    def df(self, word: str) -> int:
        """Abstracts using the stemmed word, or the most using a word of its 6-letter prefix ("optimize",
        "optimization")."""
        return max(self.picker.df.get(word, 0), self.prefix_df.get(word[:PREFIX], 0) if len(word) > PREFIX else 0)

    def specific(self, token: str, typed: str) -> bool:
        """A word rare in the corpus (at most the bar's share of the abstracts use its stem) that is a name as
        typed ("QLoRA", "Dota", "TENT") or not a common English word ("microcontrollers", "crossword")."""
        return self.df(stem(token)) <= self.max_df and (_is_name(typed) or not common_english(token))

    def missing(self, question: str, papers: Iterable[tuple[str, str]]) -> list[str]:
        """The question's concepts, as typed, with a specific word none of ``papers`` (title, abstract) uses."""
        have: set[str] = set()
        for title, abstract in papers:
            have |= content_words(f"{title} {abstract}")
        have |= _prefixes(have)
        return self._terms(question, lambda w: not _mentioned(w, have))

    def unknown(self, question: str) -> list[str]:
        """The question's concepts, as typed, with a specific word no paper of the collection uses."""
        return self._terms(question, lambda w: not _mentioned(w, self.corpus))

    def unknown_names(self, question: str) -> list[str]:
        """The names the question types (a capital letter away from a sentence's start: "QLoRA", "FunSearch",
        "Dota") that no paper of the collection uses: the question is about something the collection lacks.
        [] for a question typed in capitals or Title Case, where capitals do not mark names."""
        return self._terms(question, lambda w: not _mentioned(w, self.corpus), names_only=True)

    def _terms(self, question: str, absent: Callable[[str], bool], names_only: bool = False) -> list[str]:
        where = spans(question)
        typed = [question[a:b] for a, b in where]
        tokens = [t.lower() for t in typed]
        keep, runs = concepts(tokens)
        named = [_mid_sentence(typed, i) and _is_name(typed[i]) for i in keep]
        if names_only and sum(named) > len(keep) / 2:
            return []
        out: list[str] = []
        for run in runs:
            idx = [keep[i] for i in run if named[i] or not names_only]
            rare = [i for i in idx if self.specific(tokens[i], typed[i] if _mid_sentence(typed, i) else typed[i].lower())]
            if not any(absent(stem(tokens[i])) for i in rare):
                continue
            term = question[where[rare[0]][0]:where[rare[-1]][1]]  # without the common words at either end
            if term.lower() not in (t.lower() for t in out):
                out.append(term)
        return out


def _prefixes(words: Iterable[str]) -> set[str]:
    return {"~" + w[:PREFIX] for w in words if len(w) > PREFIX}


def _mentioned(word: str, have: set[str] | frozenset[str]) -> bool:
    return word in have or (len(word) > PREFIX and "~" + word[:PREFIX] in have)


def _is_name(typed: str) -> bool:
    """Typed with a capital letter ("QLoRA", "Dota"; the first word of a sentence is passed lower-cased)."""
    return any(c.isupper() for c in typed)


def _mid_sentence(typed: list[str], i: int) -> bool:
    before = [t for t in typed[:i] if t.strip()]
    return bool(before) and before[-1] not in (".", "?", "!", ":")


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    """Whole lower-case words of the MiniLM (BERT uncased) WordPiece vocabulary: the ~22,000 words frequent
    enough in Wikipedia and books to get a piece of their own; a general-English word list already installed."""
    from ingest.embed import local_model_path

    lines = (local_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in lines if w.isalpha() and w.islower())


_PREFIXES = ("re", "pre", "un", "non", "mis", "over", "under", "co")  # "rewrite", "nonzero", "overthinking"
_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""),
            ("ness", ""), ("ers", ""), ("er", ""))


@lru_cache(maxsize=20000)
def common_english(word: str) -> bool:
    """The word, or the word without a plain inflection ("labelling" -> "label", "minimally" -> "minimal"), is a
    common English word."""
    english = _english()
    if _inflected(word, english) or ("is" in word and _inflected(word.replace("is", "iz"), english)):  # "maximise"
        return True
    return any(word.startswith(p) and len(word) > len(p) + 2 and _inflected(word[len(p):].lstrip("-"), english) for p in _PREFIXES)


def _inflected(word: str, english: frozenset[str]) -> bool:
    if word in english:
        return True
    for end, add in _ENDINGS:
        if word.endswith(end) and len(word) > len(end) + 2:
            base = word[: -len(end)]
            if base + add in english or (len(base) > 2 and base[-1] == base[-2] and base[:-1] in english):
                return True
    return False


def gap_notice(terms: list[str], answered: bool) -> str:
    """'None of the cited papers mention "X"' (answered) or 'No paper in the collection mentions "X"'."""
    quoted = _join([f'"{t}"' for t in terms])
    return f"None of the cited papers mention {quoted}" if answered else f"No paper in the collection mentions {quoted}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
