"""What each paper of a summary contributes: its problem, contribution and key result, quoted from its abstract.

Sentence roles come from ``assistant.roles`` (background / contribution / method / result). A bullet is
the paper's contribution sentence (the one that best matches the topic), followed by its strongest result
sentence when that one carries a number ("improves X by 12 points"); a background or motivation sentence is
used only when the abstract has nothing else. Every piece is a verbatim quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.roles import finding_score, role
from assistant.text import content_words, split_sentences

_NUMBER = re.compile(r"\d+(?:\.\d+)?\s*(?:%|x\b|×|times\b|-fold|fold\b|points?\b|pp\b)|\b\d+\.\d+\b")
_PROBLEM = re.compile(r"\b(?:however|challenge|problem|limit|lack|struggle|remain|costly|expensive|difficult|"
                      r"bottleneck|suffer|fail|unclear|gap)\w*", re.IGNORECASE)
_OWN = re.compile(r"\b(?:we|our|this (?:paper|work|study))\b", re.IGNORECASE)
MAX_LINE_CHARS = 480  # a bullet adds the result sentence only while the line stays readable
CELL_WORDS = 28


@dataclass
class Finding:
    """One paper's quoted sentences by role (None when the abstract has no such sentence)."""

    contribution: str | None
    result: str | None
    problem: str | None
    method: str | None

    def line(self) -> list[str]:
        """The bullet's sentences: the contribution (or result, or whatever there is) and a numeric result."""
        main = self.contribution or self.result or self.method or self.problem
        if not main:
            return []
        out = [main]
        if self.result and self.result != main and _NUMBER.search(self.result) and not _NUMBER.search(main) \
                and len(main) + len(self.result) <= MAX_LINE_CHARS:
            out.append(self.result)
        return out


def _usable(sentence: str) -> bool:
    return len(sentence) > 30 and not sentence.startswith("[instruction-like")


def find(assistant: Any, topic: str, abstract: str) -> Finding:
    """The paper's best contribution, result, problem and method sentences for this topic."""
    from assistant.prompts import quotable_sentences  # never quote an instruction-like sentence

    sentences = quotable_sentences(abstract)
    n = len(sentences)
    topic_words = content_words(topic)
    total = sum(assistant.picker.idf(w) for w in topic_words) or 1.0
    by_role: dict[str, list[tuple[float, str]]] = {}
    for i, s in enumerate(sentences):
        if not _usable(s):
            continue
        kind = role(s, i, n)
        if i == 0 and n > 2 and kind in ("result", "contribution") and not _OWN.search(s):
            kind = "background"  # an opening claim about the field, not the paper's own finding
        overlap = sum(assistant.picker.idf(w) for w in topic_words & content_words(s)) / total
        score = finding_score(s, i, n) + 0.5 * overlap + (0.3 if _NUMBER.search(s) else 0.0) - 0.01 * i
        if kind == "background":
            score = 0.5 * overlap + (0.5 if _PROBLEM.search(s) else 0.0) + 0.02 * i
        by_role.setdefault(kind, []).append((score, s))

    def best(kind: str) -> str | None:
        options = by_role.get(kind)
        return max(options)[1] if options else None

    return Finding(contribution=best("contribution"), result=best("result"), problem=best("background"),
                   method=best("method"))


def is_finding(sentence: str, abstract: str) -> bool:
    """Does this quoted sentence state a contribution or a result (its role where it stands in the abstract)?"""
    from assistant.text import strip_citations

    body = strip_citations(sentence).rstrip(".")
    sentences = split_sentences(abstract)
    for i, s in enumerate(sentences):
        if body and body in s:
            return role(s, i, len(sentences)) in ("contribution", "result")
    return role(body) in ("contribution", "result")


def cell(sentence: str | None, words: int = CELL_WORDS) -> str:
    """A table cell: the quote, cut to ``words`` words with an ellipsis (a shortened quote, never a paraphrase)."""
    if not sentence:
        return "—"
    parts = sentence.split()
    text = " ".join(parts[:words]) + (" …" if len(parts) > words else "")
    return text.rstrip(".")
