"""Evals page: pick a saved eval run, read its tables and plots, compare two runs."""

from __future__ import annotations

import json

import streamlit as st

from evals.diff import diff_runs
from evals.saved import eval_runs
from ui.common import md_escape, settings


def main() -> None:
    st.title("Eval runs")
    runs = eval_runs(settings())
    if not runs:
        st.info("No saved eval runs yet. Run `papers eval --out eval-runs/NAME` to create one.")
        return
    labels = [str(r) for r in runs]
    pick = st.selectbox("Run", labels, key="eval_run")
    run = runs[labels.index(pick)]
    report = json.loads((run / "report.json").read_text())
    st.caption(f"{report['questions']} questions from {report['dataset']}; judge: {report['judge']}")
    for name, data in report["runs"].items():
        st.subheader(f"Backend: {md_escape(name)}")
        kinds = list(data["by_kind"])
        metrics = [m for m in data["overall"] if m != "n"]
        st.dataframe([{"metric": m, "all": data["overall"].get(m), **{k: data["by_kind"][k].get(m) for k in kinds}} for m in metrics],
                     hide_index=True, use_container_width=True)
    if report.get("retrieval_comparison"):
        st.subheader("Retrieval comparison")
        st.dataframe([{"mode": mode, **vals["all"]} for mode, vals in report["retrieval_comparison"].items()], hide_index=True)
    for png in ("metrics_by_kind.png", "latency.png", "compare.png"):
        if (run / png).is_file():
            st.image(str(run / png))
    if len(runs) > 1:
        st.subheader("Compare two runs")
        other = st.selectbox("Against", [label for label in labels if label != pick], key="eval_other")
        diff = diff_runs(runs[labels.index(other)], run)
        st.dataframe([{"metric": k, **v} for k, v in diff["metrics"].items()], hide_index=True)
        st.caption(f"Better on {len(diff['better'])} question(s), worse on {len(diff['worse'])}")
        st.dataframe(diff["better"] + diff["worse"], hide_index=True)


main()
