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
from assistant.llm import resolve_backend
from assistant.request import check_request
from assistant.retrieval import Filters, RetrievalResult
from common.errors import PapersError
from common.settings import Settings

_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], Assistant] = {}


def cache_key(settings: Settings) -> tuple[Any, ...]:
    """What a loaded assistant depends on: the settings and the live index generation (on a Chroma server,
    the one the server names live: ``ingest.shared``)."""
    from ingest.shared import sync
    from ingest.store import manifest_stamp

    sync(settings)
    stamp = manifest_stamp(settings.index.data_dir) or {}
    return (settings.model_dump_json(), stamp.get("generation"), stamp.get("built_at"))


def get_assistant(settings: Settings | None = None) -> Assistant:
    """The loaded assistant for these settings; reloaded only when settings or the live index change.

    A caller that holds the returned assistant keeps reading the generation it was loaded from, even after
    an ingest switched to a new one (the generation stays on disk while it is referenced: ingest.lease).
    """
    settings = settings or Settings()
    key = cache_key(settings)
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = Assistant(settings)
        return _CACHE[key]


def backend_problem(backend: str, settings: Settings | None = None) -> str | None:
    """Why a backend cannot be used here (e.g. its extra is not installed, with the install command), or None."""
    try:
        resolve_backend(settings or Settings(), backend)
    except PapersError as exc:
        return str(exc)
    return None


def which_backend(backend: str | None = None, settings: Settings | None = None) -> str:
    """The backend a request would use (None and ``auto`` resolved), without loading anything."""
    return resolve_backend(settings or Settings(), backend)


def ask(question: str, *, settings: Settings | None = None, **kwargs: Any) -> Answer:
    """Answer one question (kwargs: backend, k, mode, filters, kind: auto|answer|compare|summary)."""
    settings = settings or Settings()
    check_request(question, settings, kwargs.get("backend"))
    return get_assistant(settings).ask(question, **kwargs)


def stream(question: str, *, settings: Settings | None = None, **kwargs: Any) -> AnswerStream:
    """Like ``ask`` but iterable for text deltas; ``.answer`` is set when the stream ends."""
    settings = settings or Settings()
    check_request(question, settings, kwargs.get("backend"))
    return get_assistant(settings).stream(question, **kwargs)


def chat_session(*, settings: Settings | None = None, history: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> ChatSession:
    """A multi-turn conversation (kwargs: backend, k, mode, filters, kind). ``history``: earlier (question,
    reply text) pairs, e.g. from an OpenAI ``messages`` list, so the next question is a follow-up to them."""
    settings = settings or Settings()
    if kwargs.get("backend") is not None:
        resolve_backend(settings, kwargs["backend"])
    session = ChatSession(assistant=get_assistant(settings), **kwargs)
    if history:
        session.restore(history)
    return session


def retrieve(question: str, *, settings: Settings | None = None, **kwargs: Any) -> RetrievalResult:
    """Retrieval only (kwargs: k, mode, filters): what the evals score and `papers search` shows."""
    settings = settings or Settings()
    check_request(question, settings)
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
              max_papers: int | None = None, breadth: str | None = None, min_relevance: float | None = None) -> Any:
    """A cited, theme-by-theme summary of everything the corpus holds on a topic (.themes, .citations,
    .overview, .markdown()). ``breadth``: narrow, normal or wide; ``min_relevance`` (0-1) replaces the bar."""
    from assistant.summary import summarize_stream

    settings = settings or Settings()
    check_request(topic, settings, backend)
    return summarize_stream(get_assistant(settings), topic, backend=backend, max_papers=max_papers,
                            breadth=breadth, min_relevance=min_relevance).result()


def summarize_stream(topic: str, *, settings: Settings | None = None, backend: str | None = None,
                     max_papers: int | None = None, breadth: str | None = None, min_relevance: float | None = None) -> Any:
    """Like ``summarize`` but iterable for Markdown pieces (themes first, then the overview)."""
    from assistant.summary import summarize_stream as _stream

    settings = settings or Settings()
    check_request(topic, settings, backend)
    return _stream(get_assistant(settings), topic, backend=backend, max_papers=max_papers, breadth=breadth,
                   min_relevance=min_relevance)


def ensure_index(settings: Settings | None = None, progress: bool = False) -> dict[str, Any] | None:
    """Ingest the configured corpus when there is no index yet, or rebuild a damaged one; returns the
    ingest report if it ran."""
    from ingest.pipeline import run_ingest
    from ingest.shared import sync
    from ingest.store import DamagedIndex, generation_problem, read_manifest

    settings = settings or Settings()
    sync(settings)  # a reader of a Chroma server needs no ingest of its own
    try:
        manifest = read_manifest(settings.index.data_dir)
    except DamagedIndex:
        manifest = None
    if manifest is not None and generation_problem(settings, manifest) is None:
        return None
    return run_ingest(settings, progress=progress).as_dict()


def summary_candidates(topic: str, *, settings: Settings | None = None) -> list[Any]:
    """Every paper a summary of ``topic`` considers, with the signals and the relevance probability its bar
    uses (``assistant.gather.Candidate``): what `evals.calibrate_summary` fits the bar on."""
    from assistant.gather import candidates

    return candidates(get_assistant(settings), topic)


__all__ = ["Answer", "AnswerStream", "ChatSession", "Filters", "Settings", "ask", "backend_problem", "cache_key",
           "chat_session", "check_request", "corpus_papers", "embed_model", "ensure_index", "get_assistant", "index_info",
           "index_stats", "llm", "retrieve", "stream", "summarize", "summarize_stream", "summary_candidates",
           "which_backend"]
