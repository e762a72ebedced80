"""Ingest into a real embedded Chroma: created, searchable, incremental, and safe to interrupt."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

from common.errors import PapersError
from assistant.search import search
from ingest.pipeline import run_ingest
from ingest.stats import index_stats
from ingest.store import open_index
from tests.conftest import CORPUS


def small_corpus(tmp_path, n=3):
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    rows = [
        {"title": f"Paper {i}: {topic}", "abstract": f"We propose a method for {topic}. Our experiments show gains on benchmark data. " * 3,
         "authors": [f"Author {i}", "Jinwoo Shin" if i == 1 else "Ada Lovelace"]}
        for i, topic in enumerate(["graph neural networks", "speculative decoding", "protein folding", "tabular data"][:n])
    ]
    (folder / "papers.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return folder


def test_full_corpus_ingest_stores_every_unique_paper(make_settings):
    settings = make_settings()
    report = run_ingest(settings, CORPUS, progress=False)
    assert (report.status, report.papers, report.dropped, report.duplicates) == ("created", 266, 2, 7)
    stats = index_stats(settings)
    assert stats["papers"] == 266 and stats["chunks"] == report.chunks >= 266
    assert sum(stats["per_source"].values()) == 266 + 7  # merged duplicates count once per file they came from
    assert stats["embedder"] == "hash:256" and stats["index_bytes"] > 0
    records = open_index(settings).records()
    spreaders = next(p for p in records["papers"] if p["title"] == "Identifying Super Spreaders in Multilayer Networks")
    assert spreaders["authors"][0] == "Michał Czuba"


def test_chunk_hit_carries_its_paper_metadata(make_settings):
    settings = make_settings()
    run_ingest(settings, CORPUS, progress=False)
    got = open_index(settings).collection.get(limit=5, include=["metadatas"])
    for meta in got["metadatas"]:
        assert meta["title"] and meta["paper_id"] and meta["content_hash"]
        scalars = {k: v for k, v in meta.items() if k not in ("author_keys", "source_files")}
        assert all(isinstance(v, (str, int, float, bool)) for v in scalars.values())
        assert all(isinstance(v, str) for v in meta.get("author_keys", []) + meta["source_files"])


def test_search_finds_a_paper_through_its_author_field(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, small_corpus(tmp_path), progress=False)
    hits = search("speculative decoding", k=2, settings=settings)
    assert hits[0].title == "Paper 1: speculative decoding"
    assert "Jinwoo Shin" in hits[0].authors


def test_unchanged_reingest_embeds_nothing_and_changes_nothing(make_settings):
    settings = make_settings()
    run_ingest(settings, CORPUS, progress=False)
    manifest = (settings.index.data_dir / "manifest.json").read_text()
    again = run_ingest(settings, CORPUS, progress=False)
    assert (again.status, again.embedded) == ("unchanged", 0)
    assert (settings.index.data_dir / "manifest.json").read_text() == manifest


def test_edited_paper_is_reembedded_alone_and_removed_paper_removed(make_settings, tmp_path):
    settings = make_settings()
    folder = small_corpus(tmp_path, n=3)
    first = run_ingest(settings, folder, progress=False)
    rows = [json.loads(line) for line in (folder / "papers.jsonl").read_text().splitlines()]
    rows[0]["abstract"] += " We also release code."
    rows.pop(2)
    (folder / "papers.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    second = run_ingest(settings, folder, progress=False)
    assert second.status == "updated"
    assert (second.embedded, second.reused) == (1, first.chunks - 2)
    assert (second.added_papers, second.changed_papers, second.removed_papers) == (0, 1, 1)
    titles = {m["title"] for m in open_index(settings).collection.get(include=["metadatas"])["metadatas"]}
    assert titles == {"Paper 0: graph neural networks", "Paper 1: speculative decoding"}


def test_old_generation_is_cleaned_up_after_switch(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, small_corpus(tmp_path, 2), progress=False)
    run_ingest(settings, small_corpus(tmp_path, 3), progress=False)
    assert sorted(p.name for p in settings.index.data_dir.glob("gen-*")) == ["gen-2"]


def test_querying_with_another_embedder_is_a_clear_error(make_settings, tmp_path):
    run_ingest(make_settings(), small_corpus(tmp_path), progress=False)
    with pytest.raises(PapersError, match="built with hash:256 but the configured embedder is openai"):
        search("anything", settings=make_settings(PAPERS_EMBED_BACKEND="openai", OPENAI_API_KEY="sk-test"))


def test_killed_ingest_leaves_the_previous_index_live(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, small_corpus(tmp_path), progress=False)
    big = tmp_path / "big.jsonl"
    with big.open("w") as fh:
        for i in range(4000):
            fh.write(json.dumps({"title": f"Synthetic study {i}", "abstract": f"We propose model {i} and evaluate it on data. " * 8}) + "\n")
    env = {"PAPERS_EMBED_BACKEND": "hash", "PAPERS_DATA_DIR": str(settings.index.data_dir), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ingest", "--corpus", str(big)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True, bufsize=1)
    seen = ""
    deadline = time.time() + 120
    while "Embedding" not in seen and time.time() < deadline and proc.poll() is None:
        seen += proc.stderr.read(1)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stats = index_stats(settings)
    assert stats["papers"] == 3 and stats["generation"] == 1
    assert search("protein folding", k=1, settings=settings)[0].title == "Paper 2: protein folding"
    # the next ingest cleans the half-built generation up and succeeds
    report = run_ingest(settings, small_corpus(tmp_path, 4), progress=False)
    # gen-1 stays only while this process's loaded assistant (the search above) still reads it
    assert report.papers == 4 and sorted(p.name for p in settings.index.data_dir.glob("gen-*")) in (["gen-2"], ["gen-1", "gen-2"])
    assert open_index(settings).manifest["generation"] == 2
    assert not list(settings.index.data_dir.glob(".stage-*"))  # the killed ingest's staged paper table is gone too


def test_missing_live_files_trigger_a_rebuild_instead_of_a_false_no_op(make_settings, tmp_path):
    settings = make_settings()
    folder = small_corpus(tmp_path)
    run_ingest(settings, folder, progress=False)
    shutil.rmtree(settings.index.data_dir / "gen-1" / "bm25")
    report = run_ingest(settings, folder, progress=False)
    assert report.status == "repaired" and report.embedded == 0


def test_ingest_beyond_one_chroma_batch_writes_every_chunk(make_settings, tmp_path):
    settings = make_settings(PAPERS_WRITE_BATCH_SIZE="64")
    report = run_ingest(settings, CORPUS, progress=False)
    assert report.chunks > 64 * 4 and open_index(settings).collection.count() == report.chunks == report.embedded
    hit = search("BoxingGym experimental design", k=1, settings=settings)[0]
    assert hit.title.startswith("BoxingGym")
