"""How far a per-question cut-off could take the summary bar: bounds on dev, from the gold labels.

Run: .venv/bin/python -m evals.summary_headroom
The bar (`assistant.gather`) ranks candidates by relevance probability and keeps those above one global floor.
A per-question cut-off can only choose how far down that ranking to keep (at least ``MIN_KEEP``, at most
``CAP``). Two bounds on the dev split, both using the gold labels, so neither is reachable; they say whether
the remaining recall is lost at the cut-off or in the order:
- known topic size: keep as many papers as the question has gold (and 1.5 times that);
- oracle cut-off: per question the depth maximising recall + lambda x precision, lambda the largest whose mean
  precision stays at least ``--min-precision`` (a cut-off rule that knew where each topic ends).
Test questions are never read. Prints; changes nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

from assistant.api import summary_candidates
from common.settings import Settings
from evals.calibrate_summary import CAP, MIN_KEEP, questions

LAMBDAS = [x / 20 for x in range(1, 81)]


def depth_curve(q, found) -> list[tuple[float, float]]:
    """(recall of gold, precision against gold + acceptable) keeping the top k, for k = MIN_KEEP .. CAP."""
    gold, ok = set(q.gold_titles), set(q.gold_titles) | set(q.acceptable_titles)
    titles = [c.hit.paper.title for c in sorted(found, key=lambda c: -c.relevance)]
    curve = []
    for k in range(MIN_KEEP, min(CAP, len(titles)) + 1):
        kept = set(titles[:k])
        curve.append((len(kept & gold) / len(gold), len(kept & ok) / len(kept)))
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-precision", type=float, default=0.70)
    args = parser.parse_args()
    settings = Settings()
    rows = [(q, summary_candidates(topic, settings=settings)) for q, topic in questions() if q.split == "dev"]
    curves = [depth_curve(q, found) for q, found in rows]
    for factor in (1.0, 1.5):
        picks = [c[min(len(c), max(MIN_KEEP, round(factor * len(q.gold_titles)))) - MIN_KEEP] for (q, _), c in zip(rows, curves)]
        rec, prec = np.mean(picks, axis=0)
        print(f"known topic size x{factor}: recall {rec:.3f} precision {prec:.3f}")
    best = None
    for lam in LAMBDAS:
        rec, prec = np.mean([max(c, key=lambda t: t[0] + lam * t[1]) for c in curves], axis=0)
        if prec >= args.min_precision and (best is None or rec > best[0]):
            best = (rec, prec, lam)
    if best:
        print(f"oracle cut-off (lambda {best[2]}): recall {best[0]:.3f} precision {best[1]:.3f}")
    print(f"  dev, {len(rows)} questions; both bounds read the gold labels")


if __name__ == "__main__":
    main()
