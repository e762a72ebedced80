"""From raw records to the final paper list: drop non-papers, merge duplicates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingest.filters import non_paper_reason
from ingest.load import corpus_files, load_corpus
from ingest.parse import RawPaper
from ingest.records import Dropped, Duplicate, Paper, Skipped, title_key


@dataclass
class Corpus:
    """Everything one read of the corpus produced, including what was left out and why."""

    papers: list[Paper]
    dropped: list[Dropped] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    filtered: int = 0  # records outside the category filter
    replaced: int = 0  # records replaced by a later record with the same id


def merge(copies: list[RawPaper]) -> Paper:
    """One record from several copies: the longest abstract, and every field any copy knows."""
    best = max(copies, key=lambda c: len(c.abstract))

    def first(attr: str):
        return next((getattr(c, attr) for c in copies if getattr(c, attr)), None)

    authors = next((c.authors for c in copies if c.authors), [])
    return Paper(
        title=best.title,
        abstract=best.abstract,
        authors=authors,
        author_count=first("author_count") or (len(authors) or None),
        date=first("date"),
        year=first("year"),
        organization=first("organization"),
        url=first("url"),
        sources=[c.source for c in copies],
    )


def build_corpus(path: Path, progress: bool = True, categories: frozenset[str] = frozenset()) -> Corpus:
    files = corpus_files(path)
    counts: Counter[str] = Counter()
    raw, skipped = load_corpus(files, path, progress=progress, categories=categories, counts=counts)
    dropped: list[Dropped] = []
    groups: dict[str, list[RawPaper]] = {}
    for paper in raw:
        reason = non_paper_reason(paper.title, paper.abstract)
        if reason:
            dropped.append(Dropped(title=paper.title, source=paper.source, reason=reason))
            continue
        groups.setdefault(title_key(paper.title), []).append(paper)
    papers = [merge(copies) for copies in groups.values()]
    duplicates = [Duplicate(title=c[0].title, sources=[p.source for p in c]) for c in groups.values() if len(c) > 1]
    names = [f.name if path.is_file() else str(f.relative_to(path)) for f in files]
    return Corpus(papers=papers, dropped=dropped, skipped=skipped, duplicates=duplicates, files=names,
                  filtered=counts["filtered"], replaced=counts["replaced"])
