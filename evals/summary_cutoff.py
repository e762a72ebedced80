"""Per-topic cut-offs for the summary bar, measured on dev only: does a second stage decide where a topic ends?

Run: .venv/bin/python -m evals.summary_cutoff
The bar (`assistant.gather`) keeps candidates whose relevance probability reaches one global floor. Each variant
below is scored by leave-one-question-out cross-validation on the dev questions of `evals.calibrate_summary`
(everything fitted without the held-out question: the five-signal bar, the second stage, the floor or rule
with the best recall at mean precision >= ``--min-precision``); training questions get the bar's in-sample
probabilities. Variants:
- ``global floor``: the bar as shipped (the baseline);
- second stage: a logistic regression over the five signals plus the bar's logit and topic-relative features
  of the candidate within its question: ``rel`` its probability over the best one's, ``rank`` log(1 + rank),
  ``gap`` logit drop to the next candidate, ``kth`` the probabilities at ranks 3, 5, 10, ``counts`` how many
  reach 0.5 and 0.2 and log of their sum, ``rank/sum`` rank over the expected count, ``coherence`` cosine to
  the centroid of the confident papers (probability >= 0.5, at least 3, at most 10; itself left out);
- ``largest drop``: keep papers at or above a high floor, then down to the largest logit drop between it and a
  low floor (if that drop is at least a minimum), else down to the low floor (floors and minimum chosen on the
  training questions).
Test questions are never read. Prints; changes nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

from assistant.api import get_assistant, summary_candidates
from assistant.gather import corpus_vectors
from common.settings import Settings
from evals.calibrate_summary import CAP, FLOORS, MIN_KEEP, Row, questions, recall_precision

SECOND_STAGE = {"rel": ["rel"], "rank": ["rank"], "gap": ["gap"], "kth": ["p3", "p5", "p10"],
                "counts": ["n50", "n20", "sum"], "rank/sum": ["rank/sum"], "coherence": ["coherence"],
                "all": ["rel", "rank", "gap", "p3", "p5", "p10", "n50", "n20", "sum", "rank/sum", "coherence"]}
DROP_GRID = [(lo, hi, gap) for lo in (0.04, 0.06, 0.08, 0.10, 0.12) for hi in (0.12, 0.2, 0.3, 0.5)
             for gap in (0.0, 0.5, 1.0, 1.5) if hi > lo]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def topic_features(prob: np.ndarray, vectors: np.ndarray) -> dict[str, np.ndarray]:
    """Each candidate's place within its question's ranking (see the module docstring)."""
    order = np.argsort(-prob)
    rank = np.empty(len(prob))
    rank[order] = np.arange(len(prob))
    ranked, lp = prob[order], _logit(prob)
    nxt = np.empty(len(prob))
    nxt[order] = np.append(_logit(ranked)[1:], _logit(ranked)[-1])
    seeds = [i for i in order if prob[i] >= 0.5][:10]
    seeds = seeds if len(seeds) >= 3 else list(order[:3])
    total = vectors[seeds].sum(axis=0)
    own = np.isin(np.arange(len(prob)), seeds)[:, None] * vectors
    centroid = total[None, :] - own
    coherence = np.sum(vectors * centroid, axis=1) / np.maximum(np.linalg.norm(centroid, axis=1), 1e-9)
    def const(v: float) -> np.ndarray:
        return np.full(len(prob), v)

    return {"lp": lp, "rel": prob / ranked[0], "rank": np.log1p(rank), "gap": lp - nxt, "p3": const(ranked[2]),
            "p5": const(ranked[4]), "p10": const(ranked[9]), "n50": const(np.log1p((prob >= 0.5).sum())),
            "n20": const(np.log1p((prob >= 0.2).sum())), "sum": const(np.log(prob.sum())),
            "rank/sum": rank / prob.sum(), "coherence": coherence}


def _fit(x: list[np.ndarray], rows: list[Row]):
    from sklearn.linear_model import LogisticRegression

    keep = [np.array([c.hit.paper.title not in q.acceptable_titles for c in found]) for q, found in rows]
    y = [np.array([c.hit.paper.title in q.gold_titles for c in found], dtype=int) for q, found in rows]
    return LogisticRegression(C=1.0, max_iter=3000).fit(np.vstack([a[k] for a, k in zip(x, keep)]),
                                                        np.concatenate([b[k] for b, k in zip(y, keep)]))


def _best(rows: list[Row], options: list, score, min_precision: float):
    results = [(score(rows, o), o) for o in options]
    ok = [r for r in results if r[0][1] >= min_precision] or results
    return max(ok, key=lambda r: (r[0][0], r[0][1]))[1]


def _drop_kept(prob: np.ndarray, lo: float, hi: float, min_gap: float) -> np.ndarray:
    """Probabilities with the papers the largest-drop rule keeps raised to 1 and the others set to 0."""
    order = np.argsort(-prob)
    ranked = _logit(prob[order])
    n_hi = max(MIN_KEEP, int((prob >= hi).sum()))
    n_lo = min(CAP, max(n_hi, int((prob >= lo).sum())))
    n = n_hi
    if n_lo > n_hi:
        gaps = ranked[n_hi - 1:n_lo] - ranked[n_hi:n_lo + 1]
        k = int(np.argmax(gaps))
        n = n_hi + k if gaps[k] >= min_gap else n_lo
    out = np.zeros(len(prob))
    out[order[:n]] = 1.0
    return out


def cross_validate(rows: list[Row], vectors: list[np.ndarray], variant: str, min_precision: float) -> np.ndarray:
    base = [np.array([c.features() for c in found]) for _, found in rows]
    extra = SECOND_STAGE.get(variant, [])
    held_out = []
    for i in range(len(rows)):
        train = [j for j in range(len(rows)) if j != i]
        bar = _fit([base[j] for j in train], [rows[j] for j in train])

        def stage(j: int, model=None, bar=bar):
            prob = bar.predict_proba(base[j])[:, 1]
            if not extra:
                return prob
            feats = topic_features(prob, vectors[j])
            x = np.column_stack([base[j], feats["lp"]] + [feats[k] for k in extra])
            return x if model is None else model.predict_proba(x)[:, 1]

        if variant == "largest drop":
            probs = [stage(j) for j in train]
            option = _best([rows[j] for j in train], DROP_GRID,
                           lambda rs, o, probs=probs: recall_precision(rs, [_drop_kept(p, *o) for p in probs], 0.5),
                           min_precision)
            held_out.append(recall_precision([rows[i]], [_drop_kept(stage(i), *option)], 0.5))
            continue
        second = _fit([stage(j) for j in train], [rows[j] for j in train]) if extra else None
        probs = [stage(j, second) for j in train]
        floor = _best([rows[j] for j in train], FLOORS, lambda rs, f, probs=probs: recall_precision(rs, probs, f),
                      min_precision)
        held_out.append(recall_precision([rows[i]], [stage(i, second)], floor))
    return np.mean(held_out, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-precision", type=float, default=0.70)
    parser.add_argument("--variants", nargs="*", default=["global floor", *SECOND_STAGE, "largest drop"])
    args = parser.parse_args()
    settings = Settings()
    corpus = corpus_vectors(get_assistant(settings).retriever)
    rows = [(q, summary_candidates(topic, settings=settings)) for q, topic in questions() if q.split == "dev"]
    vectors = [corpus.papers[[corpus.row[c.hit.paper_id] for c in found]] for _, found in rows]
    print(f"dev, {len(rows)} questions, leave-one-question-out; recall / precision at precision >= {args.min_precision}")
    for variant in args.variants:
        rec, prec = cross_validate(rows, vectors, variant, args.min_precision)
        print(f"  {variant:14s} {rec:.3f} / {prec:.3f}", flush=True)


if __name__ == "__main__":
    main()
