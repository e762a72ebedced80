"""The public Python API: what the CLI, the UI and the evals call. Nothing else reaches into the pipeline.

    import assistant
    answer = assistant.ask("How can data be selected for instruction tuning?")
    print(answer.answer, [c.title for c in answer.citations])
    chat = assistant.chat_session()
    chat.ask("Which papers study process rewards?"); chat.ask("and which of those use RL?")
"""

from __future__ import annotations

import threading
from typing import Any

from assistant.answer import Answer, Assistant, AnswerStream
from assistant.chat import ChatSession
from assistant.retrieval import Filters, RetrievalResult
from common.settings import Settings

_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], Assistant] = {}


def cache_key(settings: Settings) -> tuple[Any, ...]:
    """What a loaded assistant depends on: the settings and the live index generation."""
    from ingest.store import read_manifest

    manifest = read_manifest(settings.index.data_dir) or {}
    return (settings.model_dump_json(), manifest.get("generation"), manifest.get("built_at"))


def get_assistant(settings: Settings | None = None) -> Assistant:
    """The loaded assistant for these settings; reloaded only when settings or the live index change."""
    settings = settings or Settings()
    key = cache_key(settings)
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = Assistant(settings)
        return _CACHE[key]


def resolve_backend(backend: str | None = None, settings: Settings | None = None) -> str:
    """The backend a request would use (None and ``auto`` resolved), without loading anything."""
    from assistant.llm import resolve_backend as _resolve

    return _resolve(settings or Settings(), backend)


def ask(question: str, *, settings: Settings | None = None, **kwargs: Any) -> Answer:
    """Answer one question (kwargs: backend, k, mode, filters)."""
    return get_assistant(settings).ask(question, **kwargs)


def stream(question: str, *, settings: Settings | None = None, **kwargs: Any) -> AnswerStream:
    """Like ``ask`` but iterable for text deltas; ``.answer`` is set when the stream ends."""
    return get_assistant(settings).stream(question, **kwargs)


def chat_session(*, settings: Settings | None = None, history: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> ChatSession:
    """A multi-turn conversation (kwargs: backend, k, mode, filters). ``history``: earlier (question, reply
    text) pairs, e.g. from an OpenAI ``messages`` list, so the next question is a follow-up to them."""
    session = ChatSession(assistant=get_assistant(settings), **kwargs)
    if history:
        session.restore(history)
    return session


def retrieve(question: str, *, settings: Settings | None = None, **kwargs: Any) -> RetrievalResult:
    """Retrieval only (kwargs: k, mode, filters): what the evals score and `papers search` shows."""
    loaded = get_assistant(settings)
    return loaded.retriever.retrieve(loaded.check_question(question), **kwargs)


def index_info(settings: Settings | None = None) -> dict[str, Any]:
    """The loaded index at a glance, without a disk scan: generation, build time, papers, chunks, embedder."""
    retriever = get_assistant(settings).retriever
    m = retriever.manifest
    return {"generation": m.get("generation"), "built_at": m.get("built_at"), "papers": len(retriever.papers),
            "chunks": retriever.n_chunks, "embedder": m.get("embedder")}


def index_stats(settings: Settings | None = None) -> dict[str, Any]:
    from ingest.stats import index_stats as _stats

    return _stats(settings or Settings())


def corpus_papers(settings: Settings | None = None) -> list[Any]:
    """Every paper record in the live index (title, abstract, authors, ...): for baselines and browsing."""
    return list(get_assistant(settings).retriever.papers.values())


def embed_model(settings: Settings | None = None) -> Any:
    """The index's embedder (a llama-index BaseEmbedding), so baselines embed exactly as the index did."""
    return get_assistant(settings).retriever.embed_model


def llm(backend: str, settings: Settings | None = None) -> Any:
    """The llama-index LLM of a backend (None for extractive): for LLM judges and question drafting."""
    a = get_assistant(settings)
    return a.llm(a.resolve(backend))


def summarize(topic: str, *, settings: Settings | None = None, backend: str | None = None,
              max_papers: int | None = None) -> Any:
    """A cited, theme-by-theme summary of everything the corpus holds on a topic."""
    from assistant.summary import summarize_stream

    return summarize_stream(get_assistant(settings), topic, backend=backend, max_papers=max_papers).result()


def summarize_stream(topic: str, *, settings: Settings | None = None, backend: str | None = None,
                     max_papers: int | None = None) -> Any:
    """Like ``summarize`` but iterable for Markdown pieces (themes first, then the overview)."""
    from assistant.summary import summarize_stream as _stream

    return _stream(get_assistant(settings), topic, backend=backend, max_papers=max_papers)


def ensure_index(settings: Settings | None = None, progress: bool = False) -> dict[str, Any] | None:
    """Ingest the configured corpus when there is no index yet; returns the ingest report if it ran."""
    from ingest.pipeline import run_ingest
    from ingest.store import read_manifest

    settings = settings or Settings()
    if read_manifest(settings.index.data_dir) is not None:
        return None
    return run_ingest(settings, progress=progress).as_dict()


def summary_candidates(topic: str, *, settings: Settings | None = None) -> list[tuple[Any, float | None, float]]:
    """(paper, embedding similarity, keyword coverage) for every paper a summary of ``topic`` considers:
    what `evals.calibrate` tunes the summary relevance bar on."""
    from assistant.summary import candidates

    return [(h.paper, h.dense, cov) for h, cov in candidates(get_assistant(settings), topic)]


__all__ = ["Answer", "AnswerStream", "ChatSession", "Filters", "Settings", "ask", "cache_key", "chat_session",
           "corpus_papers", "embed_model", "ensure_index", "get_assistant", "index_info", "index_stats",
           "llm", "resolve_backend", "retrieve", "stream", "summarize", "summarize_stream", "summary_candidates"]
