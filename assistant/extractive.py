"""The extractive backend: no language model, just the best sentence of each retrieved abstract.

Each source's sentences are scored by IDF-weighted overlap with the question's content words, with a
small bonus for the sentence that states the contribution ("we propose ..."), and the top one is quoted
with its citation. Deterministic, fast, and faithful by construction: every sentence is a verbatim
quote of the abstract it cites.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from assistant.text import content_words, split_sentences

_CONTRIBUTION = re.compile(r"\b(we (propose|introduce|present|develop|study|show)|this (paper|work))\b", re.IGNORECASE)


class SentencePicker:
    """Holds corpus document frequencies so rare question words count more than common ones."""

    def __init__(self, abstracts: list[str]) -> None:
        df: Counter[str] = Counter()
        for text in abstracts:
            df.update(content_words(text))
        self.n = max(len(abstracts), 1)
        self.df = df

    def idf(self, word: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(word, 0)))

    def coverage(self, question: str, texts: list[str]) -> float:
        """IDF-weighted share of the question's content words that the best of ``texts`` contains."""
        q = content_words(question)
        total = sum(self.idf(w) for w in q)
        if not total:
            return 0.0
        return max((sum(self.idf(w) for w in q & content_words(t)) / total for t in texts), default=0.0)

    def score(self, question_words: set[str], sentence: str, position: int) -> float:
        words = content_words(sentence)
        overlap = sum(self.idf(w) for w in question_words & words)
        bonus = 0.5 if _CONTRIBUTION.search(sentence) else 0.0
        return overlap + bonus - 0.05 * position

    def best_sentence(self, question: str, text: str) -> str | None:
        from assistant.prompts import REDACTED, redact_instructions  # never quote an instruction-like sentence

        kept = (s.replace(REDACTED, " ").strip() for s in split_sentences(redact_instructions(text)[0]))
        sentences = [s for s in kept if len(s) > 30]
        if not sentences:
            return None
        q = content_words(question)
        return max(enumerate(sentences), key=lambda p: self.score(q, p[1], p[0]))[1]

    def compose(self, question: str, texts: list[str], limit: int, dense: list[float | None] | None = None,
                dense_floor: float = 0.0) -> str:
        """One quoted sentence per relevant source (at most ``limit``), each cited [n].

        The top source is always quoted; a later one only when it is nearly as relevant, by keyword
        coverage (half the top source's) or embedding similarity (85% of the best, and only when the best
        reaches ``dense_floor``: for a bare name like "What is BoxingGym?" similarity says little), so a
        one-paper question is not padded with unrelated quotes.
        """
        from assistant.citations import cite

        dense = dense or [None] * len(texts)
        covers = [self.coverage(question, [t]) for t in texts]
        best_dense = max((d for d in dense if d is not None), default=0.0)
        parts = []
        for n, text in enumerate(texts, start=1):
            if len(parts) >= limit:
                break
            near_dense = best_dense >= dense_floor and (dense[n - 1] or 0.0) >= 0.85 * best_dense > 0
            near = covers[n - 1] >= max(0.3, 0.5 * covers[0]) or near_dense
            if n > 1 and not near:
                continue
            sentence = self.best_sentence(question, text)
            if sentence:
                parts.append(cite(sentence, [n]))
        return " ".join(parts)
