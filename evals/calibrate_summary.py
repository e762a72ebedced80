"""Fit the summary relevance bar on dev overview questions only, and report it on the frozen test split.

Run: .venv/bin/python -m evals.calibrate_summary
Questions: ``subfield`` questions of evals/datasets/overview.jsonl and gold.jsonl, and ``overview`` questions of
hard.jsonl (asked in chat: their topic is what `assistant.route.overview_topic` extracts). A logistic regression
(scikit-learn) over ``Candidate.features()`` is fitted on the dev split's candidates (gold titles = 1, others
= 0, acceptable titles left out), then the probability floor is chosen on dev: the highest recall whose mean
precision stays at least ``--min-precision``. Leave-one-question-out cross-validation on dev (fit and floor
chosen without the held-out question) estimates how that choice does on questions it was not fitted on.
Test figures are printed beside, never used for a choice. Prints the weights and the floor; changes nothing
(copy them into assistant/gather.py and common/settings.py by hand).

The on-topic gate (``assistant.gather.TOPIC_GATE``): ``topic_score``, (1 - a) x the best cosine + a x the best
keyword coverage among a topic's ten best candidates, with the weight a (0 to 0.6 in steps of 0.05) whose line
leaves the widest margin between the highest of the dev generic off-topic questions of hard.jsonl (asked as a
summary topic, as typed and as `overview_topic` reads them) and the lowest of the dev summary questions; the
bar with the fewest dev errors (summary topics under it, generic questions and abstain questions worded as
overview requests at or over it; the higher bar on a tie). A topic's score is its own or its head's
(``topic_head``: "calibration" of "calibration, whether a model's confidence ..."), the higher, as
``on_topic`` judges it. Printed with how many
dev summary topics `assistant.gather.on_topic` turns away (all, and those with at least three gold papers) and
how many generic off-topic and other abstain dev questions (hard.jsonl and gold.jsonl) it lets through, the
gate chosen without the question judged (leave one out).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.api import summary_candidates
from assistant.gather import MIN_KEEP, PAD_RELATIVE, Candidate, on_topic, topic_core, topic_head, topic_score
from assistant.route import overview_topic, question_kind
from common.settings import Settings
from evals.dataset import Question, load_dataset

DATASETS = Path(__file__).parent / "datasets"
CAP = 20  # summary_max_papers
FLOORS = [f / 100 for f in range(2, 61, 2)]
Row = tuple[Question, list[Candidate]]
Features = Callable[[Candidate], list[float]]


def questions() -> list[tuple[Question, str]]:
    """(question, topic the summary is asked for) for every summary-scored question of the eval sets."""
    out = [(q, q.question) for name in ("overview.jsonl", "gold.jsonl") for q in load_dataset(DATASETS / name)
           if q.kind == "subfield"]
    return out + [(q, overview_topic(q.question)) for q in load_dataset(DATASETS / "hard.jsonl") if q.kind == "overview"]


def recall_precision(rows: list[Row], probs: list[np.ndarray], floor: float) -> tuple[float, float]:
    """Mean recall of gold and precision against gold + acceptable when papers at or above ``floor`` are kept
    (at least ``MIN_KEEP`` of those at least ``PAD_RELATIVE`` of the best, at most ``CAP``), as
    `assistant.gather.select` keeps them."""
    recalls, precisions = [], []
    for (q, found), prob in zip(rows, probs):
        order = np.argsort(-prob)
        kept = [found[i].hit.paper.title for i in order if prob[i] >= floor]
        if len(kept) < MIN_KEEP:
            top = prob[order[0]] if len(order) else 0.0
            kept = [found[i].hit.paper.title for i in order[:MIN_KEEP] if prob[i] >= floor or prob[i] >= PAD_RELATIVE * top]
        kept_set = set(kept[:CAP])
        gold, ok = set(q.gold_titles), set(q.gold_titles) | set(q.acceptable_titles)
        recalls.append(len(kept_set & gold) / len(gold))
        precisions.append(len(kept_set & ok) / len(kept_set) if kept_set else 0.0)
    return float(np.mean(recalls)), float(np.mean(precisions))


def fit(rows: list[Row], min_precision: float, features: Features = Candidate.features):
    """(model, floor): the logistic bar over ``features`` fitted on ``rows`` and the floor with the best recall at
    that precision."""
    from sklearn.linear_model import LogisticRegression

    x, y = [], []
    for q, found in rows:
        for c in found:
            if c.hit.paper.title not in q.acceptable_titles:
                x.append(features(c))
                y.append(1 if c.hit.paper.title in q.gold_titles else 0)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(x), np.array(y))
    probs = scored(model, rows, features)
    results = [(recall_precision(rows, probs, f), f) for f in FLOORS]
    ok = [r for r in results if r[0][1] >= min_precision] or results
    return model, max(ok, key=lambda r: (r[0][0], r[0][1]))[1]


def scored(model, rows: list[Row], features: Features = Candidate.features) -> list[np.ndarray]:
    return [model.predict_proba(np.array([features(c) for c in found]))[:, 1] for _, found in rows]


def leave_one_out(rows: list[Row], min_precision: float,
                  features: Features = Candidate.features) -> tuple[np.ndarray, list[np.ndarray]]:
    """Leave-one-question-out: the mean held-out (recall, precision), each question scored by the bar and floor
    fitted without it, and those out-of-fold probabilities (one array per question)."""
    held, oof = [], []
    for i, row in enumerate(rows):
        model, floor = fit(rows[:i] + rows[i + 1:], min_precision, features)
        prob = scored(model, [row], features)
        held.append(recall_precision([row], prob, floor))
        oof.append(prob[0])
    return np.mean(held, axis=0), oof


def abstain_topics() -> list[tuple[Question, str]]:
    """(question, topic) for the abstain questions of hard.jsonl and gold.jsonl, as typed and as routed."""
    qs = [q for name in ("hard.jsonl", "gold.jsonl") for q in load_dataset(DATASETS / name) if q.kind == "abstain"]
    return [(q, t) for q in qs for t in dict.fromkeys([q.question, overview_topic(q.question)])]


GateRow = tuple[Question, list[Candidate], "list[Candidate] | None"]  # a question, its candidates, its head's


def gate_row(q: Question, topic: str, settings: Settings, found: list[Candidate] | None = None) -> GateRow:
    """The question with its topic's candidates (``found`` when already computed) and, when the topic has a head
    (``topic_head``), the head's."""
    head = topic_head(topic_core(topic))
    found = summary_candidates(topic, settings=settings) if found is None else found
    return q, found, summary_candidates(head, settings=settings) if head else None


def gate_score(row: GateRow, weight: float) -> float:
    """What ``assistant.gather.on_topic`` compares with the bar: the topic's score or its head's, the higher."""
    return max(topic_score(row[1], weight), topic_score(row[2], weight) if row[2] else 0.0)


def on_topic_gate(positives: list[GateRow], generic: list[GateRow], routed: list[GateRow] = ()) -> tuple[float, float]:
    """(coverage weight, bar). The weight: the line with the widest margin between the generic off-topic
    questions and the topics. The bar: the fewest dev errors (topics under it, plus generic questions and
    abstain questions worded as overview requests at or over it), the higher bar on a tie, midway between the
    two scores it falls between."""
    def margin(w: float) -> float:
        return min(gate_score(r, w) for r in positives) - max(gate_score(r, w) for r in generic)

    weight = max((round(0.05 * i, 2) for i in range(13)), key=margin)
    pos = [gate_score(r, weight) for r in positives]
    neg = [gate_score(r, weight) for r in list(generic) + list(routed)]
    scores = sorted(set(pos + neg))
    bars = [(a + b) / 2 for a, b in zip(scores, scores[1:])] or [scores[0]]
    errors = {bar: sum(p < bar for p in pos) + sum(n >= bar for n in neg) for bar in bars}
    bar = min(bars, key=lambda b: (errors[b], -b))
    return weight, round(bar, 4)


def on_topic_report(settings: Settings, dev_topics: list[tuple[Question, str, list[Candidate]]]) -> None:
    dev = [gate_row(q, t, settings, found) for q, t, found in dev_topics]
    absent = [(t, gate_row(q, t, settings)) for q, t in abstain_topics() if q.split == "dev"]
    generic = [row for _, row in absent if row[0].abstain_kind == "generic"]
    # abstain questions a user would get a summary for: worded as an overview request, asked as routed
    routed = [row for t, row in absent if row[0].abstain_kind != "generic" and question_kind(row[0].question) == "summary"
              and t == overview_topic(row[0].question)]
    gate = on_topic_gate(dev, generic, routed)
    everyone = [("topic", row) for row in dev] + [("generic", row) for row in generic] + [("routed", row) for row in routed]
    everyone += [("absent", row) for _, row in absent if row[0].abstain_kind != "generic"]
    passed: dict[str, list[bool]] = {"topic": [], "topic3": [], "generic": [], "routed": [], "absent": []}
    for i, (kind, row) in enumerate(everyone):
        rest = everyone[:i] + everyone[i + 1:]
        ok = on_topic(row[1], on_topic_gate(*([r for k, r in rest if k == name] for name in ("topic", "generic", "routed"))),
                      head=row[2])
        passed[kind].append(ok)
        if kind == "topic" and len(row[0].gold_titles) >= 3:
            passed["topic3"].append(ok)
    print(f"TOPIC_GATE = {gate}  (on-topic gate: coverage weight, bar; leave one out on dev:)")
    print(f"  dev summary topics turned away {passed['topic'].count(False)} of {len(passed['topic'])} "
          f"({passed['topic3'].count(False)} of {len(passed['topic3'])} with >= 3 gold papers); let through: "
          f"generic off-topic {sum(passed['generic'])} of {len(generic)}, abstain questions worded as overview "
          f"requests {sum(passed['routed'])} of {len(routed)}, any abstain question {sum(passed['absent'])} of "
          f"{len(passed['absent'])} (hard.jsonl in-domain absent, gold.jsonl abstain; topics as typed and as routed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-precision", type=float, default=0.70)
    args = parser.parse_args()
    settings = Settings()
    asked = questions()
    data = [(q, summary_candidates(topic, settings=settings)) for q, topic in asked]
    dev = [row for row in data if row[0].split == "dev"]
    test = [row for row in data if row[0].split == "test"]
    cv, _ = leave_one_out(dev, args.min_precision)
    model, floor = fit(dev, args.min_precision)
    print(f"WEIGHTS = {tuple(round(float(w), 3) for w in model.coef_[0])}  # z, title_coverage, prf, bm25, bm25_expanded")
    print(f"INTERCEPT = {float(model.intercept_[0]):.3f}")
    print(f"summary_min_relevance={floor:.2f}")
    print(f"  dev, leave-one-question-out ({len(dev)} questions): recall {cv[0]:.3f} precision {cv[1]:.3f}")
    for name, rows in (("dev", dev), ("test", test)):
        by = {}
        for row in rows:
            by.setdefault(row[0].id.split("-")[0], []).append(row)
        parts = "; ".join(f"{k} ({len(v)}) " + "{:.3f} / {:.3f}".format(*recall_precision(v, scored(model, v), floor))
                          for k, v in sorted(by.items()))
        rec, prec = recall_precision(rows, scored(model, rows), floor)
        print(f"  {name} ({len(rows)} questions): recall {rec:.3f} precision {prec:.3f}   [{parts}]"
              + ("  (frozen: reported, not tuned on)" if name == "test" else ""))
    on_topic_report(settings, [(q, t, f) for (q, t), (_, f) in zip(asked, data) if q.split == "dev"])


if __name__ == "__main__":
    main()
