"""First run just works, quietly: asking before any ingest ingests the configured corpus (the bundled one by
default) with our own progress on stderr; --json and --quiet print nothing but the result."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import one_error_line

NOISE = ("Finding newlines", "Loading weights", "Split strings", "Tokenize texts", "Warning", "WARNING", "it/s]")


def test_ask_before_any_ingest_ingests_the_bundled_corpus_with_progress_on_stderr(run_cli, tmp_path):
    result = run_cli("ask", "What is KOALA++?")
    assert result.returncode == 0, result.stderr
    assert "KOALA++" in result.stdout and "Sources:" in result.stdout
    assert "No index yet" in result.stderr and "Embedding" in result.stderr and "Ingested 266 papers" in result.stderr
    assert "No index yet" not in result.stdout and "Embedding" not in result.stdout
    assert (tmp_path / "index" / "manifest.json").is_file()


@pytest.mark.parametrize("command", [["search", "process rewards"], ["summarize", "process reward models"]])
def test_json_before_any_ingest_prints_one_json_document_and_nothing_on_stderr(run_cli, command):
    result = run_cli(*command, "--json")
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # exactly one document: anything else on stdout makes this fail
    assert result.stderr == ""


def test_quiet_first_run_prints_no_progress(run_cli):
    result = run_cli("ask", "What is KOALA++?", "--quiet")
    assert result.returncode == 0 and "KOALA++" in result.stdout
    assert result.stderr == ""


def test_a_configured_corpus_that_fails_gives_the_ingest_error(run_cli, tmp_path):
    result = run_cli("ask", "What is KOALA++?", env={"PAPERS_CORPUS": str(tmp_path / "missing")})
    assert result.returncode == 2 and result.stdout == ""
    assert "corpus path not found" in one_error_line(result)
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_ingest_shows_only_our_own_progress(run_cli):
    result = run_cli("ingest")
    assert result.returncode == 0
    assert "Parsing" in result.stderr and "Embedding" in result.stderr
    assert not [n for n in NOISE if n in result.stderr], result.stderr


def test_every_json_command_prints_exactly_one_json_document(run_cli, tmp_path):
    assert run_cli("ingest", "--quiet").returncode == 0
    commands = [["ingest"], ["stats"], ["config"], ["search", "process rewards"], ["ask", "What is KOALA++?"],
                ["summarize", "process reward models"],
                ["eval", "--limit", "3", "--out", str(tmp_path / "run"), "--compare", "bm25"]]
    for command in commands:
        result = run_cli(*command, "--json")
        assert result.returncode == 0, (command, result.stderr)
        json.loads(result.stdout)
        assert result.stderr == "", (command, result.stderr)


@pytest.mark.slow
def test_default_embedder_asks_with_a_clean_stderr(run_cli, corpus_index):
    """The real default models (MiniLM on ONNX Runtime) print nothing of their own."""
    result = run_cli("ask", "What is KOALA++?", env={"PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index)})
    assert result.returncode == 0 and "KOALA++" in result.stdout
    assert result.stderr == ""
