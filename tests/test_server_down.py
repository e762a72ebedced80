"""A Chroma server (PAPERS_CHROMA_URL) that stops answering under running readers, on a real `chroma run`.

Every interface says so in one line naming the URL and the fix instead of a traceback, keeps running, and
answers again once the server is back. The readers check the server's live generation only every hour
here, so the failure hits the query itself (the path that used to print an httpx traceback).
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest

from ingest.pipeline import run_ingest
from tests.conftest import CORPUS, start_chroma, stop
from tests.serve_fixtures import clean_env, start_serve

pytestmark = pytest.mark.slow

PREFIX = "down"
QUESTION = "What is KOALA++?"


class Chroma:
    """A real `chroma run` the test may stop and start again on the same port and data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc, self.url = start_chroma(path)

    def stop(self) -> None:
        stop(self.proc)

    def start(self) -> None:
        self.proc, _ = start_chroma(self.path, port=int(self.url.rsplit(":", 1)[1]))


@pytest.fixture
def chroma(tmp_path, make_settings):
    """A server holding the bundled corpus (hash embedder), stopped at the end whatever happened."""
    server = Chroma(tmp_path / "server")
    try:
        run_ingest(make_settings(PAPERS_CHROMA_URL=server.url, PAPERS_COLLECTION_PREFIX=PREFIX), CORPUS, progress=False)
        yield server
    finally:
        server.stop()


def reader_env(chroma: Chroma, data_dir: Path) -> dict[str, str]:
    return {"PAPERS_CHROMA_URL": chroma.url, "PAPERS_COLLECTION_PREFIX": PREFIX, "PAPERS_EMBED_BACKEND": "hash",
            "PAPERS_LLM": "extractive", "PAPERS_SHARED_CHECK_SECONDS": "3600", "PAPERS_DATA_DIR": str(data_dir)}


def names_the_server(message: str, chroma: Chroma) -> bool:
    return f"cannot reach the Chroma server at {chroma.url}" in message and "chroma run" in message and "\n" not in message


def test_the_http_api_answers_503_naming_the_server_while_it_is_down_and_recovers(chroma, tmp_path):
    env = reader_env(chroma, tmp_path / "api")
    server = start_serve(tmp_path / "api", tmp_path, **env)
    try:
        assert httpx.post(server.base + "/ask", json={"question": QUESTION}, timeout=60).status_code == 200
        chroma.stop()
        for path, body in (("/ask", {"question": QUESTION}), ("/search", {"query": "Kalman optimizer"})):
            down = httpx.post(server.base + path, json=body, timeout=60)
            assert down.status_code == 503 and down.headers["retry-after"]
            assert names_the_server(down.json()["error"]["message"], chroma)
        assert server.proc.poll() is None
        chroma.start()
        back = httpx.post(server.base + "/ask", json={"question": QUESTION}, timeout=60)
        assert back.status_code == 200 and back.json()["citations"][0]["title"].startswith("KOALA++")
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


class Lines:
    """A text stream read line by line in a thread, so the test can wait for a line with a timeout."""

    def __init__(self, stream) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in stream], daemon=True).start()

    def until(self, wanted, timeout: float = 120) -> list[str]:
        seen, deadline = [], time.time() + timeout
        while time.time() < deadline:
            try:
                seen.append(self.lines.get(timeout=1))
            except queue.Empty:
                continue
            if wanted(seen[-1]):
                return seen
        pytest.fail(f"no such line within {timeout} s; got {seen}")


def test_cli_chat_says_one_line_while_the_server_is_down_and_answers_once_it_is_back(chroma, tmp_path):
    chat = subprocess.Popen([sys.executable, "-m", "papers", "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=clean_env(tmp_path / "cli", **reader_env(chroma, tmp_path / "cli")))
    out, err = Lines(chat.stdout), Lines(chat.stderr)
    try:
        def ask() -> None:
            chat.stdin.write(QUESTION + "\n")
            chat.stdin.flush()

        ask()
        assert any("KOALA++" in line for line in out.until(lambda line: line.startswith("[1]")))
        chroma.stop()
        ask()
        error = err.until(lambda line: line.startswith("error:"))[-1]
        assert names_the_server(error.rstrip("\n"), chroma)
        chroma.start()
        ask()
        assert "KOALA++" in out.until(lambda line: line.startswith("[1]"))[-1]
        chat.stdin.close()
        assert chat.wait(timeout=60) == 0
    finally:
        chat.kill()


def test_mcp_tool_is_an_error_naming_the_server_while_it_is_down_and_answers_once_it_is_back(chroma, tmp_path):
    from mcp import StdioServerParameters
    from mcp.client.client import Client

    env = reader_env(chroma, tmp_path / "mcp")
    params = StdioServerParameters(command=sys.executable, args=["-m", "papers", "mcp"], env=clean_env(tmp_path / "mcp", **env))
    search = ("search_papers", {"query": "Kalman optimizer", "k": 2})

    async def run() -> tuple:
        async with Client(params, read_timeout_seconds=300) as client:
            before = await client.call_tool(*search)
            chroma.stop()
            down = await client.call_tool(*search)
            chroma.start()
            return before, down, await client.call_tool(*search)

    before, down, after = anyio.run(run)
    assert not before.is_error and not after.is_error
    assert after.structured_content["results"][0]["title"].startswith("KOALA++")
    assert down.is_error and names_the_server(down.content[0].text, chroma)


def test_the_ui_pages_show_one_line_while_the_server_is_down_and_answer_once_it_is_back(chroma, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    for key, value in reader_env(chroma, tmp_path / "ui").items():
        monkeypatch.setenv(key, value)
    explore = AppTest.from_file(str(REPO / "ui" / "explore_page.py"), default_timeout=180)
    chat = AppTest.from_file(str(REPO / "ui" / "chat_page.py"), default_timeout=180)
    chroma.stop()
    explore.run()  # a reader started while the server is down
    assert not explore.exception and names_the_server(explore.error[0].value.split(": ", 1)[1], chroma)
    chroma.start()
    explore.run()
    chat.run()
    assert not explore.error and not chat.error
    chroma.stop()  # and a server that goes away under the running pages
    explore.text_input(key="explore_query").set_value("Kalman optimizer").run()
    chat.chat_input[0].set_value(QUESTION).run()
    assert not explore.exception and not chat.exception
    assert names_the_server(explore.error[0].value, chroma) and names_the_server(chat.error[0].value, chroma)
    chroma.start()
    explore.text_input(key="explore_query").set_value("Kalman optimizer gradient covariance").run()
    chat.chat_input[0].set_value(QUESTION).run()
    assert not explore.error and explore.selectbox(key="explore_pick").value.startswith("KOALA++")
    assert chat.expander[0].label.startswith("[1] KOALA")


def test_cli_reader_started_while_the_server_is_down_exits_2_with_one_line(chroma, tmp_path, run_cli):
    env = reader_env(chroma, tmp_path / "cli")
    assert run_cli("search", "Kalman optimizer", env=env).returncode == 0  # its caches are built from the server
    chroma.stop()
    for args in (("search", "Kalman optimizer"), ("ask", QUESTION)):
        done = run_cli(*args, env=env)
        assert done.returncode == 2 and done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("error: ") and names_the_server(line, chroma)


def test_the_http_api_started_while_the_server_is_down_exits_2_with_one_line(chroma, tmp_path):
    chroma.stop()
    done = subprocess.run([sys.executable, "-m", "papers", "serve", "--port", "0"], capture_output=True, text=True,
                          timeout=120, env=clean_env(tmp_path / "api", **reader_env(chroma, tmp_path / "api")))
    [line] = done.stderr.strip().splitlines()
    assert done.returncode == 2 and line.startswith("error: ") and names_the_server(line, chroma)
