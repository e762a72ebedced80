"""How a subfield summary is shown in the chat: overview, then per theme its bullets and a side-by-side table.

Every piece of corpus text (theme names, quotes, titles) is escaped: it is data, not markup. Tables are
rendered by ``st.table`` from plain strings, so nothing in a cell is interpreted.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.common import md_answer, md_escape


def summary_turn(question: str, summary: Any, citations: list[dict]) -> dict:
    """A chat turn holding everything needed to redraw the summary on a rerun (plain data only)."""
    themes = [{"name": t.name, "summary": t.summary, "items": [i.sentence for i in t.items],
               "table": [{"paper": f"[{r.n}] {r.title}", "problem": r.problem, "method": r.method, "key result": r.result}
                         for r in t.table]} for t in summary.themes]
    raw = " ".join(i.sentence for t in summary.themes for i in t.items)
    return {"question": question, "abstained": summary.abstained, "text": summary.overview, "raw_text": raw,
            "citations": citations, "notices": summary.notices, "markdown": summary.markdown(), "is_summary": True,
            "themes": themes, "also_relevant": [c.title for c in summary.also_relevant]}


def render_summary(turn: dict) -> None:
    st.markdown(md_answer(turn["text"]))
    for theme in turn.get("themes", []):
        st.markdown(f"#### {md_escape(theme['name'])}")
        st.markdown("\n".join(f"- {md_answer(s)}" for s in theme["items"]))
        if theme["table"]:
            st.table(theme["table"])
    if turn.get("also_relevant"):
        st.markdown("**Also relevant:** " + "; ".join(md_escape(t) for t in turn["also_relevant"]))
