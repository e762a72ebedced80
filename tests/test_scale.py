"""Updates that cost what changed, and filters pushed into Chroma (real embedded Chroma, hash embedder)."""

from __future__ import annotations

import json

from assistant.retrieval import Filters, Retriever
from ingest import hash_embedding
from ingest.pipeline import run_ingest
from ingest.store import open_index

TOPICS = ["graph neural networks", "speculative decoding", "protein folding", "tabular data", "reward models",
          "diffusion sampling", "sparse attention", "federated learning", "causal discovery", "code generation"]


def rows(n: int) -> list[dict]:
    return [{"title": f"Study {i} of {TOPICS[i % len(TOPICS)]}",
             "abstract": f"We propose a method for {TOPICS[i % len(TOPICS)]} number {i}. Our experiments show gains "
                         f"on benchmark data with model variant v{i}.",
             "authors": [f"Author Number{i}", "Ada Lovelace" if i % 2 else "Grace Hopper"],
             "date": f"{2015 + i % 10}-03-01"} for i in range(n)]


def write(folder, records: list[dict]):
    folder.mkdir(exist_ok=True)
    (folder / "papers.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    return folder


def count_embedded(monkeypatch) -> list[str]:
    """The texts the (real) hash embedder is asked to embed, in order."""
    seen: list[str] = []
    original = hash_embedding.HashEmbedding._vector

    def counting(self, text: str) -> list[float]:
        seen.append(text)
        return original(self, text)

    monkeypatch.setattr(hash_embedding.HashEmbedding, "_vector", counting)
    return seen


def test_update_embeds_only_the_changed_papers(make_settings, tmp_path, monkeypatch):
    settings = make_settings()
    papers = rows(60)
    run_ingest(settings, write(tmp_path / "corpus", papers), progress=False)
    papers[5]["abstract"] += " We also release the code."
    del papers[7]
    papers.append({**rows(61)[60], "title": "A new study of quantum annealing"})
    seen = count_embedded(monkeypatch)
    report = run_ingest(settings, write(tmp_path / "corpus", papers), progress=False)
    assert (report.changed_papers, report.added_papers, report.removed_papers) == (1, 1, 1)
    assert len(seen) == report.embedded == 2 and any("quantum annealing" in t for t in seen)
    assert open_index(settings).manifest["delta"]  # the base collection was not rewritten


def test_reader_of_the_previous_generation_keeps_its_papers_after_an_update(make_settings, tmp_path):
    settings = make_settings()
    papers = rows(60)
    run_ingest(settings, write(tmp_path / "corpus", papers), progress=False)
    before = Retriever(settings)
    removed = papers.pop(3)["title"]
    run_ingest(settings, write(tmp_path / "corpus", papers), progress=False)
    after = Retriever(settings)
    query = "tabular data number 3 variant v3"
    assert before.retrieve(query, k=1).hits[0].paper.title == removed
    assert removed not in [h.paper.title for h in after.retrieve(query, k=5).hits]


def test_year_filter_is_a_chroma_where_on_the_year(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, write(tmp_path / "corpus", rows(60)), progress=False)
    retriever = Retriever(settings)
    got = retriever.collection.query(query_embeddings=[retriever.query_embedding("protein folding")], n_results=50,
                                     where={"year": {"$eq": 2017}})
    assert got["ids"][0] and {m["year"] for m in got["metadatas"][0]} == {2017}
    hits = retriever.retrieve("protein folding", k=5, filters=Filters(year_from=2017, year_to=2017)).hits
    assert hits and {h.paper.year for h in hits} == {2017}
    assert "protein folding" in hits[0].paper.title  # the filtered pool is searched, not a post-filtered top 10


def test_author_filter_matches_a_part_of_a_name_through_author_keys(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, write(tmp_path / "corpus", rows(60)), progress=False)
    retriever = Retriever(settings)
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.retrieve("graph neural networks", k=10, mode=mode, filters=Filters(author="lovelace")).hits
        assert hits and all("Ada Lovelace" in h.paper.authors for h in hits)
    assert retriever.retrieve("graph neural networks", filters=Filters(author="nobody-like-this")).hits == []


def updated_and_fresh(make_settings, tmp_path, edit: int, drop: int) -> tuple[Retriever, Retriever]:
    """Readers of an index updated (paper ``edit`` changed, ``drop`` removed) and of one built from scratch."""
    papers = rows(60)
    updated = make_settings()
    run_ingest(updated, write(tmp_path / "corpus", papers), progress=False)
    papers[edit]["abstract"] += " We also release the code for protein folding."
    papers.pop(drop)
    run_ingest(updated, write(tmp_path / "corpus", papers), progress=False)
    fresh = make_settings(PAPERS_DATA_DIR=str(tmp_path / "fresh"))
    run_ingest(fresh, write(tmp_path / "corpus", papers), progress=False)
    return Retriever(updated), Retriever(fresh)


def test_an_updated_index_answers_like_one_built_from_scratch(make_settings, tmp_path):
    a, b = updated_and_fresh(make_settings, tmp_path, edit=5, drop=9)
    for query in ("protein folding code", "causal discovery benchmark", "Ada Lovelace"):
        for mode in ("bm25", "dense"):
            got = {h.paper_id: round(h.score, 5) for h in a.retrieve(query, k=5, mode=mode).hits}
            want = {h.paper_id: round(h.score, 5) for h in b.retrieve(query, k=5, mode=mode).hits}
            assert sorted(got.values()) == sorted(want.values())  # the same scores (ties may order differently)
            assert all(want.get(pid, score) == score for pid, score in got.items())


def test_a_megabyte_long_abstract_is_chunked(make_settings, tmp_path):
    sentence = "We propose a model of protein folding and evaluate it on benchmark data. "
    huge = {"title": "A very long abstract", "abstract": sentence * (1_000_000 // len(sentence)), "authors": ["Ada Lovelace"]}
    settings = make_settings()
    report = run_ingest(settings, write(tmp_path / "corpus", [huge, *rows(3)]), progress=False)
    assert report.papers == 4 and report.chunks > 500  # split into chunk-sized pieces, every one stored
    assert open_index(settings).collection.count() == report.chunks


def test_filters_combine_a_name_with_the_papers_of_a_follow_up(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, write(tmp_path / "corpus", rows(60)), progress=False)
    retriever = Retriever(settings)
    lovelace = [h.paper_id for h in retriever.retrieve("study", k=20, filters=Filters(author="Ada Lovelace")).hits]
    those = frozenset(lovelace[:2])
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.retrieve("study", k=10, mode=mode, filters=Filters(author="lovelace", paper_ids=those)).hits
        assert {h.paper_id for h in hits} == those


def test_an_update_carries_the_vectors_filtered_search_reads(make_settings, tmp_path):
    a, b = updated_and_fresh(make_settings, tmp_path, edit=4, drop=14)
    assert a.index.manifest["delta"] and a.dense.matrix is not None  # an update, scored from the vectors file
    for flt in (Filters(year_from=2019, year_to=2019), Filters(author="lovelace")):
        got = {h.paper_id: round(h.dense, 5) for h in a.retrieve("protein folding code", k=5, mode="dense", filters=flt).hits}
        want = {h.paper_id: round(h.dense, 5) for h in b.retrieve("protein folding code", k=5, mode="dense", filters=flt).hits}
        assert got and got == want



def test_an_author_filter_matching_many_names_keeps_exactly_their_papers_as_chromas_where_does(make_settings, tmp_path):
    settings = make_settings()
    run_ingest(settings, write(tmp_path / "corpus", rows(60)), progress=False)
    wanted = {f"Study {i} of {TOPICS[i % len(TOPICS)]}" for i in [1, *range(10, 20)]}  # "Author Number1", "...Number10".."19"
    mine = Retriever(settings)  # masks from the in-memory author index, scored from the vectors file
    (mine.index.generation_dir / "vectors.f32").unlink()
    chroma = Retriever(settings)  # no vectors file: Chroma's where on author_keys
    assert mine.dense.matrix is not None and chroma.dense.matrix is None
    for retriever in (mine, chroma):
        for mode in ("dense", "bm25"):
            hits = retriever.retrieve_wide("study gains", k=60, mode=mode, filters=Filters(author="NUMBER1")).hits
            assert {h.paper.title for h in hits} == wanted
