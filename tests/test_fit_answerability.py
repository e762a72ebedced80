"""The answerability fit: what the runtime applies is what scikit-learn fitted, and the threshold keeps
cross-validated false abstention within its bar (synthetic examples; the real fit is `python -m evals.fit_answerability`)."""

from __future__ import annotations

import json
import random

import pytest

from assistant.answerability import AnswerabilityModel, _logistic
from evals.fit_answerability import FEATURES, Model, cross_validate, export, outcomes, pick_threshold, predict


def _rows(n: int = 120, seed: int = 0) -> list[dict]:
    """Questions with five retrieved papers each: answerable ones have one gold paper whose evidence is
    stronger (noisy), unanswerable ones have none."""
    rng = random.Random(seed)
    rows = []
    for q in range(n):
        kind = "lookup" if q % 3 else "abstain"
        feats, labels = [], []
        for rank in range(5):
            gold = kind == "lookup" and rank == 0
            base = 0.6 if gold else 0.3
            feats.append({f: min(1.0, max(0.0, base + rng.gauss(0, 0.12))) for f in FEATURES})
            labels.append(1 if gold else 0)
        rows.append({"id": f"q{q}", "kind": kind, "abstain_kind": "in_domain" if kind == "abstain" else None, "split": "dev",
                     "features": feats, "halves": [], "labels": labels, "gold": ["g"] if kind == "lookup" else [],
                     "titles": ["g" if kind == "lookup" and r == 0 else f"t{r}" for r in range(5)]})
    return rows


def test_runtime_model_gives_the_probabilities_scikit_learn_fitted(tmp_path):
    rows = _rows()
    model = Model(rows, ("coverage", "dense", "bm25"), C=0.1)
    spec = export(model, 0.6, 0.3, {})
    path = tmp_path / "model.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    runtime = AnswerabilityModel(picker=None, path=path)  # type: ignore[arg-type]
    feats = rows[1]["features"]
    assert [round(runtime.probability(f), 6) for f in feats] == pytest.approx([round(p, 6) for p in model.proba(feats)], abs=1e-5)
    assert runtime.features == ["coverage", "dense", "bm25"] and runtime.relevant == 0.6


def test_threshold_keeps_cross_validated_false_abstention_within_its_bar():
    rows = _rows()
    oof = cross_validate(rows, folds=5, features=("coverage", "dense"), C=0.1)
    t = pick_threshold(rows, oof, max_false=0.02)
    assert outcomes(rows, oof, t)["false_abstention_ask"] <= 0.02
    # and it is the highest such threshold: one step up refuses more answerable questions than allowed
    assert t >= 0.985 or outcomes(rows, oof, t + 0.005)["false_abstention_ask"] > 0.02
    assert len(predict(Model(rows, ("coverage",), 0.1), rows[:3])) == 3



def test_runtime_cascade_applies_both_stages_the_fit_fitted(tmp_path):
    """With late-interaction features the fit is a cascade: the JSON carries the cheap stage (the model without
    them) and its band, and both stages give at runtime what scikit-learn fitted."""
    rows = _rows()
    model = Model(rows, ("coverage", "dense", "li_mean", "li_low"), C=0.1, band=(0.3, 0.97))
    spec = export(model, 0.6, 0.3, {})
    path = tmp_path / "model.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    runtime = AnswerabilityModel(picker=None, path=path)  # type: ignore[arg-type]
    assert runtime.cheap is not None and runtime.cheap["features"] == ["coverage", "dense"] and runtime.cheap["band"] == [0.3, 0.97]
    feats = rows[1]["features"] + rows[3]["features"]
    cheap = [_logistic(runtime.cheap, f) for f in feats]
    assert cheap == pytest.approx(model.cheap.proba(feats), abs=1e-5)
    cascade = [runtime.probability(f) if 0.3 <= c <= 0.97 else c for c, f in zip(cheap, feats)]
    assert cascade == pytest.approx(model.proba(feats), abs=1e-5)


def test_overview_questions_do_not_change_the_fitted_model():
    """The model judges the sources of lookups and comparisons (and questions to abstain on); an overview
    question goes to the summary path, so its loosely topical gold papers are no training examples."""
    rows = _rows()
    overview = [dict(r, id=f"o{i}", kind="overview", labels=[1] * 5) for i, r in enumerate(_rows(30, seed=1))]
    alone, mixed = Model(rows, ("coverage", "dense"), 0.1), Model(rows + overview, ("coverage", "dense"), 0.1)
    feats = rows[1]["features"]
    assert mixed.proba(feats) == pytest.approx(alone.proba(feats))


def _with_ablations(rows: list[dict], seed: int = 2) -> list[dict]:
    """Each lookup also gets its ablated copy: the same question with its gold paper gone, so five near misses
    whose best one looks nearly as strong as a gold paper (label 0)."""
    rng = random.Random(seed)
    out = []
    for r in rows:
        if r["kind"] == "lookup":
            feats = [{f: min(1.0, max(0.0, (0.55 if rank == 0 else 0.3) + rng.gauss(0, 0.12))) for f in FEATURES} for rank in range(5)]
            r = dict(r, ablated=[{"features": feats, "halves": [], "labels": [0] * 5, "titles": [f"t{i}" for i in range(5)]}])
        out.append(r)
    return out


def test_an_ablated_copy_is_held_out_with_its_own_question():
    """Cross-validation deals a question's ablated copies into its fold: what they hold never changes the
    out-of-fold probability of their own question, only the models that judge the other folds."""
    rows = _with_ablations(_rows())
    oof = cross_validate(rows, folds=5, features=("coverage", "dense"), C=0.1, ablation_weight=1.0)
    i = 1  # a lookup
    changed = [dict(r) for r in rows]
    changed[i]["ablated"] = [dict(changed[i]["ablated"][0], features=[{f: 1.0 for f in FEATURES}] * 5)]
    moved = cross_validate(changed, folds=5, features=("coverage", "dense"), C=0.1, ablation_weight=1.0)
    assert moved[i] == oof[i]
    assert any(m != o for j, (m, o) in enumerate(zip(moved, oof)) if j != i)


def test_ablated_copies_train_only_with_a_weight_and_never_count_in_the_figures():
    rows = _rows()
    ablated = _with_ablations(rows)
    near_miss = [{f: 0.55 for f in FEATURES}]
    plain, unweighted = Model(rows, ("coverage", "dense"), 0.1), Model(ablated, ("coverage", "dense"), 0.1)
    weighted = Model(ablated, ("coverage", "dense"), 0.1, ablation_weight=1.0)
    assert unweighted.proba(near_miss) == pytest.approx(plain.proba(near_miss))
    assert weighted.proba(near_miss)[0] < plain.proba(near_miss)[0]  # a strong near miss is now less likely relevant
    probs = predict(weighted, ablated)
    assert outcomes(ablated, probs, 0.5) == pytest.approx(outcomes(rows, probs, 0.5), nan_ok=True)  # the real questions only


@pytest.mark.slow  # the session index uses the real MiniLM model
def test_ablated_retrieval_is_the_runtime_retrieval_without_the_missing_paper(real_settings):
    """Nothing absent: the papers the runtime retrieves, in its order. The top paper absent: k papers again,
    none of them it, the runner-up now first (its rank and gap features are those of a rank-1 near miss)."""
    from assistant.api import get_assistant
    from evals.fit_answerability import ablated_retrieval

    retriever = get_assistant(real_settings()).retriever
    question = "Which methods compress the KV cache to make long-context inference cheaper?"
    runtime = retriever.retrieve(question).hits
    assert [h.paper_id for h in ablated_retrieval(retriever, question, set())] == [h.paper_id for h in runtime]
    without = ablated_retrieval(retriever, question, {runtime[0].paper.title})
    assert len(without) == len(runtime) and runtime[0].paper_id not in {h.paper_id for h in without}
    assert without[0].paper_id == runtime[1].paper_id
