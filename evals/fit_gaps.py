"""Fit the specificity bar of the gap notice on dev: ``python -m evals.fit_gaps``.

Every dev lookup, comparison and question to abstain on of hard.jsonl is answered with the extractive backend
(as ``papers eval`` answers it). For each bar (``PAPERS_GAP_MAX_SHARE``: the share of abstracts a word may be
used by and still count as specific) it prints the share of ANSWERED lookups and comparisons whose answer gets
a gap notice ('None of the cited papers mention ...': a false alarm, since these are answerable; also among
those citing a gold paper) and the share of ANSWERED questions to abstain on (answered by mistake) that get one
(the catch rate), with a few examples. Pre-registered rule: the default is the most permissive bar whose false
alarm rate on answered dev lookups and comparisons is at most 5%. The test split is never read.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

from assistant.api import get_assistant
from common.settings import Settings
from evals.dataset import load_dataset, select_split

DATASET = Path(__file__).parent / "datasets" / "hard.jsonl"
BARS = (0.0, 0.004, 0.008, 0.012, 0.016, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2)
MAX_FALSE_ALARMS = 0.05  # pre-registered


def answered(settings: Settings, dataset: Path) -> list[dict[str, Any]]:
    """The dev lookups, comparisons and questions to abstain on, answered: whether the answer abstained, the
    terms its notice names at the configured bar, and the cited papers."""
    a = get_assistant(settings)
    rows = []
    for q in select_split(load_dataset(dataset), "dev"):
        if q.kind not in ("lookup", "compare", "abstain"):
            continue
        ans = a.ask(q.question, backend="extractive")
        rows.append({"question": q.question, "kind": q.kind, "abstained": ans.abstained, "terms": ans.missing_terms,
                     "papers": [(c.title, c.abstract) for c in ans.citations],
                     "right": bool({c.title for c in ans.citations} & set(q.gold_titles))})
    return rows


def curve(settings: Settings, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    gaps = get_assistant(settings).gaps
    out = []
    for bar in BARS:
        gaps.max_df = bar * gaps.picker.n
        fired = [bool(gaps.missing(r["question"], r["papers"])) for r in rows]
        out.append({"bar": bar, "max_df": int(gaps.max_df),
                    "false_alarms": _share(rows, fired, lambda r: r["kind"] != "abstain"),
                    "false_alarms_right": _share(rows, fired, lambda r: r["kind"] != "abstain" and r["right"]),
                    "catch": _share(rows, fired, lambda r: r["kind"] == "abstain")})
    return out


def _share(rows: list[dict[str, Any]], fired: list[bool], want: Callable[[dict[str, Any]], bool]) -> float:
    """The share of the rows ``want`` selects whose answer gets a notice."""
    return mean([f for r, f in zip(rows, fired) if want(r)] or [0.0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--examples", type=int, default=8, help="examples printed at the chosen bar")
    args = parser.parse_args(argv)
    settings = Settings()
    everything = answered(settings, args.dataset)
    rows = [r for r in everything if not r["abstained"]]
    answerable = [r for r in rows if r["kind"] != "abstain"]
    print(f"answered dev: {len(answerable)} lookups+comparisons ({sum(r['right'] for r in answerable)} citing a gold paper), "
          f"{len(rows) - len(answerable)} questions to abstain on")
    print(f"{'bar':>6} {'max df':>6} {'false alarms':>12} {'on right':>9} {'catch':>6}")
    table = curve(settings, rows)
    for c in table:
        print(f"{c['bar']:>6.3f} {c['max_df']:>6d} {c['false_alarms']:>12.3f} {c['false_alarms_right']:>9.3f} {c['catch']:>6.3f}")
    chosen = max((c for c in table if c["false_alarms"] <= MAX_FALSE_ALARMS), key=lambda c: c["bar"])
    print(f"chosen (most permissive bar with false alarms <= {MAX_FALSE_ALARMS}): {chosen['bar']} "
          f"(max df {chosen['max_df']} of {get_assistant(settings).picker.n} abstracts)")
    for label, want in (("unanswerable", True), ("answerable", False)):  # 'No paper in the collection mentions ...'
        refused = [r for r in everything if r["abstained"] and (r["kind"] == "abstain") == want]
        print(f"abstained {label} dev questions naming a term no paper uses (PAPERS_GAP_MAX_SHARE="
              f"{settings.answer.gap_max_share}): {sum(bool(r['terms']) for r in refused)} of {len(refused)}")
    gaps = get_assistant(settings).gaps
    gaps.max_df = chosen["bar"] * gaps.picker.n
    print("answers with a notice at the chosen bar:")
    for kind in ("abstain", "lookup", "compare"):
        shown = [(r["question"], t) for r in rows if r["kind"] == kind for t in [gaps.missing(r["question"], r["papers"])] if t]
        for question, terms in shown[: args.examples]:
            print(f"  [{kind}] {terms}  <- {question}")

if __name__ == "__main__":
    main()
