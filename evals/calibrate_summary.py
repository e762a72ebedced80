"""Fit the summary relevance bar on dev overview questions only, and report it on the frozen test split.

Run: .venv/bin/python -m evals.calibrate_summary
Questions: ``subfield`` questions of evals/datasets/overview.jsonl and gold.jsonl. A logistic regression
(scikit-learn) is fitted on the dev split's candidates (gold titles = 1, others = 0, acceptable titles left
out), then the probability floor and the share-of-best are chosen on dev: the highest recall whose mean
precision stays at least ``--min-precision``. Test figures are printed beside, never used for a choice.
Prints the weights and thresholds; changes nothing (copy them into assistant/gather.py and
common/settings.py by hand).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from assistant.api import summary_candidates
from assistant.gather import MIN_KEEP, Candidate
from common.settings import Settings
from evals.dataset import Question, load_dataset

DATASETS = [Path(__file__).parent / "datasets" / "overview.jsonl", Path(__file__).parent / "datasets" / "gold.jsonl"]
CAP = 20  # summary_max_papers


def features(c: Candidate) -> list[float]:
    return [c.z, c.title_coverage, c.prf, c.bm25]


def recall_precision(rows: list[tuple[Question, list[Candidate], np.ndarray]], floor: float, relative: float) -> tuple[float, float]:
    recalls, precisions = [], []
    for q, found, prob in rows:
        order = np.argsort(-prob)
        top = prob[order[0]] if len(order) else 0.0
        kept = [found[i].hit.paper.title for i in order if prob[i] >= floor and prob[i] >= relative * top]
        if len(kept) < MIN_KEEP:
            kept = [found[i].hit.paper.title for i in order[:MIN_KEEP]]
        kept_set = set(kept[:CAP])
        gold, ok = set(q.gold_titles), set(q.gold_titles) | set(q.acceptable_titles)
        recalls.append(len(kept_set & gold) / len(gold))
        precisions.append(len(kept_set & ok) / len(kept_set) if kept_set else 0.0)
    return float(np.mean(recalls)), float(np.mean(precisions))


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-precision", type=float, default=0.68)
    args = parser.parse_args()
    settings = Settings()
    questions = [q for path in DATASETS for q in load_dataset(path) if q.kind == "subfield"]
    data = {q.id: (q, summary_candidates(q.question, settings=settings)) for q in questions}
    dev = [data[q.id] for q in questions if q.split == "dev"]
    test = [data[q.id] for q in questions if q.split == "test"]
    x, y = [], []
    for q, found in dev:
        for c in found:
            title = c.hit.paper.title
            if title in q.acceptable_titles:
                continue
            x.append(features(c))
            y.append(1 if title in q.gold_titles else 0)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(x), np.array(y))
    print(f"WEIGHTS = {tuple(round(float(w), 3) for w in model.coef_[0])}  # z, title_coverage, prf, bm25")
    print(f"INTERCEPT = {float(model.intercept_[0]):.3f}")

    def scored(rows):
        return [(q, found, model.predict_proba(np.array([features(c) for c in found]))[:, 1]) for q, found in rows]

    dev_rows, test_rows = scored(dev), scored(test)
    grid = [(f / 100, r / 100) for f in range(2, 41, 2) for r in range(0, 41, 5)]
    results = [(recall_precision(dev_rows, f, r), f, r) for f, r in grid]
    ok = [row for row in results if row[0][1] >= args.min_precision] or results
    (rec, prec), floor, relative = max(ok, key=lambda row: (row[0][0], row[0][1]))
    trec, tprec = recall_precision(test_rows, floor, relative)
    print(f"summary_min_relevance={floor:.2f} summary_relative_to_top={relative:.2f}")
    print(f"  dev  ({len(dev)} questions): recall {rec:.3f} precision {prec:.3f}")
    print(f"  test ({len(test)} questions): recall {trec:.3f} precision {tprec:.3f}  (frozen: reported, not tuned on)")


if __name__ == "__main__":
    main()
