"""Plain dense retrieval over the index, one result per paper: what ``papers search`` shows."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from assistant.errors import PapersError
from assistant.settings import Settings

MAX_QUERY_CHARS = 2000


@dataclass
class Hit:
    title: str
    score: float  # cosine similarity of the best chunk
    authors: list[str]
    date: str | None
    paper_id: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_query(query: str) -> str:
    query = (query or "").strip()
    if not query:
        raise PapersError("the question is empty: type a few words about what you are looking for")
    if len(query) > MAX_QUERY_CHARS:
        raise PapersError(f"the question is {len(query)} characters long; keep it under {MAX_QUERY_CHARS}")
    return query


def search(query: str, k: int | None = None, settings: Settings | None = None) -> list[Hit]:
    """Top-k papers by embedding similarity (several chunks of one paper count once)."""
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from ingest.embed import embedder_id, make_embedder
    from ingest.store import open_index

    settings = settings or Settings()
    query = check_query(query)
    k = k or settings.retrieval.top_k
    if k < 1:
        raise PapersError("-k must be at least 1")
    index = open_index(settings, expected_embedder=embedder_id(settings))
    vector_index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=index.collection), embed_model=make_embedder(settings)
    )
    nodes = vector_index.as_retriever(similarity_top_k=k * 3).retrieve(query)
    hits: dict[str, Hit] = {}
    for n in nodes:
        meta = n.node.metadata
        pid = meta["paper_id"]
        if pid in hits:
            continue
        score = 1.0 + math.log(n.score) if n.score else 0.0  # Chroma's exp(-cosine distance) back to cosine
        hits[pid] = Hit(
            title=meta["title"],
            score=round(score, 4),
            authors=[a for a in meta.get("authors", "").split("; ") if a],
            date=meta.get("date"),
            paper_id=pid,
            text=n.node.get_content(),
        )
    return list(hits.values())[:k]
