"""Cited summaries of a subfield on the real corpus (extractive, local, and openai against llama.cpp)."""

from __future__ import annotations

import json

import pytest

import assistant
from common.errors import PapersError
from evals.dataset import load_dataset
from tests.conftest import REPO

pytestmark = pytest.mark.slow
GOLD = {q.id: q for q in load_dataset(REPO / "evals" / "datasets" / "gold.jsonl")}


def check_every_sentence_cites_a_gathered_paper(summary):
    from assistant.text import citations_in

    gathered = {c.n for c in summary.citations} | {c.n for c in summary.also_relevant}
    for theme in summary.themes:
        assert theme.name and theme.items
        for item in theme.items:
            assert citations_in(item.sentence) == [item.n] and item.n in gathered
    assert citations_in(summary.overview) and set(citations_in(summary.overview)) <= gathered


def test_summary_covers_the_known_papers_of_a_topic(real_settings):
    q = GOLD["subfield-02"]  # process reward models and process supervision
    summary = assistant.summarize(q.question, settings=real_settings(), backend="extractive")
    cited = {c.title for c in summary.citations}
    assert len(cited & set(q.gold_titles)) / len(q.gold_titles) >= 0.7
    assert not summary.abstained and summary.themes and summary.kept >= len(summary.citations)
    check_every_sentence_cites_a_gathered_paper(summary)


def test_summary_reports_what_it_considered_and_kept(real_settings):
    summary = assistant.summarize("data selection for instruction tuning", settings=real_settings())
    assert summary.considered >= summary.kept > 0
    assert any("considered" in n and "kept" in n for n in summary.notices)


def test_topic_with_nothing_relevant_says_so_and_cites_nothing(real_settings):
    summary = assistant.summarize("sourdough bread baking techniques", settings=real_settings())
    assert summary.abstained and summary.citations == [] and "no papers on this topic" in summary.overview


def test_broad_topic_is_capped_and_says_so(real_settings):
    summary = assistant.summarize("reinforcement learning", settings=real_settings(), max_papers=5)
    assert summary.capped and summary.kept == 5
    assert any("capped at 5" in n for n in summary.notices)


def test_invalid_max_papers_is_refused(real_settings):
    with pytest.raises(PapersError, match="at least 1"):
        assistant.summarize("reinforcement learning", settings=real_settings(), max_papers=0)


def test_local_backend_summary_keeps_every_sentence_cited(real_settings):
    summary = assistant.summarize("process reward models", settings=real_settings(), backend="local", max_papers=6)
    assert summary.backend == "local"
    check_every_sentence_cites_a_gathered_paper(summary)


def test_openai_backend_summary_against_the_real_server(real_settings, llama_server):
    settings = real_settings(PAPERS_OPENAI_BASE_URL=llama_server, PAPERS_LLM_MODEL="smollm2", PAPERS_CONTEXT_WINDOW="2048")
    summary = assistant.summarize("knowledge distillation with logits", settings=settings, backend="openai", max_papers=6)
    assert summary.backend == "openai"
    check_every_sentence_cites_a_gathered_paper(summary)


def test_summary_streams_markdown_pieces(real_settings):
    stream = assistant.summarize_stream("adversarial examples", settings=real_settings())
    pieces = list(stream)
    assert len(pieces) >= 2 and pieces[-1].startswith("## Overview") and stream.summary is not None


def test_summarize_json_schema(run_cli, corpus_index):
    result = run_cli("summarize", "process reward models", "--json", "--max-papers", "8",
                     env={"PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index)})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"topic", "abstained", "overview", "themes", "citations", "also_relevant", "considered", "kept", "capped",
            "backend", "notices"} <= set(data)
    assert {"name", "items"} <= set(data["themes"][0]) and {"n", "title", "sentence"} <= set(data["themes"][0]["items"][0])
    assert {"n", "title", "authors", "date"} <= set(data["citations"][0])
