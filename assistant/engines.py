"""The two searches behind hybrid retrieval and their fusion, read straight from Chroma and bm25s.

This is the query side of what llama-index's ``VectorStoreIndex`` + ``ChromaVectorStore``,
``BM25Retriever`` and ``QueryFusionRetriever`` compute over the index that ingest writes with them, step
for step (Chroma's ``exp(-distance)`` similarity, bm25s tokenisation with the English stemmer and
stopwords, min-max / distribution-based / reciprocal-rank fusion with normalised weights), without
importing llama-index: its package import alone is most of a cold ``papers ask`` (see
``bench/cold_start.py``). ``tests/test_engines.py`` checks the rankings and scores equal llama-index's own
on the real index, so a llama-index upgrade that changes them fails there.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BM25_TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # BM25Retriever's default, which ingest persists with
RRF_K = 60.0  # reciprocal rank fusion's constant (llama-index, after Cormack et al. 2009)


@dataclass
class Scored:
    """One retrieved chunk: its node id, text, metadata (``paper_id``, ``title``, ...) and score."""

    node_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0


def _from_record(record: dict[str, Any], text: str | None, score: float) -> Scored:
    """A chunk from llama-index's stored form: ``_node_content`` holds the node as JSON."""
    node = json.loads(record["_node_content"])
    return Scored(node_id=node["id_"], text=node.get("text", "") if text is None else text,
                  metadata=node.get("metadata") or {}, score=score)


def _unique(chunks: list[Scored]) -> list[Scored]:
    seen: set[str] = set()
    return [c for c in chunks if not (c.node_id in seen or seen.add(c.node_id))]  # type: ignore[func-returns-value]


class DenseSearch:
    """Nearest chunks by embedding, from the Chroma collection; similarity ``exp(-cosine distance)``."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def search(self, embedding: list[float], k: int, allowed: set[str] | None = None) -> list[Scored]:
        kwargs: dict[str, Any] = {"query_embeddings": embedding, "n_results": k}
        if allowed is not None:
            kwargs["where"] = {"paper_id": {"$in": sorted(allowed)}}
        got = self.collection.query(**kwargs)
        return _unique([_from_record(meta, text, math.exp(-dist)) for text, meta, dist in
                        zip(got["documents"][0], got["metadatas"][0], got["distances"][0])])


class KeywordSearch:
    """BM25 over the chunks, from the bm25s index ingest persisted (``BM25Retriever.persist``)."""

    def __init__(self, path: Path) -> None:
        import bm25s
        import Stemmer

        self.bm25 = bm25s.BM25.load(str(path), load_corpus=True)
        args = json.loads((path / "retriever.json").read_text(encoding="utf-8"))
        self.weight_mask = args.get("corpus_weight_mask") or None
        self.stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()

    def search(self, text: str, k: int) -> list[Scored]:
        import bm25s
        import numpy as np

        tokens = bm25s.tokenize(text, stemmer=self.stemmer, token_pattern=BM25_TOKEN_PATTERN, show_progress=False)
        with self._lock:
            docs, scores = self.bm25.retrieve(tokens, k=k, show_progress=False,
                                              weight_mask=np.array(self.weight_mask) if self.weight_mask else None)
        out = []
        for doc, score in zip(docs[0], scores[0]):
            record = doc if isinstance(doc, dict) else self.bm25.corpus[int(doc)]
            out.append(_from_record(record, None, float(score)))
        return _unique(out)


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
