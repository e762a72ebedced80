"""The HTTP API: routes that translate requests into calls of ``assistant``'s public API, and back.

One process holds one loaded index (``assistant.api.get_assistant``, reloaded when a re-ingest switches
the live generation) and serves every client from a bounded thread pool. Each request fetches the
assistant once and uses it throughout, so it finishes on the generation it started with.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

import anyio
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from assistant import api
from assistant.retrieval import Filters
from common.errors import BackendError, PapersError, ServerUnavailable
from common.settings import Settings
from papers.serve import openai_format as oa
from papers.serve.limits import NO_SLOT, ApiError, BodyLimit, Slot, Slots, check_key

KEEPALIVE_SECONDS = 10.0


class FilterFields(BaseModel):
    year_from: int | None = Field(None, description="only papers from this year on")
    year_to: int | None = Field(None, description="only papers up to this year")
    author: str | None = Field(None, description="only papers with an author containing this text")
    source: str | None = Field(None, description="only papers from a source file containing this text")

    def filters(self) -> Filters | None:
        f = Filters(year_from=self.year_from, year_to=self.year_to, author=self.author, source=self.source)
        return f if f.active() else None


class AskRequest(FilterFields):
    question: str = Field(description="the question, in plain language")
    backend: str | None = Field(None, description="extractive, local or openai (default: PAPERS_LLM)")
    k: int | None = Field(None, ge=1, le=100, description="papers to retrieve (default: PAPERS_TOP_K)")
    mode: str | None = Field(None, description="hybrid, dense or bm25 (default: PAPERS_MODE)")


class SearchRequest(FilterFields):
    query: str = Field(description="what to look for")
    k: int | None = Field(None, ge=1, le=100, description="papers to return (default: PAPERS_TOP_K)")
    mode: str | None = Field(None, description="hybrid, dense or bm25 (default: PAPERS_MODE)")


class SummarizeRequest(BaseModel):
    topic: str = Field(description="the subfield, e.g. 'data selection for instruction tuning'")
    backend: str | None = Field(None, description="extractive, local or openai (default: PAPERS_LLM)")
    max_papers: int | None = Field(None, ge=1, le=200, description="most papers to cover (default: PAPERS_SUMMARY_MAX_PAPERS)")


class Cancelled(Exception):
    pass


def _consume(make_stream: Callable[[], Any], cancel: threading.Event, deadline: float, slot: Slot) -> Any:
    """Run an answer/summary stream to its result in this worker thread, stopping early (and closing the
    generation, which frees an LLM connection or the local model) when cancelled or past the deadline."""
    try:
        stream = make_stream()
        try:
            for _ in stream:
                if cancel.is_set():
                    raise Cancelled
                if time.monotonic() > deadline:
                    raise TimeoutError
        finally:
            stream.close()
        return stream.value
    finally:
        slot.release()


def _json(payload: Any) -> Response:
    """The same JSON the CLI's --json prints (the library's as_dict(), json.dumps with default=str)."""
    return Response(json.dumps(payload, ensure_ascii=False, default=str), media_type="application/json")


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(oa.error_body(message, kind), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "")
            parts.append(f"the body is not valid JSON ({detail}): send a JSON object")
        else:
            parts.append(f"{loc or 'body'}: {err.get('msg')}")
    return "invalid request: " + "; ".join(parts)


def create_app(settings: Settings) -> FastAPI:
    cfg = settings.serve
    keys = [k.encode() for k in cfg.keys()]
    slots = Slots(cfg.llm_concurrency)
    stopping = threading.Event()
    limiters: dict[str, anyio.CapacityLimiter] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = cfg.serve_threads
        limiters["llm"] = anyio.CapacityLimiter(cfg.llm_concurrency)
        yield
        stopping.set()  # after the drain: generations still running stop at their next token

    app = FastAPI(
        title="papers-assistant", version="0.1.0", lifespan=lifespan,
        description="Cited answers over a corpus of ML paper abstracts. `/v1/chat/completions` speaks OpenAI's "
                    "format (model `papers-assistant` or `papers-assistant:<backend>`); the native endpoints return "
                    "the same JSON as the CLI's `--json`.",
    )
    app.add_middleware(BodyLimit, max_bytes=cfg.max_body_bytes)
    if cfg.origins():
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=cfg.origins(), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    def auth(authorization: str | None = Header(None, include_in_schema=False)) -> None:
        check_key(authorization, keys)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(oa.BadRequest)
    async def _bad_request(request: Request, exc: oa.BadRequest) -> JSONResponse:
        return _error(400, str(exc), "invalid_request_error")

    @app.exception_handler(BackendError)
    async def _backend_error(request: Request, exc: BackendError) -> JSONResponse:
        return _error(502, str(exc), "backend_error")

    @app.exception_handler(ServerUnavailable)
    async def _store_down(request: Request, exc: ServerUnavailable) -> JSONResponse:
        return _error(503, str(exc), "server_unavailable", {"Retry-After": "5"})

    @app.exception_handler(PapersError)
    async def _papers_error(request: Request, exc: PapersError) -> JSONResponse:
        return _error(400, str(exc), "invalid_request_error")

    @app.exception_handler(TimeoutError)
    async def _timeout(request: Request, exc: TimeoutError) -> JSONResponse:
        return _error(504, f"the request took longer than {cfg.serve_timeout:.0f}s (PAPERS_SERVE_TIMEOUT)", "timeout")

    @app.exception_handler(Cancelled)
    async def _cancelled(request: Request, exc: Cancelled) -> JSONResponse:
        return _error(503, "the server is shutting down; retry against another instance or after the restart",
                      "server_busy", {"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(exc), "invalid_request_error")

    def uses_llm(backend: str | None) -> bool:
        return api.which_backend(backend, settings) != "extractive"

    async def run(make_stream: Callable[[], Any], backend: str | None) -> Any:
        """Run to the result off the event loop; LLM-backed work takes a slot (or is refused with 503)."""
        llm = uses_llm(backend)
        slot = slots.acquire() if llm else NO_SLOT
        try:
            return await anyio.to_thread.run_sync(_consume, make_stream, stopping, time.monotonic() + cfg.serve_timeout,
                                                  slot, limiter=limiters.get("llm") if llm else None)
        finally:
            slot.release()

    @app.get("/health", summary="Liveness, with the live index generation and paper count")
    async def health() -> dict[str, Any]:
        info = await anyio.to_thread.run_sync(api.index_info, settings)
        return {"status": "ok", **info, "llm_slots": {"limit": slots.limit, "in_use": slots.in_use}}

    @app.get("/v1/models", dependencies=[Depends(auth)], summary="The model names /v1/chat/completions accepts")
    async def models() -> dict[str, Any]:
        return oa.models_payload()

    @app.post("/v1/chat/completions", dependencies=[Depends(auth)],
              summary="OpenAI chat completions: cited answers; follow-ups through the messages history")
    async def chat_completions(body: oa.ChatRequest) -> Response:
        backend = oa.backend_of(body.model)
        question, history = oa.question_and_history(body.messages)

        def make_stream() -> Any:
            return api.chat_session(settings=settings, history=history, backend=backend).stream(question)

        if not body.stream:
            answer = await run(make_stream, backend)
            return _json(oa.completion(answer, body.model))
        # a bad question is a 400 before the stream starts, not an error chunk after a 200
        await anyio.to_thread.run_sync(lambda: api.get_assistant(settings).check_question(question))
        return await stream_answer(make_stream, backend, body.model)

    async def stream_answer(make_stream: Callable[[], Any], backend: str | None, model: str) -> Response:
        """SSE in OpenAI's chunk format. The text sent is the checked answer (citations verified), so for
        LLM backends it arrives when generation ends; keep-alive comments flow meanwhile."""
        llm = uses_llm(backend)
        slot = slots.acquire() if llm else NO_SLOT  # refused here, before any byte: a real 503
        cancel = threading.Event()
        cid = oa.new_id()

        def work() -> Any:
            if stopping.is_set():
                cancel.set()
            return _consume(make_stream, cancel, time.monotonic() + cfg.serve_timeout, slot)

        # started now, so the slot is freed by the worker whatever happens to the response
        task = asyncio.ensure_future(anyio.to_thread.run_sync(work, limiter=limiters.get("llm") if llm else None))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved even if nobody waits

        async def events() -> AsyncIterator[str]:
            try:
                yield oa.chunk(cid, model, {"role": "assistant", "content": ""})
                while not task.done():
                    done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
                    if not done:
                        yield ": keep-alive\n\n"
                for event in oa.answer_chunks(cid, model, task.result()):
                    yield event
            except (PapersError, TimeoutError, Cancelled) as exc:
                message = (f"the request took longer than {cfg.serve_timeout:.0f}s (PAPERS_SERVE_TIMEOUT)"
                           if isinstance(exc, TimeoutError) else "the server is shutting down"
                           if isinstance(exc, Cancelled) else str(exc))
                kind = ("backend_error" if isinstance(exc, BackendError) else "server_unavailable"
                        if isinstance(exc, ServerUnavailable) else "server_error")
                yield oa.sse(oa.error_body(message, kind))
                yield "data: [DONE]\n\n"
            finally:
                cancel.set()  # a client that went away: the worker stops at the next token and frees the slot

        gen = events()
        weakref.finalize(gen, cancel.set)  # a response that never started streaming
        return StreamingResponse(gen, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/ask", dependencies=[Depends(auth)], summary="One cited answer: the JSON of `papers ask --json`")
    async def ask(body: AskRequest) -> Response:
        def make_stream() -> Any:
            return api.stream(body.question, settings=settings, backend=body.backend, k=body.k, mode=body.mode,
                              filters=body.filters())

        return _json((await run(make_stream, body.backend)).as_dict())

    @app.post("/search", dependencies=[Depends(auth)], summary="Plain retrieval: the JSON of `papers search --json`")
    async def search(body: SearchRequest) -> Response:
        from assistant.search import search as _search

        hits = await anyio.to_thread.run_sync(
            lambda: _search(body.query, k=body.k, settings=settings, mode=body.mode, filters=body.filters()))
        return _json([h.as_dict() for h in hits])

    @app.post("/summarize", dependencies=[Depends(auth)],
              summary="A cited, theme-by-theme summary: the JSON of `papers summarize --json`")
    async def summarize(body: SummarizeRequest) -> Response:
        def make_stream() -> Any:
            return api.summarize_stream(body.topic, settings=settings, backend=body.backend, max_papers=body.max_papers)

        return _json((await run(make_stream, body.backend)).as_dict())

    return app
