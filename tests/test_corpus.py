"""The bundled corpus becomes exactly its unique papers: no news, no chrome, no duplicates."""

from __future__ import annotations

import json

from ingest.corpus import build_corpus
from ingest.filters import non_paper_reason
from tests.conftest import CORPUS


def test_bundled_corpus_has_266_unique_papers():
    corpus = build_corpus(CORPUS, progress=False)
    assert len(corpus.papers) == 266
    assert len({p.key for p in corpus.papers}) == 266


def test_news_articles_are_dropped_with_a_reason():
    corpus = build_corpus(CORPUS, progress=False)
    dropped = {d.title: d.reason for d in corpus.dropped}
    assert len(dropped) == 2
    assert any("Bloody Mary" in t for t in dropped) and any("Halloween makeup" in t for t in dropped)
    assert all("not a paper abstract" in r for r in dropped.values())
    assert not any("Halloween" in p.title or "Bloody Mary" in p.title for p in corpus.papers)


def test_non_paper_rule_keeps_terse_theory_abstracts():
    abstract = "We prove a lower bound on the sample complexity of the problem and give an algorithm."
    assert non_paper_reason("On Bounds", abstract) is None
    assert non_paper_reason("Pumpkin soup", "Roast the pumpkin, add stock and simmer for an hour.")


def test_duplicates_are_merged_keeping_every_source():
    corpus = build_corpus(CORPUS, progress=False)
    assert len(corpus.duplicates) == 7
    boxing = next(p for p in corpus.papers if p.title.startswith("BoxingGym"))
    assert sorted(s.file[:3] for s in boxing.sources) == ["001", "002"]
    assert boxing.author_count == 7 and boxing.date == "Jan 2, 2025"  # known from the Daily Papers copy


def test_jsonl_records_are_ingested_and_bad_lines_skipped_with_reasons(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [
        {"title": "Sparse Probing of Transformers", "abstract": "We propose a method to probe models. " * 5,
         "authors": ["Ada Lovelace", "Alan Turing"], "date": "2024-03-01", "url": "https://example.org/1"},
        {"title": "No Abstract Here"},
        {"abstract": "We study learning without a title. " * 3},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n", encoding="utf-8")
    corpus = build_corpus(path, progress=False)
    [paper] = corpus.papers
    assert (paper.authors, paper.author_count, paper.year, paper.url) == (
        ["Ada Lovelace", "Alan Turing"], 2, 2024, "https://example.org/1")
    assert [(s.source.line, s.reason) for s in corpus.skipped] == [
        (2, "no abstract"), (3, "no title"), (4, "invalid JSON (Expecting property name enclosed in double quotes)")]
