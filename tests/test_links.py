"""Links (arXiv id or URL, DOI) of the corpus's records are shown with each citation that has one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import assistant
from assistant.render import answer_markdown
from ingest.pipeline import run_ingest

ARXIV_URL = "https://arxiv.org/abs/2403.04567"
DOI_URL = "https://doi.org/10.1000/xyz.2024.7"
QUESTION = "How do hierarchical beam tokenizers compress speech?"


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "arxiv.jsonl").write_text(json.dumps({
        "id": "2403.04567", "title": "Hierarchical Beam Tokenizers for Speech Compression",
        "authors": "Ines Moreau and Tomas Havel", "update_date": "2024-03-08", "categories": "cs.CL eess.AS",
        "abstract": "We propose hierarchical beam tokenizers, a method that compresses speech into discrete tokens; "
                    "experiments show the model keeps intelligibility at a third of the bitrate of prior codecs.",
    }) + "\n" + json.dumps({
        "title": "Dangerous Links in Ranking Evaluation", "url": "javascript:alert(1)", "authors": ["Eve Mallory"],
        "abstract": "We study ranking evaluation with a new method and run experiments showing the model of "
                    "hierarchical beam search changes ranking metrics.",
    }) + "\n", encoding="utf-8")
    (folder / "refs.bib").write_text("""@article{kowal2024,
  title = {Graph Priors for Protein Folding},
  author = {Kowal, Anna and Lee, Min},
  year = {2024},
  doi = {10.1000/xyz.2024.7},
  abstract = {We present a method that adds graph priors to protein folding models; experiments show better accuracy.}
}
""", encoding="utf-8")
    return folder


@pytest.fixture
def linked(make_settings, tmp_path):
    settings = make_settings(PAPERS_CORPUS=str(write_corpus(tmp_path / "corpus")))
    run_ingest(settings, progress=False)
    return settings


def test_api_answer_carries_each_citations_link(linked):
    data = assistant.ask(QUESTION, settings=linked, backend="extractive").as_dict()
    cited = {c["title"]: c["url"] for c in data["citations"]}
    assert cited["Hierarchical Beam Tokenizers for Speech Compression"] == ARXIV_URL
    assert {s["title"]: s["url"] for s in data["sources"]}["Hierarchical Beam Tokenizers for Speech Compression"] == ARXIV_URL


def test_a_doi_becomes_the_link_of_a_bibtex_paper(linked):
    data = assistant.ask("graph priors for protein folding", settings=linked, backend="extractive").as_dict()
    assert {c["title"]: c["url"] for c in data["citations"]}["Graph Priors for Protein Folding"] == DOI_URL


def test_markdown_export_lists_the_link_with_the_source(linked):
    text = answer_markdown(assistant.ask(QUESTION, settings=linked, backend="extractive"))
    sources = text.split("Sources:", 1)[1]
    assert any("Hierarchical Beam Tokenizers" in line and ARXIV_URL in line for line in sources.splitlines())


def test_cli_answer_shows_the_link(run_cli, tmp_path):
    corpus = write_corpus(tmp_path / "cli-corpus")
    done = run_cli("ask", QUESTION, "--backend", "extractive", env={"PAPERS_CORPUS": str(corpus)})
    assert done.returncode == 0, done.stderr
    assert ARXIV_URL in done.stdout.split("Sources:", 1)[1]


@pytest.mark.slow
def test_ui_source_card_links_http_urls_only(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    monkeypatch.setenv("PAPERS_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("PAPERS_EMBED_BACKEND", "hash")
    monkeypatch.setenv("PAPERS_CORPUS", str(write_corpus(tmp_path / "ui-corpus")))
    monkeypatch.setenv("PAPERS_LLM", "extractive")
    at = AppTest.from_file(str(REPO / "ui" / "chat_page.py"), default_timeout=180)
    at.run()
    at.chat_input[0].set_value(QUESTION).run()  # each paper is asked about on its own turn, so both are sources
    at.chat_input[0].set_value("How does hierarchical beam search change ranking evaluation metrics?").run()
    assert not at.exception
    cards = {e.label: [m.value for m in e.markdown] for e in at.expander}
    beam = next(v for k, v in cards.items() if "Hierarchical Beam" in k)
    assert f"({ARXIV_URL})" in "".join(beam)
    evil = next(v for k, v in cards.items() if "Dangerous Links" in k)
    assert not any("javascript" in m for m in evil)
