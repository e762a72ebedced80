"""papers-assistant: cited answers over a corpus of ML paper abstracts.

The public API lives in ``assistant.api`` and is re-exported here lazily (``assistant.ask(...)``), so that
``import assistant`` stays cheap for the interfaces that only need part of it.
"""

from typing import Any

from common import offline as _offline  # noqa: F401  (sets offline env vars before any model library loads)

_API = {"ask", "stream", "chat_session", "retrieve", "summarize", "summarize_stream", "index_stats", "get_assistant",
        "corpus_papers", "Filters", "Answer", "ChatSession"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from assistant import api

        return getattr(api, name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
