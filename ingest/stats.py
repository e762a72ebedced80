"""``papers stats``: what the live index holds, and what ingest left out and why."""

from __future__ import annotations

from collections import Counter
from typing import Any

from common.settings import Settings
from ingest import shared, store


def index_stats(settings: Settings) -> dict[str, Any]:
    shared.sync(settings)  # on a Chroma server: the generation the server names live
    index = store.open_index(settings)
    records = index.records()
    manifest = index.manifest
    per_source: Counter[str] = Counter()
    for paper in records["papers"]:
        for name in {s["file"] for s in paper["sources"]}:
            per_source[name] += 1
    data_dir = settings.index.data_dir
    return {
        "papers": len(records["papers"]),
        "chunks": manifest["chunks"],
        "per_source": dict(sorted(per_source.items())),
        "files": records["files"],
        "dropped": records["dropped"],
        "skipped": records["skipped"],
        "duplicates_merged": records["duplicates"],
        "replaced": records.get("replaced", 0),  # records replaced by a later record with the same id (arXiv versions)
        "filtered": records.get("filtered", 0),  # records outside PAPERS_CATEGORIES
        "embedder": manifest["embedder"],
        "embedding_dim": manifest.get("embedding_dim"),
        "chunk_size": manifest["chunk_size"],
        "generation": manifest["generation"],
        "built_at": manifest["built_at"],
        "corpus": records["corpus"],
        "store": settings.index.chroma_url or "embedded",
        "data_dir": str(data_dir),
        "index_bytes": store.disk_size(data_dir),
    }
