"""Explore page: search and browse the corpus; read any abstract."""

from __future__ import annotations

import streamlit as st

import assistant
from assistant import Filters
from assistant.render import short_authors
from common.errors import PapersError
from common.settings import Settings
from ui.common import md_escape, ready, safe_link, settings, show_link


def main() -> None:
    st.title("Explore the corpus")
    if not ready():
        return
    try:
        explore(settings())
    except PapersError as exc:  # e.g. the Chroma server stopped answering: one line; the next search retries
        st.error(str(exc))


def explore(s: Settings) -> None:
    papers = assistant.corpus_papers(s)
    c1, c2, c3 = st.columns([3, 1, 1])
    query = c1.text_input("Search", placeholder="e.g. process reward models", key="explore_query")
    author = c2.text_input("Author contains", key="explore_author")
    year = c3.selectbox("Year", ["any"] + sorted({p.year for p in papers if p.year}, reverse=True), key="explore_year")
    filters = Filters(author=author or None, year_from=None if year == "any" else year, year_to=None if year == "any" else year)
    if query.strip():
        hits = assistant.retrieve(query, settings=s, k=25, filters=filters if filters.active() else None).hits
        shown = [h.paper for h in hits]
    else:
        allowed = {p.title for p in papers if (not author or any(author.lower() in a.lower() for a in p.authors))
                   and (year == "any" or p.year == year)}
        shown = sorted((p for p in papers if p.title in allowed), key=lambda p: p.title.lower())
    st.caption(f"{len(shown)} of {len(papers)} papers")
    rows = [{"title": p.title, "authors": short_authors(p.authors),
             "date": p.date or "", "link": safe_link(p.url), "sources": ", ".join(sorted({x.file for x in p.sources}))}
            for p in shown]  # a link only when it is http(s): safe_link
    st.dataframe(rows, use_container_width=True, hide_index=True, key="explore_table",
                 column_config={"link": st.column_config.LinkColumn("link")})
    if shown:
        pick = st.selectbox("Read an abstract", [p.title for p in shown], key="explore_pick")
        paper = next(p for p in shown if p.title == pick)
        st.subheader(md_escape(paper.title))
        meta = " · ".join(x for x in (", ".join(paper.authors), paper.date or "", f"{paper.author_count} authors" if paper.author_count else "") if x)
        if meta:
            st.caption(md_escape(meta))
        show_link(paper.url)
        st.markdown(md_escape(paper.abstract))


main()
