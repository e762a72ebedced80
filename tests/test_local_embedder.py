"""The default offline embedder (all-MiniLM-L6-v2, int8 on ONNX Runtime) end to end on the real corpus,
and the opt-in torch backend it replaced (installed by `setup.sh --with-torch`, which CI runs)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.search import search
from ingest.pipeline import run_ingest
from tests.conftest import CORPUS, REPO, settings_from_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm_settings(tmp_path_factory):
    settings = settings_from_env(PAPERS_DATA_DIR=str(tmp_path_factory.mktemp("minilm") / "index"), PAPERS_EMBED_BACKEND="local")
    report = run_ingest(settings, CORPUS, progress=False)
    assert (report.papers, report.embedder) == (266, "local:all-MiniLM-L6-v2-onnx-int8")
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


def test_onnx_embedder_agrees_with_the_fp32_torch_model_on_corpus_chunks(minilm_settings):
    import numpy as np
    from llama_index.core.schema import MetadataMode

    from ingest.chunk import chunk_papers
    from ingest.corpus import build_corpus
    from ingest.embed import make_embedder

    nodes = chunk_papers(build_corpus(CORPUS, progress=False).papers, 384, 48)
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes[::6]]  # every 6th chunk, long ones included
    onnx = np.array(make_embedder(minilm_settings).get_text_embedding_batch(texts))
    torch = np.array(make_embedder(settings_from_env(PAPERS_EMBED_BACKEND="torch")).get_text_embedding_batch(texts))
    cosines = (onnx * torch).sum(axis=1)  # both are L2-normalised
    assert cosines.min() > 0.99 and cosines.mean() > 0.998


def test_an_index_built_by_onnx_is_not_read_with_torch(minilm_settings):
    from common.errors import PapersError
    from ingest.store import open_index
    from ingest.embed import embedder_id

    torch_settings = settings_from_env(PAPERS_DATA_DIR=str(minilm_settings.index.data_dir), PAPERS_EMBED_BACKEND="torch")
    with pytest.raises(PapersError, match="built with local:all-MiniLM-L6-v2-onnx-int8 but the configured embedder is torch:"):
        open_index(torch_settings, expected_embedder=embedder_id(torch_settings))


def test_a_default_query_imports_no_torch(minilm_settings, tmp_path):
    env = {"PAPERS_DATA_DIR": str(minilm_settings.index.data_dir), "PAPERS_EMBED_BACKEND": "local", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "papers", "ask", "What is KOALA++?"],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 0 and "KOALA++" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "onnxruntime" in imported
    assert not imported & {"torch", "transformers", "sentence_transformers"}


def test_a_question_read_again_gets_the_same_vectors_as_a_fresh_model():
    """Retrieval embeds a question and the answerability model reads it word by word from one kept ONNX run;
    the kept run must give exactly what a model that never saw the question computes."""
    import numpy as np

    from ingest.embed import onnx_model

    question = "How much does the Kalman-filter optimizer reduce training steps?"
    warm, fresh = onnx_model(), onnx_model()
    first = warm.get_query_embedding(question)
    words = warm.words_and_vectors([question])[0]  # from the kept run
    again = warm.get_query_embedding(question)
    cold = fresh.words_and_vectors([question])[0]
    assert first == again == fresh.get_query_embedding(question)
    assert words.words == cold.words
    assert np.array_equal(words.vectors, cold.vectors) and np.array_equal(words.text, cold.text)
    assert np.allclose(words.text, first)
