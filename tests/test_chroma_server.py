"""The same ingest against a real `chroma run` server (client/server mode)."""

from __future__ import annotations

import pytest

from assistant.search import search
from ingest.pipeline import run_ingest
from ingest.stats import index_stats
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


def test_ingest_into_a_chroma_server_is_searchable_and_incremental(make_settings, chroma_server):
    settings = make_settings(PAPERS_CHROMA_URL=chroma_server, PAPERS_COLLECTION_PREFIX="srvtest")
    first = run_ingest(settings, CORPUS, progress=False)
    assert (first.status, first.papers) == ("created", 266)
    assert not (settings.index.data_dir / "chroma").exists()  # vectors live on the server
    stats = index_stats(settings)
    assert stats["store"] == chroma_server and stats["chunks"] == first.chunks
    hits = search("Kalman filter optimizer with gradient covariance", k=3, settings=settings)
    assert any(h.title.startswith("KOALA++") for h in hits)
    again = run_ingest(settings, CORPUS, progress=False)
    assert (again.status, again.embedded) == ("unchanged", 0)


def test_switching_from_server_to_embedded_store_rebuilds(make_settings, chroma_server):
    server = make_settings(PAPERS_CHROMA_URL=chroma_server, PAPERS_COLLECTION_PREFIX="switch")
    run_ingest(server, CORPUS, progress=False)
    local = make_settings()
    report = run_ingest(local, CORPUS, progress=False)
    assert report.status == "updated" and report.papers == 266
    assert index_stats(local)["store"] == "embedded"
