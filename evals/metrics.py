"""Metric functions, small and pure so they can be checked against hand-computed examples.

Ranked lists are titles in rank order (duplicates already removed); gold is a set of titles.
"""

from __future__ import annotations

import math
import re
from statistics import median
from typing import Iterable, Sequence


def hit_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    return 1.0 if any(t in gold for t in ranked[:k]) else 0.0


def recall_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    if not gold:
        return 0.0
    return len(set(ranked[:k]) & gold) / len(gold)


def mrr_at(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    for i, t in enumerate(ranked[:k], start=1):
        if t in gold:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG; 0 when there is no gold."""
    dcg = sum(1.0 / math.log2(i + 1) for i, t in enumerate(ranked[:k], start=1) if t in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def citation_validity(cited: Iterable[str], retrieved: Iterable[str]) -> float:
    cited = list(cited)
    if not cited:
        return 1.0
    retrieved = set(retrieved)
    return sum(1 for c in cited if c in retrieved) / len(cited)


def citation_precision(cited: Iterable[str], gold: set[str], acceptable: set[str]) -> float | None:
    """Share of cited papers that are gold or acceptable; None when nothing was cited."""
    cited = set(cited)
    if not cited:
        return None
    return len(cited & (gold | acceptable)) / len(cited)


def citation_recall(cited: Iterable[str], gold: set[str]) -> float | None:
    if not gold:
        return None
    return len(set(cited) & gold) / len(gold)


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); p50 of [1, 2, 3, 4] is 2."""
    vals = sorted(values)
    if not vals:
        return None
    rank = max(1, math.ceil(q / 100 * len(vals)))
    return vals[rank - 1]


def p50(values: Sequence[float]) -> float | None:
    return median(values) if values else None


def normalize_fact_text(text: str) -> str:
    """Case, whitespace and number formatting folded: ``1,000`` = ``1000``, ``12 %`` = ``12%``, LaTeX ``\\%`` = ``%``."""
    text = text.lower().replace("\\%", "%").replace("{,}", ",").replace("×", "x").replace("−", "-")
    text = re.sub(r"[{}$\\]", "", text)
    text = re.sub(r"(?<=\d)[,\u2009\u202f ](?=\d{3}(?!\d))", "", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s+(%|x\b)", r"\1", text).strip()


def fact_found(fact: str, answer: str) -> bool:
    """The fact occurs in the answer as a whole token run (``10%`` is not found inside ``110%``)."""
    f, a = normalize_fact_text(fact), normalize_fact_text(answer)
    if not f:
        return False
    return re.search(rf"(?<![\w.]){re.escape(f)}(?![\w]|\.\d)", a) is not None


def facts_recall(answer: str, facts: Sequence[str]) -> float | None:
    """Share of a question's key facts that the answer text states; None when the question has no facts."""
    if not facts:
        return None
    return sum(fact_found(f, answer) for f in facts) / len(facts)


def cites_all(cited: Iterable[str], gold: Sequence[str]) -> bool:
    """A comparison is answered only when every paper it compares is cited."""
    return bool(gold) and set(gold) <= set(cited)
