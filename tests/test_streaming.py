"""A streamed ingest: records go to the paper table as they are parsed, the keyword index is built from
token arrays, and no list of the corpus is held (real embedded Chroma, hash embedder)."""

from __future__ import annotations

import gc
import json

import bm25s
import numpy as np

from common.settings import DEFAULT_CORPUS
from ingest import hash_embedding, keyword
from ingest.corpus import build_corpus
from ingest.pipeline import run_ingest
from ingest.records import Paper
from ingest.store import open_index
from tests.test_scale import rows, write


def test_keyword_matrix_has_the_scores_bm25s_computes_itself():
    texts = [f"{p.title} {p.abstract}" for p in build_corpus(DEFAULT_CORPUS, progress=False).papers] + ["", "the of"]
    vocab: dict[str, int] = {}
    docs = keyword.tokenize(texts, vocab)
    reference = bm25s.BM25()
    reference.index(([d.tolist() for d in docs], dict(vocab)), show_progress=False)
    lengths = np.array([len(d) for d in docs])
    tokens, tfs, nnz = keyword.term_counts(np.concatenate(docs), lengths, len(vocab))
    offsets = np.concatenate([[0], np.cumsum(nnz)])
    data, indices, indptr = keyword.bm25_matrix(tokens, tfs, offsets, lengths, len(vocab))
    assert np.array_equal(data, reference.scores["data"])
    assert np.array_equal(indices, reference.scores["indices"])
    assert np.array_equal(indptr, reference.scores["indptr"])


def test_ingest_holds_a_batch_of_papers_not_the_corpus(make_settings, tmp_path, monkeypatch):
    settings = make_settings(PAPERS_WRITE_BATCH_SIZE="20")
    live: list[int] = []
    original = hash_embedding.HashEmbedding._vector

    def counting(self, text: str) -> list[float]:
        if len(live) % 20 == 0:
            live.append(sum(1 for o in gc.get_objects() if isinstance(o, Paper)))
        else:
            live.append(live[-1])
        return original(self, text)

    monkeypatch.setattr(hash_embedding.HashEmbedding, "_vector", counting)
    corpus = write(tmp_path / "corpus", rows(600))
    gc.collect()
    before = sum(1 for o in gc.get_objects() if isinstance(o, Paper))  # other tests' readers may hold some
    report = run_ingest(settings, corpus, progress=False)
    assert report.papers == 600 and len(live) == 600
    assert max(live) - before <= 40  # a write batch's papers (20 chunks), not the 600 of the corpus


def test_a_paper_found_again_in_a_later_file_is_merged_into_its_first_row(make_settings, tmp_path):
    settings = make_settings()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = {"title": "Sparse attention for long documents", "authors": ["Ada Lovelace"], "date": "2021-04-01",
             "abstract": "We propose a sparse attention model. Experiments show gains on benchmark data."}
    later = {"title": "Sparse Attention for Long Documents!", "url": "https://example.org/sparse",
             "abstract": first["abstract"] + " We also study the training cost of the method."}
    (corpus / "a.jsonl").write_text("\n".join(json.dumps(r) for r in [first, *rows(3)]), encoding="utf-8")
    (corpus / "b.jsonl").write_text("\n".join(json.dumps(r) for r in [*rows(5)[3:], later]), encoding="utf-8")
    report = run_ingest(settings, corpus, progress=False)
    assert (report.papers, report.duplicates) == (6, 1)
    papers = open_index(settings).records()["papers"]
    merged = papers[0]  # where the first copy was, in corpus order
    assert merged["title"] == later["title"] and merged["abstract"] == later["abstract"]  # the longer copy
    assert (merged["authors"], merged["year"], merged["url"]) == (["Ada Lovelace"], 2021, later["url"])
    assert [s["file"] for s in merged["sources"]] == ["a.jsonl", "b.jsonl"]


def _staged_peak(tmp_path, n: int) -> int:
    """The Python heap's peak (tracemalloc) while ``n`` JSONL records with ids are staged into a paper table."""
    import tracemalloc

    from ingest import paper_table
    from ingest.corpus import stage_corpus

    folder = write(tmp_path / f"c{n}", [dict(r, id=f"2401.{i:05d}") for i, r in enumerate(rows(n))])
    con = paper_table.create(tmp_path / f"t{n}.sqlite")
    tracemalloc.start()
    try:
        stage_corpus(folder, con, progress=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        con.close()


def test_staging_memory_does_not_grow_with_the_corpus(tmp_path):
    small, large = _staged_peak(tmp_path, 6_000), _staged_peak(tmp_path, 24_000)
    assert large < 1.3 * small, (small, large)  # four times the records (ids held per record: 8.8 -> 15 MB)
