"""One generation's chunks as one read-only Chroma-like collection: its base collection plus its delta.

A full build writes every chunk into a new base collection. An update never writes to a collection a
reader uses: it writes the chunks of new and changed papers (and the delta of the previous generation
that is still live) into a new, small delta collection. The base keeps chunks of papers the update
changed or removed, so a view keeps only chunks whose (paper id, content hash) is in its generation's
manifest; queries look deeper when the base holds such stale chunks and return the live ones.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

_KEYS = ("ids", "embeddings", "metadatas", "documents", "distances")


class GenerationView:
    """``get``, ``query`` and ``count`` over a generation's collections, keeping its live chunks only."""

    def __init__(self, collections: list[Any], hash_of: Callable[[str], str | None] | None, stale: int = 0) -> None:
        self.collections = collections
        self.hash_of = hash_of  # a paper id's content hash in this generation; None: every chunk is live (no delta)
        self.stale = stale  # chunks in the base that belong to no paper of this generation

    @property
    def name(self) -> str:
        return self.collections[0].name

    def _keep(self, meta: dict[str, Any] | None) -> bool:
        if self.hash_of is None:
            return True
        return bool(meta) and isinstance(meta.get("paper_id"), str) and self.hash_of(meta["paper_id"]) == meta.get("content_hash")

    def count(self) -> int:
        """Chunks stored, live or not (the manifest's ``chunks`` counts the live ones)."""
        return sum(c.count() for c in self.collections)

    def get(self, ids: list[str] | None = None, where: dict[str, Any] | None = None,
            include: list[str] | None = None, limit: int | None = None) -> dict[str, Any]:
        include = list(include or ["metadatas", "documents"])
        wanted = include if "metadatas" in include else [*include, "metadatas"]
        out: dict[str, list[Any]] = {k: [] for k in ("ids", *include)}
        for collection in self.collections:
            got = collection.get(ids=ids, where=where, include=wanted)
            for row in range(len(got["ids"])):
                if not self._keep(got["metadatas"][row]):
                    continue
                out["ids"].append(got["ids"][row])
                for key in include:
                    out[key].append(got[key][row])
        if limit is not None:
            out = {k: v[:limit] for k, v in out.items()}
        if "embeddings" in out:
            out["embeddings"] = np.asarray(out["embeddings"], dtype=np.float32)  # type: ignore[assignment]
        return out

    def query(self, query_embeddings: list[list[float]], n_results: int, where: dict[str, Any] | None = None,
              include: list[str] | None = None) -> dict[str, Any]:
        """Nearest live chunks of one query vector, as Chroma shapes them (one list per query)."""
        include = list(include or ["metadatas", "documents", "distances"])
        wanted = sorted({*include, "metadatas", "distances"})
        if len(query_embeddings) and np.isscalar(query_embeddings[0]):  # one vector, as Chroma also accepts it
            query_embeddings = [query_embeddings]  # type: ignore[list-item]
        rows = []
        for i, collection in enumerate(self.collections):
            # stale chunks are at most a tenth of the base (more, and ingest rebuilds it): twice as deep is ample
            depth = 2 * n_results + 10 if i == 0 and self.stale else n_results
            got = collection.query(query_embeddings=query_embeddings[:1], n_results=depth, where=where, include=wanted)
            for row in range(len(got["ids"][0])):
                if self._keep(got["metadatas"][0][row]):
                    rows.append({k: got[k][0][row] for k in ("ids", *wanted)})
        rows.sort(key=lambda r: r["distances"])
        rows = rows[:n_results]
        return {k: [[r[k] for r in rows]] for k in ("ids", *include)}
