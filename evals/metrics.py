"""Metric functions, small and pure so they can be checked against hand-computed examples.

Ranked lists are titles in rank order (duplicates already removed); gold is a set of titles.
"""

from __future__ import annotations

import math
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
