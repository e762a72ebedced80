"""What every page shares: settings, the cached assistant, and escaping of untrusted text."""

from __future__ import annotations

import html
import re

import streamlit as st

import assistant
import assistant.api
from common.errors import PapersError
from common.settings import Settings

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md_escape(text: str) -> str:
    """Render text as literal text inside Markdown (titles and abstracts are data, not markup)."""
    return _MD_SPECIAL.sub(r"\\\1", text or "")


def md_answer(text: str) -> str:
    """An answer as literal text, but with its [n] citations left readable."""
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", md_escape(text))


def safe_link(url: str | None) -> str | None:
    """A corpus link as a Markdown link target: http(s) only, with characters that could end the target or
    start markup percent-encoded; None for anything else (e.g. a javascript: URL)."""
    from urllib.parse import quote, urlparse

    if not url or not isinstance(url, str):
        return None
    try:
        parsed = urlparse(url.strip())
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    return quote(url.strip(), safe=":/?#@!$&'*+,;=%~.-_")


def show_link(url: str | None) -> None:
    """A corpus link under a paper, clickable when it is http(s) (``safe_link``), its text escaped."""
    if link := safe_link(url):
        st.markdown(f"[{md_escape(url or '')}]({link})")


def html_escape(text: str) -> str:
    return html.escape(text or "", quote=True)


def settings() -> Settings:
    """Read on every rerun (cheap), so a changed environment is seen; the heavy parts are cached below."""
    return Settings()


@st.cache_resource(show_spinner="Loading the index and models…")
def _load(key: str, _settings: Settings):
    return assistant.get_assistant(_settings)


def loaded_assistant(s: Settings):
    """Models and index load once per process (per configuration and index generation), not on every rerun."""
    return _load(repr(assistant.api.cache_key(s)), s)


def ready() -> bool:
    """Make sure an index exists (ingesting the corpus on first start) and is loaded; show errors in the page."""
    s = settings()
    try:
        if "index_checked" not in st.session_state:
            with st.spinner("Checking the index (the first start ingests the corpus, about a minute)…"):
                report = assistant.api.ensure_index(s)
            if report:
                st.toast(f"Ingested {report['papers']} papers")
            st.session_state.index_checked = True
        loaded_assistant(s)
        return True
    except PapersError as exc:
        st.error(f"The index is not available: {exc}")
        return False
