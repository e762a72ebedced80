"""A truly shared index on a real `chroma run` server: readers need only PAPERS_CHROMA_URL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.retrieval import Filters
from assistant.search import search
from common.errors import PapersError
from ingest import vectors, writer
from ingest.pipeline import run_ingest
from tests.conftest import CORPUS, start_chroma, stop

pytestmark = pytest.mark.slow

NEW_TITLE = "Tidal Gradient Folding for Sparse Mixture Routers"
NEW_URL = "https://arxiv.org/abs/2501.01234"


def corpus_with_new_paper(folder: Path) -> Path:
    shutil.copytree(CORPUS, folder)
    record = {"title": NEW_TITLE, "url": NEW_URL, "authors": ["Mira Okonkwo", "Lars Pettersen"], "date": "2025-01-03",
              "abstract": "We introduce tidal gradient folding, which folds router gradients of sparse mixture-of-experts "
                          "layers into a shared buffer; experiments show that routers trained with this method balance the "
                          "experts of the model without an auxiliary loss."}
    (folder / "new.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    return folder


def test_a_reader_with_an_empty_data_dir_answers_like_the_writer(make_settings, chroma_server, tmp_path, run_cli):
    writer_settings = make_settings(PAPERS_CHROMA_URL=chroma_server, PAPERS_COLLECTION_PREFIX="shared_a")
    run_ingest(writer_settings, CORPUS, progress=False)
    query = "Kalman filter optimizer with gradient covariance"
    expected = [h.paper_id for h in search(query, k=5, settings=writer_settings)]

    done = run_cli("search", query, "-k", "5", "--json", env={
        "PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_a",
        "PAPERS_DATA_DIR": str(tmp_path / "reader-only")})
    assert done.returncode == 0, done.stderr
    assert "No index yet" not in done.stderr  # it reads the server's index, it does not ingest its own
    hits = json.loads(done.stdout)
    assert [h["paper_id"] for h in hits] == expected
    assert hits[0]["title"].startswith("KOALA++")
    assert (tmp_path / "reader-only" / "gen-1" / "papers.sqlite").is_file()  # its caches, built from the server


def test_a_reader_with_an_empty_data_dir_filters_from_its_own_vectors_like_the_writer(make_settings, chroma_server, tmp_path):
    env = {"PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_f"}
    writer_settings = make_settings(**env)
    run_ingest(writer_settings, CORPUS, progress=False)
    reader = make_settings(**env, PAPERS_DATA_DIR=str(tmp_path / "reader-f"))
    only_2024 = Filters(year_from=2024, year_to=2024)
    query = "reinforcement learning for language model reasoning"
    expected = [(h.paper_id, h.score) for h in search(query, k=5, settings=writer_settings, filters=only_2024)]

    got = [(h.paper_id, h.score) for h in search(query, k=5, settings=reader, filters=only_2024)]
    assert got == expected and expected
    assert (tmp_path / "reader-f" / "gen-1" / vectors.FILE).is_file()  # scored locally, not by Chroma's where


def test_a_running_reader_sees_the_writers_next_ingest(make_settings, chroma_server, tmp_path):
    env = {"PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_b"}
    writer_settings = make_settings(**env)
    reader = make_settings(**env, PAPERS_DATA_DIR=str(tmp_path / "reader"), PAPERS_SHARED_CHECK_SECONDS="0")
    run_ingest(writer_settings, CORPUS, progress=False)
    assert not any(h.title == NEW_TITLE for h in search("tidal gradient folding routers", k=3, settings=reader))

    report = run_ingest(writer_settings, corpus_with_new_paper(tmp_path / "corpus2"), progress=False)
    assert (report.status, report.added_papers) == ("updated", 1)
    hits = search("tidal gradient folding routers", k=3, settings=reader)
    assert hits[0].title == NEW_TITLE and hits[0].url == NEW_URL


def test_a_server_going_away_mid_ingest_keeps_the_previous_generation(make_settings, tmp_path, monkeypatch):
    proc, url = start_chroma(tmp_path / "server")
    try:
        env = {"PAPERS_CHROMA_URL": url, "PAPERS_COLLECTION_PREFIX": "gone", "PAPERS_WRITE_BATCH_SIZE": "16"}
        settings = make_settings(**env)
        small = tmp_path / "small"
        small.mkdir()
        shutil.copy(next(CORPUS.glob("000_*.txt")), small)
        first = run_ingest(settings, small, progress=False)

        embed = writer._Embedder.__call__
        calls = []

        def server_dies_after_two_batches(self, texts):  # the real embedder; the server stops under the ingest
            calls.append(len(texts))
            if len(calls) == 3:
                stop(proc)
            return embed(self, texts)

        monkeypatch.setattr(writer._Embedder, "__call__", server_dies_after_two_batches)
        with pytest.raises(PapersError) as failed:
            run_ingest(settings, CORPUS, progress=False)
        message = str(failed.value)
        assert url in message and "\n" not in message and "previous generation" in message
        monkeypatch.setattr(writer._Embedder, "__call__", embed)

        proc, _ = start_chroma(tmp_path / "server", port=int(url.rsplit(":", 1)[1]))
        reader = make_settings(**env, PAPERS_DATA_DIR=str(tmp_path / "reader"))
        assert len(search("learning", k=50, settings=reader)) == min(50, first.papers)
        manifest = json.loads((tmp_path / "reader" / "manifest.json").read_text())
        assert manifest["generation"] == first.generation
    finally:
        stop(proc)


def test_a_writer_with_an_empty_data_dir_updates_the_servers_index(make_settings, chroma_server, tmp_path):
    env = {"PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_c"}
    first = run_ingest(make_settings(**env), CORPUS, progress=False)
    other_writer = make_settings(**env, PAPERS_DATA_DIR=str(tmp_path / "other-writer"))
    report = run_ingest(other_writer, corpus_with_new_paper(tmp_path / "corpus2"), progress=False)
    assert (report.status, report.generation, report.added_papers) == ("updated", first.generation + 1, 1)
    assert report.embedded < 5  # an update on the server's live generation, not a rebuild


def test_the_http_api_of_a_reader_with_only_the_url_answers_with_links(make_settings, chroma_server, tmp_path):
    import httpx

    from tests.serve_fixtures import start_serve
    from tests.test_links import ARXIV_URL, QUESTION, write_corpus

    env = {"PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_d"}
    run_ingest(make_settings(**env), write_corpus(tmp_path / "corpus"), progress=False)
    server = start_serve(tmp_path / "api-reader", tmp_path, **env, PAPERS_EMBED_BACKEND="hash", PAPERS_LLM="extractive")
    try:
        asked = httpx.post(server.base + "/ask", json={"question": QUESTION, "k": 3}, timeout=120).json()
    finally:
        server.stop()
    assert {c["title"]: c["url"] for c in asked["citations"]}["Hierarchical Beam Tokenizers for Speech Compression"] == ARXIV_URL


def test_two_reader_processes_with_their_own_data_dirs_agree(make_settings, chroma_server, tmp_path, run_cli):
    import httpx

    from tests.serve_fixtures import start_serve

    env = {"PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_e"}
    run_ingest(make_settings(**env), CORPUS, progress=False)
    query = "mixture of experts routing"
    server = start_serve(tmp_path / "api-reader", tmp_path, **env, PAPERS_EMBED_BACKEND="hash")
    try:
        api_hits = httpx.post(server.base + "/search", json={"query": query, "k": 8}, timeout=120).json()
    finally:
        server.stop()
    done = run_cli("search", query, "-k", "8", "--json", env={**env, "PAPERS_DATA_DIR": str(tmp_path / "cli-reader")})
    assert done.returncode == 0, done.stderr
    assert [(h["paper_id"], h["score"]) for h in json.loads(done.stdout)] == [(h["paper_id"], h["score"]) for h in api_hits]


def test_a_running_api_process_answers_from_the_writers_next_ingest_without_a_restart(make_settings, chroma_server, tmp_path):
    import httpx

    from tests.serve_fixtures import start_serve

    env = {"PAPERS_CHROMA_URL": chroma_server, "PAPERS_COLLECTION_PREFIX": "shared_g"}
    writer_settings = make_settings(**env)
    run_ingest(writer_settings, CORPUS, progress=False)
    server = start_serve(tmp_path / "api-reader", tmp_path, **env, PAPERS_EMBED_BACKEND="hash",
                         PAPERS_SHARED_CHECK_SECONDS="0")
    try:
        def top() -> dict:
            return httpx.post(server.base + "/search", json={"query": "tidal gradient folding routers", "k": 1},
                              timeout=120).json()[0]

        assert top()["title"] != NEW_TITLE
        run_ingest(writer_settings, corpus_with_new_paper(tmp_path / "corpus2"), progress=False)
        assert (top()["title"], top()["url"]) == (NEW_TITLE, NEW_URL)
    finally:
        server.stop()
