"""Starting real `papers serve` / `papers ui` processes on free ports for the server tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERS_") and k != "OPENAI_API_KEY"}
    env.update({"PAPERS_DATA_DIR": str(data_dir), "PAPERS_EMBED_BACKEND": "local", **extra})
    return env


class Running:
    """A `papers` server subprocess: ``base`` URL, ``port``, and its log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, health: str, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self._log = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "papers", *args, "--port", str(port)], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"papers {args[0]} exited: {log.read_text()[-1500:]}")
            try:
                with urllib.request.urlopen(self.base + health, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"papers {args[0]} did not start within 180 s: {log.read_text()[-1500:]}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_serve(data_dir: Path, log_dir: Path, **env: str) -> Running:
    port = free_port()
    return Running(["serve"], clean_env(data_dir, **env), log_dir / f"serve-{port}.log", "/health", port)


def start_ui(data_dir: Path, log_dir: Path, **env: str) -> Running:
    port = free_port()
    return Running(["ui"], clean_env(data_dir, **env), log_dir / f"ui-{port}.log", "/_stcore/health", port)


def port_is_free(port: int) -> bool:
    """A new server could listen there (as servers do, with SO_REUSEADDR: closed connections may linger)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True
