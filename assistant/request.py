"""Checking a request before anything is ingested or loaded: the question, the numeric flags and the backend.

Cheap imports only (no llama-index, no Chroma), so every interface rejects bad input in milliseconds: the CLI
calls this before its first-run ingest, the public API (``assistant.api``) before it loads the index.
"""

from __future__ import annotations

from assistant.llm import resolve_backend
from assistant.text import check_question
from common.settings import AnswerSettings, RetrievalSettings, Settings, check_value


def check_request(text: str | None, settings: Settings | None = None, backend: str | None = None, *,
                  k: int | None = None, max_papers: int | None = None) -> str | None:
    """Validate a question or topic (None: there is none, as in chat), the ``--k`` / ``--max-papers`` flags
    and a backend choice; returns the stripped text. A bad value raises ``PapersError`` naming the fix."""
    settings = settings or Settings()
    checked = None if text is None else check_question(text, settings.answer.max_question_chars)
    if k is not None:
        check_value(RetrievalSettings, "top_k", k, "--k")
    if max_papers is not None:
        check_value(AnswerSettings, "summary_max_papers", max_papers, "--max-papers")
    if backend is not None:
        resolve_backend(settings, backend)
    return checked
