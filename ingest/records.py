"""The records ingest produces: what a paper is, and what was left out and why."""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field


class Source(BaseModel):
    """Where one copy of a paper was found: file name and 1-based line number of its title."""

    file: str
    line: int


class Paper(BaseModel):
    """One paper, after repair and deduplication."""

    title: str
    abstract: str
    authors: list[str] = Field(default_factory=list)
    author_count: int | None = None
    date: str | None = None  # as printed, e.g. "May 19, 2025" or "Jan 12" (no year is invented)
    year: int | None = None
    organization: str | None = None
    url: str | None = None
    sources: list[Source] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """Identity across files and runs: the normalised title."""
        return title_key(self.title)

    @property
    def paper_id(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:16]

    def content_hash(self) -> str:
        """Hash of everything stored with the paper's chunks: unchanged hash means nothing to re-embed."""
        payload = self.model_dump_json(exclude={"sources"}) + "|" + ",".join(s.file for s in self.sources)
        return hashlib.sha256(payload.encode()).hexdigest()[:24]


class Dropped(BaseModel):
    """A document that was parsed but is not a paper abstract."""

    title: str
    source: Source
    reason: str


class Skipped(BaseModel):
    """An input record that could not become a paper (e.g. a JSONL line without an abstract)."""

    source: Source
    reason: str
    title: str | None = None


class Duplicate(BaseModel):
    """A paper seen more than once; all of its sources are kept on the merged record."""

    title: str
    sources: list[Source]


def title_key(title: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", title.casefold()).strip()
