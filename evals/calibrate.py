"""Calibrate retrieval (fusion mode, dense weight, candidate depth) and the abstention bars on the gold set.

Run: .venv/bin/python -m evals.calibrate [--dataset evals/datasets/gold.jsonl]
Questions are split in two halves by position: settings are chosen on the even half ("dev") and
reported on the odd half ("test") too, so the README can show the choice is not overfitted.
Prints tables; changes nothing (copy the chosen values into common/settings.py by hand).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from assistant.api import ask, retrieve
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


def abstention_grid(settings: Settings, questions: list[Question]) -> None:
    feats = []
    for q in questions:  # the answer reports the two signals its abstention decision used
        answer = ask(q.question, settings=settings, backend="extractive")
        feats.append((q, answer.relevance, answer.coverage, any(s["author_match"] for s in answer.sources)))
    dev, test = feats[0::2], feats[1::2]

    def accuracy(rows, td, tc):
        abst = [r for r in rows if r[0].kind == "abstain"]
        ans = [r for r in rows if r[0].kind != "abstain"]
        hit = lambda r: (not r[3]) and r[1] < td and r[2] < tc  # noqa: E731
        a = sum(hit(r) for r in abst) / max(len(abst), 1)
        f = sum(hit(r) for r in ans) / max(len(ans), 1)
        return a, f

    best = None
    for td in [x / 100 for x in range(10, 56, 2)]:
        for tc in [x / 20 for x in range(4, 21)]:
            a, f = accuracy(dev, td, tc)
            key = ((a + (1 - f)) / 2, -abs(td - 0.3))
            if best is None or key > best[0]:
                best = (key, td, tc)
    _, td, tc = best
    for name, rows in (("dev", dev), ("test", test), ("all", feats)):
        a, f = accuracy(rows, td, tc)
        print(f"abstention min_relevance={td:.2f} min_coverage={tc:.2f}: {name}: abstain accuracy {a:.3f}, false-abstention {f:.3f}")
    worst = sorted((r for r in feats if r[0].kind == "abstain"), key=lambda r: -max(r[1], r[2]))[:3]
    for q, d, c, _ in worst:
        print(f"  closest off-topic: dense {d:.3f} coverage {c:.2f}  {q.question}")


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
    abstention_grid(settings, questions)
    print("summary relevance bar: python -m evals.calibrate_summary (dev overview questions only)")


if __name__ == "__main__":
    main()
