"""``papers eval diff OLD NEW``: what got better or worse, overall and question by question."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.errors import PapersError
from evals import metrics as M


def _load(run: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    report, results = run / "report.json", run / "results.jsonl"
    if not report.is_file() or not results.is_file():
        raise PapersError(f"{run} is not an eval run (no report.json/results.jsonl): pass the --out dir of `papers eval`")
    rows: dict[str, dict[str, Any]] = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.setdefault(r["id"], r)  # the first backend of the run
    return json.loads(report.read_text()), rows


def _outcome(r: dict[str, Any]) -> float:
    """One number per question: 1 correct abstention / 0 wrong, else reciprocal rank of the first gold paper."""
    if r["kind"] == "abstain":
        return 1.0 if r["abstained"] else 0.0
    if r["abstained"]:
        return 0.0
    return M.mrr_at(r["ranked10"], set(r["gold_titles"]), 10)


def diff_runs(old: Path, new: Path) -> dict[str, Any]:
    old_report, old_rows = _load(old)
    new_report, new_rows = _load(new)
    o = next(iter(old_report["runs"].values()))["overall"]
    n = next(iter(new_report["runs"].values()))["overall"]
    metrics = {k: {"old": o.get(k), "new": n.get(k), "delta": (n[k] - o[k]) if isinstance(o.get(k), float) and isinstance(n.get(k), float) else None}
               for k in sorted(set(o) | set(n)) if k != "n"}
    better, worse = [], []
    for qid in sorted(set(old_rows) & set(new_rows)):
        a, b = _outcome(old_rows[qid]), _outcome(new_rows[qid])
        entry = {"id": qid, "question": new_rows[qid]["question"], "old": round(a, 3), "new": round(b, 3),
                 "old_citations": old_rows[qid]["citations"], "new_citations": new_rows[qid]["citations"]}
        if b > a:
            better.append(entry)
        elif b < a:
            worse.append(entry)
    return {"metrics": metrics, "better": better, "worse": worse,
            "only_old": sorted(set(old_rows) - set(new_rows)), "only_new": sorted(set(new_rows) - set(old_rows))}
