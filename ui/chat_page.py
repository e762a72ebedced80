"""Chat page: ask, watch the answer stream, open the cited papers; or summarize a subfield."""

from __future__ import annotations

import streamlit as st

import assistant
import assistant.api
from common.errors import PapersError
from assistant import Filters
from assistant.text import split_sentences, strip_citations
from ui.common import html_escape, loaded_assistant, md_answer, md_escape, ready, settings, show_link
from ui.summary_view import render_summary, summary_turn

BACKENDS = ["auto", "extractive", "local", "openai"]
KINDS = ["auto", "answer", "compare", "summary"]
KIND_HELP = ("auto = from the question: \"compare A and B\" gets a side-by-side table, \"which papers deal with X?\" "
             "a theme-by-theme summary of every relevant paper; or force one")
JUDGEMENT = {"relevant": ("Judged relevant", "green", ":material/check_circle:"),
             "loose": ("Loosely related", "orange", ":material/help:")}


def sidebar() -> dict:
    s = settings()
    with st.sidebar:
        st.header("Settings")
        backend = st.selectbox("Backend", BACKENDS, index=BACKENDS.index(s.llm.llm), key="backend",
                               help="auto = openai when OPENAI_API_KEY is set, else extractive")
        if backend in ("openai", "auto") and s.llm.openai_api_key is not None or backend == "openai":
            st.caption(f"Model: {s.llm.llm_model}" + (f" at {s.llm.openai_base_url}" if s.llm.openai_base_url else ""))
        elif backend == "local":
            problem = assistant.api.backend_problem("local", s)
            if problem:  # the local-llm extra is optional: say how to install it instead of failing per question
                st.warning(problem)
            else:
                st.caption("Model: SmolLM2-135M-Instruct (GGUF, in-process)")
        mode = st.selectbox("Retrieval", ["hybrid", "dense", "bm25"], key="mode")
        k = st.slider("Sources", 1, 10, s.retrieval.top_k, key="k")
        years = st.slider("Years", 2010, 2026, (2010, 2026), key="years")
        author = st.text_input("Author contains", key="author")
        kind = st.selectbox("Answer as", KINDS, key="answer_kind", help=KIND_HELP)
        breadth = st.select_slider("Summary breadth", ["narrow", "normal", "wide"], value=s.summary.summary_breadth,
                                   key="breadth", help="narrow: only the closest papers; wide: also those that touch the topic")
        col1, col2 = st.columns(2)
        if col1.button("Clear", key="clear", use_container_width=True):
            st.session_state.pop("chat", None)
            st.session_state.turns = []
        turns = st.session_state.get("turns", [])
        col2.download_button("Export", data=export(turns), file_name="conversation.md", mime="text/markdown",
                             key="export", use_container_width=True, disabled=not turns)
        try:
            stats = assistant.index_stats(s)
            st.caption(f"Index: {stats['papers']} papers, {stats['chunks']} chunks, {stats['embedder']}")
        except PapersError:
            pass
    filters = Filters(year_from=years[0] if years[0] > 2010 else None, year_to=years[1] if years[1] < 2026 else None,
                      author=author or None)
    return {"backend": None if backend == "auto" else backend, "mode": mode, "k": k,
            "filters": filters if filters.active() else None, "kind": kind, "breadth": breadth}


def export(turns: list[dict]) -> str:
    parts = []
    for t in turns:
        parts.append(f"## {t['question']}\n\n{t['markdown']}")
    return "\n\n".join(parts) or "(empty conversation)"


def highlighted_abstract(abstract: str, cited_sentences: list[str]) -> str:
    """The abstract, escaped, with the sentences the answer quoted or drew on marked."""
    out = []
    for sentence in split_sentences(abstract):
        esc = html_escape(sentence)
        hit = any(c and (c in sentence or sentence in c) for c in cited_sentences)
        out.append(f"<mark>{esc}</mark>" if hit else esc)
    return " ".join(out)


def render_sources(citations: list[dict], answer_text: str) -> None:
    for c in citations:
        said = [strip_citations(s).rstrip(".") for s in split_sentences(answer_text) if f"[{c['n']}]" in s]
        label, color, icon = JUDGEMENT.get(c.get("judgement") or "relevant", JUDGEMENT["loose"])
        with st.expander(f"[{c['n']}] {md_escape(c['title'])}", icon=icon):
            st.badge(label, color=color)
            meta = " · ".join(x for x in (", ".join(c["authors"]), c.get("date") or "") if x)
            if meta:
                st.caption(md_escape(meta))
            show_link(c.get("url"))
            st.markdown(highlighted_abstract(c["abstract"], said), unsafe_allow_html=True)


def comparison_table(rows: list[dict]) -> str:
    """The comparison as an escaped HTML table (cells are corpus text, so never markup)."""
    head = "".join(f"<th>{h}</th>" for h in ("Paper", "Problem", "Method", "Result"))
    body = "".join(
        "<tr>" + f"<td><b>[{r['n']}]</b> {html_escape(r['title'])}</td>"
        + "".join(f"<td>{html_escape(r[c]) or '—'}</td>" for c in ("problem", "method", "result")) + "</tr>"
        for r in rows)
    return (f'<table class="papers-compare" style="width:100%;font-size:0.85em;border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def render_gap(turn: dict) -> None:
    """The question's terms the cited papers (or the collection) never mention: a caution of its own, not a note."""
    if turn.get("gap"):
        st.markdown(f":orange-badge[:material/report: Not in the sources] {md_escape(turn['gap'])}")


def render_not_covered(turn: dict) -> None:
    """Only loosely related papers: say so, list their titles, and quote none of their sentences."""
    with st.container(border=True):
        st.markdown("**:material/travel_explore: Not directly covered.** No paper in the corpus answers this; "
                    "the closest papers are:")
        for c in turn.get("closest", []):
            st.markdown(f"- {md_escape(c)}")
        render_gap(turn)


def render_turn(turn: dict) -> None:
    with st.chat_message("user"):
        st.markdown(md_escape(turn["question"]))
    with st.chat_message("assistant"):
        if turn.get("error"):
            st.error(turn["error"])
        elif turn.get("status") == "not_covered":
            render_not_covered(turn)
        elif turn["abstained"]:
            st.warning(f"**No answer in the corpus.** {md_escape(turn['text'])}", icon=":material/search_off:")
            render_gap(turn)
        else:
            if turn.get("is_summary"):
                render_summary(turn)
            else:
                st.markdown(md_answer(turn["text"]))
            render_gap(turn)
            if turn.get("comparison"):
                with st.container(border=True):
                    st.markdown("**:material/compare_arrows: Side by side**")
                    st.markdown(comparison_table(turn["comparison"]), unsafe_allow_html=True)
            for n in turn.get("notices", []):
                st.caption(f"note: {md_escape(n)}")
            render_sources(turn["citations"], turn["raw_text"])


def citation_dicts(citations, sources: list[dict] | None = None) -> list[dict]:
    judged = {s.get("paper_id"): s.get("judgement") for s in sources or []}
    return [{"n": c.n, "title": c.title, "authors": c.authors, "date": c.date, "abstract": c.abstract,
             "url": c.url, "judgement": judged.get(c.paper_id)} for c in citations]


def ask(question: str, opts: dict) -> dict:
    s = settings()
    loaded_assistant(s)
    if "chat" not in st.session_state:
        st.session_state.chat = assistant.chat_session(settings=s)
    chat = st.session_state.chat
    chat.filters = opts["filters"]
    stream = chat.stream(question, backend=opts["backend"], k=opts["k"], mode=opts["mode"], kind=opts["kind"],
                         breadth=opts["breadth"])
    placeholder = st.empty()
    with placeholder.container():
        st.write_stream(stream)
    placeholder.empty()  # replaced by the checked answer below
    answer = stream.answer
    from assistant.render import answer_markdown

    gap = answer.gap
    turn = {"question": question, "abstained": answer.abstained, "status": getattr(answer, "status", None),
            "text": answer.answer, "raw_text": answer.answer, "citations": citation_dicts(answer.citations, answer.sources),
            "notices": [n for n in answer.notices if n != gap], "gap": gap, "markdown": answer_markdown(answer),
            "comparison": answer.comparison,
            "closest": [src["title"] for src in answer.sources if src.get("judgement") == "loose"]
            or [src["title"] for src in answer.sources]}
    if answer.kind == "summary" and not answer.abstained:  # drawn with its themes and tables (ui.summary_view)
        return summary_turn(question, answer.summary, citation_dicts(answer.citations, answer.sources))
    return turn


def main() -> None:
    st.title("Ask the papers")
    if not ready():
        return
    opts = sidebar()
    turns = st.session_state.setdefault("turns", [])
    for turn in turns:
        render_turn(turn)
    question = st.chat_input("Ask about the papers, e.g. How can data be selected for instruction tuning?")
    if question:
        with st.chat_message("user"):
            st.markdown(md_escape(question))
        with st.chat_message("assistant"):
            try:
                turn = ask(question, opts)
            except PapersError as exc:
                turn = {"question": question, "error": str(exc), "abstained": False, "text": "", "raw_text": "",
                        "citations": [], "markdown": f"error: {exc}"}
        turns.append(turn)
        st.rerun()


main()
