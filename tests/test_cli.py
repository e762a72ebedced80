"""The `papers` command as a user meets it: one clear error line, a non-zero exit, the index untouched."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORPUS


def one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def indexed(run_cli, tmp_path):
    """A small live index, so every failing command can prove it left the index alone."""
    corpus = tmp_path / "ok.jsonl"
    corpus.write_text(json.dumps({"title": "Sparse Autoencoders at Scale", "abstract": "We train sparse autoencoders on model activations and evaluate them. " * 3}))
    assert run_cli("ingest", "--corpus", str(corpus), "--quiet").returncode == 0
    return lambda: json.loads(run_cli("stats", "--json").stdout)


def test_ingest_json_and_stats_json_report_the_whole_corpus(run_cli):
    report = json.loads(run_cli("ingest", "--json", "--corpus", str(CORPUS)).stdout)
    assert (report["status"], report["papers"], report["dropped"], report["duplicates"]) == ("created", 266, 2, 7)
    stats = json.loads(run_cli("stats", "--json").stdout)
    assert stats["papers"] == 266 and len(stats["dropped"]) == 2 and len(stats["duplicates_merged"]) == 7
    assert all("reason" in d for d in stats["dropped"])


def test_search_prints_titles_scores_and_authors(run_cli, indexed):
    out = json.loads(run_cli("search", "sparse autoencoders", "-k", "1", "--json").stdout)
    assert out[0]["title"] == "Sparse Autoencoders at Scale" and isinstance(out[0]["score"], float)
    text = run_cli("search", "sparse autoencoders").stdout
    assert "1. [" in text and "Sparse Autoencoders at Scale" in text


@pytest.mark.parametrize(
    "make_input, expected",
    [
        (lambda d: d / "missing", "corpus path not found"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "no .txt, .jsonl, .json or .bib files"),
        (lambda d: (d / "bin.txt").write_bytes(b"\x00\x01\x02binary") and d / "bin.txt", "binary file"),
        (lambda d: (d / "latin1.txt").write_bytes("Caf\xe9 na\xefve".encode("latin-1")) and d / "latin1.txt", "not UTF-8"),
        (lambda d: (d / "notes.pdf").write_bytes(b"%PDF") and d / "notes.pdf", "unsupported corpus file"),
    ],
)
def test_bad_corpus_gives_one_line_and_keeps_the_index(run_cli, indexed, tmp_path, make_input, expected):
    before = indexed()
    result = run_cli("ingest", "--corpus", str(make_input(tmp_path)))
    assert result.returncode != 0
    assert expected in one_error_line(result)
    assert indexed() == before


def test_jsonl_with_bad_lines_updates_index_exits_3_and_lists_skips(run_cli, tmp_path):
    corpus = tmp_path / "mixed.jsonl"
    corpus.write_text("\n".join([
        json.dumps({"title": "Good Paper", "abstract": "We propose a model and run experiments on data. " * 3}),
        json.dumps({"title": "Missing abstract"}),
    ]))
    result = run_cli("ingest", "--corpus", str(corpus))
    assert result.returncode == 3
    assert "skipped mixed.jsonl:2: no abstract" in result.stderr
    stats = json.loads(run_cli("stats", "--json").stdout)
    assert stats["papers"] == 1 and stats["skipped"][0]["reason"] == "no abstract"


def test_unreachable_chroma_server_is_named(run_cli, tmp_path):
    result = run_cli("ingest", "--corpus", str(CORPUS), env={"PAPERS_CHROMA_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert "cannot reach the Chroma server at http://127.0.0.1:9" in one_error_line(result)


def test_unwritable_data_dir_is_named(run_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("ingest", env={"PAPERS_DATA_DIR": str(blocker / "index")})
    assert result.returncode == 2
    assert "is not writable" in one_error_line(result) and "PAPERS_DATA_DIR" in result.stderr


def test_stats_before_any_ingest_says_run_ingest_first(run_cli):
    result = run_cli("stats")
    assert result.returncode == 2
    assert "run `papers ingest` first" in one_error_line(result)


def test_empty_question_is_refused(run_cli, indexed):
    assert "the question is empty" in one_error_line(run_cli("search", "   "))


def test_invalid_setting_names_the_field(run_cli):
    result = run_cli("stats", env={"PAPERS_CHUNK_SIZE": "huge"})
    assert result.returncode == 2 and "chunk_size" in one_error_line(result)


def test_config_lists_every_option_with_env_var_and_description(run_cli):
    rows = json.loads(run_cli("config", "--json", env={"OPENAI_API_KEY": "sk-secret-value"}).stdout)
    envs = {r["env"] for r in rows}
    assert {"PAPERS_DATA_DIR", "PAPERS_CHROMA_URL", "PAPERS_EMBED_BACKEND", "PAPERS_CHUNK_SIZE"} <= envs
    assert all(r["description"] for r in rows)
    key_row = next(r for r in rows if r["name"] == "openai_api_key")
    assert key_row["value"] == "(set)"
    assert "sk-secret-value" not in run_cli("config", env={"OPENAI_API_KEY": "sk-secret-value"}).stdout
