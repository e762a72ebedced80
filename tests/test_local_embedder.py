"""The default offline embedder (all-MiniLM-L6-v2 from its package) end to end on the real corpus."""

from __future__ import annotations

import pytest

from assistant.search import search
from ingest.pipeline import run_ingest
from tests.conftest import CORPUS, settings_from_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm_settings(tmp_path_factory):
    settings = settings_from_env(PAPERS_DATA_DIR=str(tmp_path_factory.mktemp("minilm") / "index"), PAPERS_EMBED_BACKEND="local")
    report = run_ingest(settings, CORPUS, progress=False)
    assert (report.papers, report.embedder) == (266, "local:all-MiniLM-L6-v2")
    return settings


def test_semantic_question_finds_the_paper_without_shared_title_words(minilm_settings):
    hits = search("hiding personal information in text with small models", k=3, settings=minilm_settings)
    assert "Self-Refining Language Model Anonymizers via Adversarial Distillation" in [h.title for h in hits]


def test_vectors_have_the_model_dimension(minilm_settings):
    from ingest.store import open_index

    index = open_index(minilm_settings)
    assert index.manifest["embedding_dim"] == 384


def test_unchanged_reingest_with_the_real_model_embeds_nothing(minilm_settings):
    again = run_ingest(minilm_settings, CORPUS, progress=False)
    assert (again.status, again.embedded) == ("unchanged", 0)
