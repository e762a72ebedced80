"""Calibrate retrieval (fusion mode, dense weight, candidate depth) on the gold set.

Abstention is no longer two bars calibrated here: the per-source answerability model is fitted on the dev
split by ``python -m evals.fit_answerability`` (assistant/answerability.py).

Run: .venv/bin/python -m evals.calibrate [--dataset evals/datasets/gold.jsonl]
Questions are split in two halves by position: settings are chosen on the even half ("dev") and
reported on the odd half ("test") too, so the README can show the choice is not overfitted.
Prints tables; changes nothing (copy the chosen values into common/settings.py by hand).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from assistant.api import retrieve
from common.settings import Settings
from evals.dataset import Question, load_dataset
from evals.metrics import mean, mrr_at, recall_at

GOLD = Path(__file__).parent / "datasets" / "gold.jsonl"


def score_config(questions: list[Question], settings: Settings, params) -> dict[str, float]:
    r5, mrr = [], []
    for q in questions:
        res = retrieve(q.question, settings=settings, k=10, mode=params.mode, params=params)
        ranked = [h.paper.title for h in res.hits]
        gold = set(q.gold_titles)
        r5.append(recall_at(ranked, gold, 5))
        mrr.append(mrr_at(ranked, gold, 10))
    return {"recall@5": mean(r5) or 0.0, "mrr@10": mean(mrr) or 0.0}


def retrieval_grid(settings: Settings, questions: list[Question]) -> list[tuple]:
    base = settings.retrieval
    rows = []
    singles = [base.model_copy(update={"mode": m}) for m in ("dense", "bm25")]
    fused = [
        base.model_copy(update={"mode": "hybrid", "fusion": f, "dense_weight": w, "candidate_depth": d})
        for f, w, d in itertools.product(("relative_score", "dist_based_score"), (0.3, 0.4, 0.5, 0.6, 0.7), (10, 30, 60))
    ] + [base.model_copy(update={"mode": "hybrid", "fusion": "reciprocal_rerank", "candidate_depth": d}) for d in (10, 30, 60)]
    dev, test = questions[0::2], questions[1::2]
    for params in singles + fused:
        d, t = score_config(dev, settings, params), score_config(test, settings, params)
        rows.append((params, d, t))
        label = params.mode if params.mode != "hybrid" else f"hybrid {params.fusion} w={params.dense_weight} depth={params.candidate_depth}"
        print(f"{label:52s} dev R@5 {d['recall@5']:.3f} MRR {d['mrr@10']:.3f} | test R@5 {t['recall@5']:.3f} MRR {t['mrr@10']:.3f}", flush=True)
    return rows




def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=GOLD)
    parser.add_argument("--skip-retrieval", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    questions = [q for q in load_dataset(args.dataset) if q.kind != "followup"]
    answerable = [q for q in questions if q.answerable]
    if not args.skip_retrieval:
        rows = retrieval_grid(settings, answerable)
        best = max(rows, key=lambda r: (r[1]["recall@5"] + r[1]["mrr@10"]))
        print(f"best on dev: {best[0].model_dump()}")
    print("answerability model: python -m evals.fit_answerability (dev questions only)")
    print("summary relevance bar: python -m evals.calibrate_summary (dev overview questions only)")


if __name__ == "__main__":
    main()
