"""``papers search``: retrieval results without an answer, so anyone can see what the index holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from assistant.retrieval import Filters
from common.settings import Settings


@dataclass
class Hit:
    title: str
    score: float  # fused score in hybrid mode, else the retriever's own score
    dense: float | None  # cosine similarity of the best chunk
    authors: list[str]
    date: str | None
    paper_id: str
    url: str | None = None  # the paper's link (arXiv, DOI or the record's url) when the corpus gives one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def search(query: str, k: int | None = None, settings: Settings | None = None, mode: str | None = None,
           filters: Filters | None = None) -> list[Hit]:
    """Top-k papers (several chunks of one paper count once)."""
    from assistant.api import retrieve

    result = retrieve(query, settings=settings, k=k, mode=mode, filters=filters)
    return [
        Hit(title=h.paper.title, score=round(h.score, 4), dense=None if h.dense is None else round(h.dense, 4),
            authors=h.paper.authors, date=h.paper.date, paper_id=h.paper_id, url=h.paper.url)
        for h in result.hits
    ]
