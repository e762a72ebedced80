"""Shared fixtures: isolated settings per test, the real corpus, and real servers started once per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

import assistant  # noqa: F401  (offline environment before any model library)
from common.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "data" / "corpus"
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's PAPERS_* or OpenAI variables, and every index goes to tmp."""
    for key in list(os.environ):
        if key.startswith("PAPERS_") or key in {"OPENAI_API_KEY"}:
            monkeypatch.delenv(key)
    monkeypatch.setenv("PAPERS_DATA_DIR", str(tmp_path / "index"))


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with the deterministic hash embedder unless a test asks for another."""

    def make(**env: str) -> Settings:
        return settings_from_env(**{"PAPERS_EMBED_BACKEND": "hash", "PAPERS_DATA_DIR": str(tmp_path / "index"), **env})

    return make


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m assistant`` as a user would, with the hash embedder unless env says otherwise."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERS_")}
        full_env.update({"PAPERS_EMBED_BACKEND": "hash", "PAPERS_DATA_DIR": str(tmp_path / "index")})
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, env=full_env,
            cwd=tmp_path, timeout=timeout,
        )

    return run


def start_chroma(path: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """A real `chroma run` server on 127.0.0.1 storing into ``path`` (a free port unless given)."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.fail("the `chroma` command is missing: run scripts/setup.sh")
    port = port or free_port()
    path.mkdir(parents=True, exist_ok=True)
    log = open(path / "server.log", "a")
    proc = subprocess.Popen([exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(path / 'server.log').read_text()[-500:]}")
            time.sleep(0.3)
    proc.kill()
    pytest.fail("chroma run did not start within 60 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on 127.0.0.1, shared by the session."""
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    stop(proc)


def _settings_for(data_dir: Path, **env: str) -> Settings:
    return settings_from_env(**{"PAPERS_DATA_DIR": str(data_dir), "PAPERS_EMBED_BACKEND": "local", **env})


def settings_from_env(**values: str) -> Settings:
    """Settings as the given PAPERS_* environment would produce, without leaking it to other tests."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        return Settings()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus ingested once per session with the real default embedder."""
    from ingest.pipeline import run_ingest

    data_dir = tmp_path_factory.mktemp("corpus-index") / "index"
    run_ingest(_settings_for(data_dir), CORPUS, progress=False)
    return data_dir


@pytest.fixture
def real_settings(corpus_index: Path) -> Callable[..., Settings]:
    """Settings reading the session's real index; keyword args become PAPERS_* env values."""

    def make(**env: str) -> Settings:
        return _settings_for(corpus_index, **env)

    return make


def local_gguf() -> Path:
    from assistant.llm import local_model_path

    return local_model_path(_settings_for(Path("/nonexistent")))


def start_llama_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    """llama.cpp's OpenAI-compatible server with the bundled SmolLM2 GGUF on a free 127.0.0.1 port."""
    import urllib.request

    port = free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(local_gguf()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log_path.read_text()[-800:]}")
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("llama_cpp.server did not start within 120 s")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real OpenAI-compatible server: llama.cpp's, serving the bundled SmolLM2 GGUF on 127.0.0.1."""
    proc, base = start_llama_server(tmp_path_factory.mktemp("llama-server") / "server.log")
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
