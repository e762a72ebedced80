"""The corpora users have: arXiv metadata snapshot lines and BibTeX exports, parsed into papers."""

from __future__ import annotations

import json

from ingest.corpus import build_corpus
from ingest.pipeline import run_ingest

ABSTRACT = "We propose a method for {0} and evaluate the model on benchmark data; experiments show gains."


def arxiv_line(arxiv_id: str, title: str, categories: str, abstract_topic: str, date: str = "2024-02-01") -> str:
    return json.dumps({"id": arxiv_id, "submitter": "A. Person", "authors": "Ada Lovelace, Grace Hopper and Alan Turing",
                       "title": title, "comments": "10 pages", "journal-ref": None, "doi": None,
                       "categories": categories, "license": None, "abstract": "  " + ABSTRACT.format(abstract_topic) + "\n",
                       "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 00:00:00 GMT"}],
                       "update_date": date, "authors_parsed": [["Lovelace", "Ada", ""]]})


def test_arxiv_snapshot_lines_are_read_as_they_are(tmp_path):
    path = tmp_path / "arxiv-metadata-oai-snapshot.jsonl"
    path.write_text("\n".join([
        arxiv_line("2401.00001", "Graph networks for molecules", "cs.LG q-bio.BM", "graph networks"),
        arxiv_line("2401.00002", "A study of galaxies", "astro-ph.GA", "galaxy surveys"),
        arxiv_line("2401.00001", "Graph networks for molecules, revised", "cs.LG", "graph networks, revised", "2024-05-02"),
    ]), encoding="utf-8")
    corpus = build_corpus(path, progress=False, categories=frozenset({"cs.LG"}))
    [paper] = corpus.papers
    assert paper.title == "Graph networks for molecules, revised"  # the later version of the id wins
    assert (corpus.replaced, corpus.filtered) == (1, 1)
    assert paper.authors == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    assert (paper.date, paper.year, paper.url) == ("2024-05-02", 2024, "https://arxiv.org/abs/2401.00001")


BIB = r"""
@article{lovelace2020,
  title = {Deep {L}earning for Protein Folding},
  author = {Lovelace, Ada and Grace Hopper},
  year = {2020},
  month = {may},
  doi = {10.1000/xyz123},
  abstract = {We propose a model for protein folding and evaluate it on benchmark data; experiments show gains.}
}

@inproceedings{noabstract2021,
  title = {A Paper Without an Abstract},
  author = {Turing, Alan},
  year = {2021}
}
"""


def test_bibtex_entries_become_papers_and_entries_without_abstract_are_listed(tmp_path, make_settings):
    path = tmp_path / "zotero.bib"
    path.write_text(BIB, encoding="utf-8")
    report = run_ingest(make_settings(), path, progress=False)
    assert (report.papers, report.skipped) == (1, 1)
    assert "noabstract2021 has no abstract" in report.skipped_records[0]["reason"]
    [paper] = build_corpus(path, progress=False).papers
    assert paper.title == "Deep Learning for Protein Folding"
    assert paper.authors == ["Ada Lovelace", "Grace Hopper"]
    assert (paper.year, paper.url) == (2020, "https://doi.org/10.1000/xyz123")


def test_stats_count_the_replaced_versions_and_the_records_outside_the_categories(run_cli, tmp_path):
    path = tmp_path / "arxiv-metadata-oai-snapshot.jsonl"
    path.write_text("\n".join([
        arxiv_line("2401.00001", "Graph networks for molecules", "cs.LG", "graph networks"),
        arxiv_line("2401.00002", "A study of galaxies", "astro-ph.GA", "galaxy surveys"),
        arxiv_line("2401.00001", "Graph networks for molecules, revised", "cs.LG", "graph networks, revised"),
    ]), encoding="utf-8")
    done = run_cli("ingest", "--corpus", str(path), env={"PAPERS_CATEGORIES": "cs.LG"})
    assert done.returncode == 0, done.stderr
    assert "1 replaced by a later record with the same id, 1 outside PAPERS_CATEGORIES" in done.stdout
    stats = json.loads(run_cli("stats", "--json").stdout)
    assert (stats["papers"], stats["replaced"], stats["filtered"]) == (1, 1, 1)
    assert "Replaced by a later record with the same id (e.g. a newer arXiv version): 1" in run_cli("stats").stdout


def test_the_arxiv_snapshot_is_read_under_the_name_it_is_downloaded_with(tmp_path):
    path = tmp_path / "arxiv-metadata-oai-snapshot.json"  # JSON lines, named .json by arXiv's Kaggle dataset
    path.write_text(arxiv_line("2401.00001", "Graph networks for molecules", "cs.LG", "graph networks") + "\n",
                    encoding="utf-8")
    [paper] = build_corpus(path, progress=False).papers
    assert (paper.title, paper.url) == ("Graph networks for molecules", "https://arxiv.org/abs/2401.00001")
