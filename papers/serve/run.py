"""The `papers serve` process: load the index once, listen, and on SIGTERM/SIGINT drain and exit."""

from __future__ import annotations

import logging
import os
import signal
import sys

from common.settings import Settings


def serve(settings: Settings, host: str, port: int, access_log: bool = False) -> int:
    """Serve until SIGTERM or SIGINT; in-flight requests get ``PAPERS_SHUTDOWN_GRACE`` seconds to finish.

    Returns 0 after SIGTERM (a clean stop) and 130 after SIGINT, as every `papers` command does."""
    import uvicorn

    from assistant.api import get_assistant
    from papers.serve.app import create_app

    _one_thread_per_inference()
    get_assistant(settings)  # load before listening: a missing index is one error line, the first request is warm
    _warm_up(settings)
    app = create_app(settings)
    received: list[int] = []
    # uvicorn handles the signals while it runs, then re-raises them into the handlers it found: these
    previous = {sig: signal.signal(sig, lambda s, f: received.append(s)) for sig in (signal.SIGINT, signal.SIGTERM)}
    config = uvicorn.Config(app, host=host, port=port, timeout_graceful_shutdown=settings.serve.shutdown_grace,
                            access_log=access_log, log_level="info", server_header=False, lifespan="on",
                            # uvicorn's 5 s default races busy clients reusing an idle connection (seen as
                            # read errors in the load test); 30 s is still far below typical proxy idle timeouts
                            timeout_keep_alive=30)
    keys = "on" if settings.serve.keys() else "off"
    print(f"papers-assistant API on http://{host}:{port}/v1 (docs: /docs; API keys {keys}; Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        uvicorn.Server(config).run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    code = 130 if signal.SIGINT in received else 0
    _exit_now(code)
    return code


def _warm_up(settings: Settings) -> None:
    """Answer and summarize once before listening. What summaries build on first use for an index (the
    corpus n-grams and paper vectors, about a second of CPU) and the lazy imports would otherwise stall
    the first clients' requests. Nothing of the answers depends on it."""
    from assistant import api
    from common.errors import PapersError

    papers = api.corpus_papers(settings)
    if not papers:
        return
    topic = papers[0].title
    try:
        api.ask(topic, settings=settings, backend="extractive")
        api.summarize(topic, settings=settings, backend="extractive")
    except PapersError:  # e.g. a title longer than PAPERS_MAX_QUESTION_CHARS: the first request warms up instead
        pass


def _one_thread_per_inference() -> None:
    """Requests already run in parallel worker threads; torch's own intra-op threads on top of them
    oversubscribe the cores (measured on 2 busy cores: 1.2 s per extractive answer instead of 0.1 s), and
    onnxruntime's spinning pool burns CPU the other requests need. So does OpenBLAS's pool for the small
    matrix products of the answerability's word matching (about 20 ms of CPU per answer, measured here)."""
    import numpy  # noqa: F401  loaded first, so threadpoolctl finds its BLAS
    from threadpoolctl import threadpool_limits

    from ingest.onnx_model import one_thread_per_run

    one_thread_per_run()
    threadpool_limits(limits=1, user_api="blas")
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def _exit_now(code: int) -> None:
    """Requests are drained and the port is closed. The server wrote nothing, so skip the interpreter's
    teardown of the loaded models and Chroma (measured: 8-10 s on 2 busy cores) to exit within the grace."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
