"""CLI hygiene: bad flags and questions fail before anything loads, Ctrl-C gives 130, a closed pipe is quiet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.test_cli import one_error_line


@pytest.fixture
def indexed(run_cli, tmp_path):
    corpus = tmp_path / "ok.jsonl"
    corpus.write_text("\n".join(json.dumps({"title": f"Sparse Autoencoders {i}", "abstract": "We train sparse autoencoders on model activations and evaluate them. " * 3}) for i in range(30)))
    assert run_cli("ingest", "--corpus", str(corpus), "--quiet").returncode == 0
    return corpus


@pytest.mark.parametrize("flag", [["-k", "0"], ["--k", "-3"], ["--k", "101"]])
def test_out_of_range_k_is_rejected_like_the_setting(run_cli, indexed, flag):
    result = run_cli("search", "sparse autoencoders", *flag)
    assert result.returncode == 2 and result.stdout == ""
    line = one_error_line(result)
    assert f"--k {flag[1]}:" in line and "PAPERS_TOP_K" in line


def test_k_at_the_bounds_is_accepted(run_cli, indexed):
    hits = json.loads(run_cli("search", "sparse autoencoders", "-k", "1", "--json").stdout)
    assert len(hits) == 1


def test_out_of_range_max_papers_is_rejected(run_cli, indexed):
    result = run_cli("summarize", "sparse autoencoders", "--max-papers", "0")
    assert result.returncode == 2 and "PAPERS_SUMMARY_MAX_PAPERS" in one_error_line(result)


def test_empty_question_is_refused_before_any_ingest_or_model_load(tmp_path):
    """No index yet, default embedder: an empty question must neither ingest nor import a model runtime."""
    proc = _popen(["ask", "  "], {"PAPERS_DATA_DIR": str(tmp_path / "index"), "PAPERS_EMBED_BACKEND": "local"}, tmp_path,
                  stdout=subprocess.PIPE, python_flags=["-X", "importtime"])
    out, err = proc.communicate(timeout=120)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert result.returncode == 2
    assert "the question is empty" in one_error_line(result)
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"onnxruntime", "llama_index.core", "chromadb", "torch"}
    assert not (tmp_path / "index" / "manifest.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("args", [["ask", "What is KOALA++?", "--backend", "extractive"], ["search", "process rewards"]])
def test_cold_ask_and_search_answer_without_loading_llama_index_or_tiktoken(corpus_index, tmp_path, args):
    """The cold-start path on an existing index (default embedder): llama-index-core (with SQLAlchemy) and
    tiktoken's encoding are what made it slow; neither loads for an extractive answer or a search."""
    proc = _popen(args, {"PAPERS_DATA_DIR": str(corpus_index), "PAPERS_EMBED_BACKEND": "local"}, tmp_path,
                  stdout=subprocess.PIPE, python_flags=["-X", "importtime"])
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and ("KOALA++" in out if args[0] == "ask" else out.startswith(" 1. ["))
    imported = {line.split("|")[-1].strip() for line in err.splitlines() if line.startswith("import time:")}
    assert "chromadb" in imported  # the check sees the imports of a real answer
    assert not imported & {"llama_index.core", "sqlalchemy", "tiktoken_ext.openai_public", "torch"}


def test_unknown_backend_is_refused_before_any_ingest(run_cli, tmp_path):
    result = run_cli("ask", "What is KOALA++?", "--backend", "gpt9")
    assert "unknown backend 'gpt9'" in one_error_line(result)
    assert not (tmp_path / "index" / "manifest.json").exists()


def _popen(args: list[str], env_extra: dict[str, str], cwd, python_flags: list[str] = (), **kwargs) -> subprocess.Popen:
    """`python -m papers ARGS` as a user's shell would start it (stderr captured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERS_")}
    env.update({"PAPERS_EMBED_BACKEND": "hash", **env_extra})
    return subprocess.Popen([sys.executable, *python_flags, "-m", "papers", *args], env=env, cwd=cwd, text=True,
                            stderr=subprocess.PIPE, preexec_fn=_interactive_sigint, **kwargs)


def _interactive_sigint() -> None:
    """Ctrl-C as in a terminal: a test runner started in the background (CI, nohup) passes SIGINT on ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_closed_stdout_pipe_exits_quietly(indexed, tmp_path):
    """`papers stats | head -1`: the reader is gone before the output is written."""
    proc = _popen(["stats"], {"PAPERS_DATA_DIR": str(tmp_path / "index")}, tmp_path, stdout=subprocess.PIPE)
    proc.stdout.close()  # like `head` exiting
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141
    assert err == ""


def test_ctrl_c_in_chat_exits_130_without_a_traceback(indexed, tmp_path):
    proc = _popen(["chat"], {"PAPERS_DATA_DIR": str(tmp_path / "index")}, tmp_path, stdin=subprocess.PIPE,
                  stdout=subprocess.PIPE, python_flags=["-u"])
    assert proc.stdout.readline().startswith("Ask about the papers")  # waiting for the first question
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and err.startswith("error: interrupted")


def test_ctrl_c_during_first_run_ingest_exits_130_and_leaves_no_index(tmp_path):
    proc = _popen(["ask", "What is KOALA++?"], {"PAPERS_DATA_DIR": str(tmp_path / "index")}, tmp_path,
                  stdout=subprocess.PIPE)
    assert proc.stderr.readline().startswith("No index yet")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and out == ""
    assert "Traceback" not in err and "error: interrupted" in err
    assert not (tmp_path / "index" / "manifest.json").exists()


def _without(modules: list[str], argv: list[str], env_extra: dict[str, str], cwd) -> subprocess.CompletedProcess:
    """Run the CLI as on an install without an optional extra (``sys.modules[name] = None`` makes it unimportable)."""
    code = (f"import sys\nfor m in {modules!r}: sys.modules[m] = None\n"
            f"from papers.cli import main\nsys.exit(main({argv!r}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERS_")}
    env.update({"PAPERS_EMBED_BACKEND": "hash", **env_extra})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_local_backend_without_its_extra_names_the_install_command(tmp_path):
    result = _without(["llama_cpp"], ["ask", "What is KOALA++?", "--backend", "local"],
                      {"PAPERS_DATA_DIR": str(tmp_path / "index")}, tmp_path)
    assert result.returncode == 2
    assert "bash scripts/setup.sh --with-local-llm" in one_error_line(result)
    assert not (tmp_path / "index" / "manifest.json").exists()  # refused before the first-run ingest


def test_torch_embedder_without_its_extra_names_the_install_command(tmp_path):
    result = _without(["sentence_transformers", "llama_index.embeddings.huggingface"], ["ingest", "--quiet"],
                      {"PAPERS_DATA_DIR": str(tmp_path / "index"), "PAPERS_EMBED_BACKEND": "torch"}, tmp_path)
    assert result.returncode == 2
    assert "bash scripts/setup.sh --with-torch" in one_error_line(result)
