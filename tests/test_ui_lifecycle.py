"""Stopping `papers ui` stops Streamlit too: the port is free again, with the documented exit codes."""

from __future__ import annotations

import signal

import pytest

from tests.serve_fixtures import port_is_free, start_ui

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_to_papers_ui_stops_streamlit_and_frees_the_port(corpus_index, tmp_path, sig, code):
    running = start_ui(corpus_index, tmp_path, PAPERS_SHUTDOWN_GRACE="4")
    try:
        running.signal(sig)
        exit_code = running.wait(timeout=30)
    finally:
        running.stop()
    assert exit_code == code and port_is_free(running.port)
