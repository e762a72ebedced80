"""The question's concepts: runs of consecutive content words ("spiking neural networks", "speech recognition").

An in-domain near-miss shares most of its words with some paper and leaves one whole concept unmatched:
"How are *spiking neural networks* trained with *surrogate gradients*?" against a paper on surrogate losses
for stochastic optimisation, "How is *test-time scaling* applied to *speech recognition*?" against a video
paper. Per-word evidence averages that gap away (the other concepts match well); per-concept evidence keeps
it: ``weakest_concept`` is the IDF share of the worst-matched concept times how badly it is matched, so a
large concept with no match in the paper weighs most. The same grouping serves the lexical side (is each
word in the paper?) and the late-interaction side (each word's MaxSim), over the same word split as the
MiniLM tokenizer's (words and single punctuation marks; a hyphen joins, anything else that is not a
content word ends a concept).
"""

from __future__ import annotations

import re
from typing import Sequence

from assistant.text import STOPWORDS

_CONTENT = re.compile(r"[a-z][a-z0-9]*")
_TOKEN = re.compile(r"[^\W_]+|\S")  # a run of letters and digits, or one other character (as BERT's pre-tokenizer)


def is_content(word: str) -> bool:
    """A content word of a question: letters (then digits), not a stop-word, longer than two characters."""
    return bool(_CONTENT.fullmatch(word)) and word not in STOPWORDS and len(word) > 2


def words(text: str) -> list[str]:
    """The text's words and punctuation marks, lower-cased, in order."""
    return _TOKEN.findall(text.lower())


def spans(text: str) -> list[tuple[int, int]]:
    """Where each of ``words(text)`` is in ``text`` (start, end), to quote a run of them as typed."""
    return [m.span() for m in _TOKEN.finditer(text)]


def concepts(tokens: Sequence[str]) -> tuple[list[int], list[list[int]]]:
    """The indices (into ``tokens``) of the content words, and the concepts: runs of consecutive content words,
    as positions into that list of indices."""
    keep: list[int] = []
    spans: list[list[int]] = []
    joined = False  # the previous token was a content word, or a hyphen right after one
    for i, w in enumerate(tokens):
        if is_content(w):
            if not joined:
                spans.append([])
            spans[-1].append(len(keep))
            keep.append(i)
            joined = True
        elif not (w == "-" and joined):
            joined = False
    return keep, spans


def weakest_concept(scores: Sequence[float], weights: Sequence[float], spans: Sequence[Sequence[int]]) -> float:
    """max over concepts of (the concept's share of the total weight) x (1 - its weighted mean score).

    ``scores`` and ``weights`` (IDF) per content word, ``spans`` positions into them. 0 when every concept is
    fully matched; 1 for a question with no content word."""
    total = float(sum(weights))
    if total <= 0 or not spans:
        return 1.0
    worst = 0.0
    for span in spans:
        w = sum(weights[i] for i in span)
        if w > 0:
            worst = max(worst, w / total * (1.0 - sum(scores[i] * weights[i] for i in span) / w))
    return worst
