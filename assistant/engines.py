"""The two searches behind hybrid retrieval and their fusion, read straight from Chroma and bm25s.

This is what llama-index's ``VectorStoreIndex`` + ``ChromaVectorStore``, ``BM25Retriever`` and
``QueryFusionRetriever`` compute over the chunks ingest writes, step for step (Chroma's ``exp(-distance)``
similarity, bm25s tokenisation with the English stemmer and stopwords, min-max / distribution-based /
reciprocal-rank fusion with normalised weights), without importing llama-index: its package import alone
is most of a cold ``papers ask`` (see ``bench/cold_start.py``). Filters arrive as a Chroma ``where`` on the
dense side and a chunk mask on the keyword side (``ingest.keyword``); the keyword side fetches the text of
its hits from Chroma. ``tests/test_engines.py`` checks the rankings and scores equal llama-index's own over
the same chunks, so a llama-index upgrade that changes them fails there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.keyword import KeywordIndex

RRF_K = 60.0  # reciprocal rank fusion's constant (llama-index, after Cormack et al. 2009)


@dataclass
class Scored:
    """One retrieved chunk: its node id, text, metadata (``paper_id``, ``title``, ...) and score."""

    node_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0


def _unique(chunks: list[Scored]) -> list[Scored]:
    seen: set[str] = set()
    return [c for c in chunks if not (c.node_id in seen or seen.add(c.node_id))]  # type: ignore[func-returns-value]


class DenseSearch:
    """Nearest chunks by embedding, from the Chroma collection (or a generation's view of its collections);
    similarity ``exp(-cosine distance)``.

    Unfiltered, Chroma's HNSW index answers. Filtered, the rows a keyword mask keeps are scored exactly
    against the generation's vectors file (``ingest.vectors``: ``matrix`` rows in ``chunk_ids`` order),
    ``BLOCK`` rows at a time; without that file Chroma answers with the filter's ``where``."""

    BLOCK = 16384

    def __init__(self, collection: Any, matrix: Any = None, chunk_ids: list[str] | None = None) -> None:
        self.collection = collection
        self.matrix, self.chunk_ids = matrix, chunk_ids

    def search(self, embedding: list[float], k: int, where: dict[str, Any] | None = None, rows: Any = None) -> list[Scored]:
        """``where``: the filter for Chroma; ``rows``: the same filter as chunk positions (None: every chunk)."""
        if rows is not None and self.matrix is not None:
            return self._exact(embedding, k, rows)
        got = self.collection.query(query_embeddings=[embedding], n_results=k, where=where,
                                    include=["documents", "metadatas", "distances"])
        return _unique([Scored(node_id=cid, text=text or "", metadata=meta or {}, score=math.exp(-dist))
                        for cid, text, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                                         got["distances"][0])])

    def cosines(self, embedding: list[float], rows: Any) -> Any:
        """The cosine similarity of the question to each chunk in ``rows`` (positions, ascending)."""
        import numpy as np

        q = np.asarray(embedding, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        rows = np.asarray(rows, dtype=np.int64)
        return np.concatenate([self.matrix[rows[i : i + self.BLOCK]] @ q for i in range(0, len(rows), self.BLOCK)]
                              or [np.zeros(0, dtype=np.float32)])

    def _exact(self, embedding: list[float], k: int, rows: Any) -> list[Scored]:
        import numpy as np

        if len(rows) == 0 or k < 1:
            return []
        sims = self.cosines(embedding, rows)
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        assert self.chunk_ids is not None
        ids = [self.chunk_ids[int(rows[i])] for i in top]
        got = self.collection.get(ids=ids, include=["documents", "metadatas"])
        stored = {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        return [Scored(node_id=cid, text=stored[cid][0] or "", metadata=stored[cid][1] or {},
                       score=math.exp(-(1.0 - float(sims[i])))) for cid, i in zip(ids, top) if cid in stored]


class KeywordSearch:
    """BM25 over the chunks (``ingest.keyword``'s memory-mapped bm25s index), under an optional chunk mask;
    the text and metadata of the hits come from the collection."""

    def __init__(self, path: Path, collection: Any) -> None:
        self.index = KeywordIndex(path)
        self.collection = collection

    def __len__(self) -> int:
        return len(self.index)

    def search(self, text: str, k: int, mask: Any = None) -> list[Scored]:
        found = self.index.search(text, k, mask)
        if not found:
            return []
        got = self.collection.get(ids=[cid for cid, _ in found], include=["documents", "metadatas"])
        stored = {cid: (doc, meta) for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        return _unique([Scored(node_id=cid, text=stored[cid][0] or "", metadata=stored[cid][1] or {}, score=score)
                        for cid, score in found if cid in stored])


def fuse(results: list[list[Scored]], mode: str, weights: list[float], top_k: int) -> list[Scored]:
    """One ranking from several (dense first), as ``QueryFusionRetriever`` with one query fuses them; the
    inputs keep their raw scores (the fused list holds copies)."""
    total = sum(weights)
    weights = [w / total for w in weights]
    if mode == "reciprocal_rerank":
        fused: dict[str, float] = {}
        node: dict[str, Scored] = {}
        for chunks in results:
            for rank, c in enumerate(sorted(chunks, key=lambda x: x.score or 0.0, reverse=True)):
                node[c.node_id] = c
                fused[c.node_id] = fused.get(c.node_id, 0.0) + 1.0 / (rank + RRF_K)
        ranked = sorted(fused.items(), key=lambda x: x[1], reverse=True)
        return [replace(node[nid], score=score) for nid, score in ranked][:top_k]
    if mode not in ("relative_score", "dist_based_score"):
        raise ValueError(f"unknown fusion mode {mode!r}")
    summed: dict[str, Scored] = {}
    for chunks, weight in zip(results, weights):
        if not chunks:
            continue
        scores = [c.score or 0.0 for c in chunks]
        if mode == "dist_based_score":  # mean +- 3 standard deviations instead of min and max
            mean = sum(scores) / len(scores)
            std = (sum((x - mean) ** 2 for x in scores) / len(scores)) ** 0.5
            low, high = mean - 3 * std, mean + 3 * std
        else:
            low, high = min(scores), max(scores)
        for c in chunks:
            scaled = (1.0 if high > 0 else 0.0) if high == low else (c.score - low) / (high - low)
            scaled = (scaled or 0.0) * weight
            if c.node_id in summed:
                summed[c.node_id].score = (summed[c.node_id].score or 0.0) + scaled
            else:
                summed[c.node_id] = replace(c, score=scaled)
    return sorted(summed.values(), key=lambda x: x.score or 0.0, reverse=True)[:top_k]
