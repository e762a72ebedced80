"""Parse scraped page dumps into raw paper records.

One grammar covers the three layouts: a paper is ``TITLE [AUTHORS] ABSTRACT [FOOTER]``, where units are
non-empty lines. AUTHORS is a ``Last, First, Last, First`` line (layout 1); FOOTER is the Daily Papers
``• N authors`` / organisation line, a ``·`` line and a date (layout 2); layout 3 has neither. Page chrome
(sign-up prompts, section headings, the date banner) is recognised and never becomes a paper. Parsing
never raises on odd input: a title with no abstract is reported as skipped, not lost silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.records import Skipped, Source
from ingest.repair import clean_text

CHROME = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "education",
}
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DATE = re.compile(rf"^(?P<date>{_MONTH} \d{{1,2}}(?:, (?P<year>\d{{4}}))?)(?: \d+)?$")
_AUTHOR_COUNT = re.compile(r"^[•·*\-]\s*(\d+)\s+authors?$")
_FOOTER_DOT = "·"


@dataclass
class RawPaper:
    """A paper as it appears in one file, before filtering and deduplication."""

    title: str
    source: Source
    abstract_parts: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    author_count: int | None = None
    date: str | None = None
    year: int | None = None
    organization: str | None = None
    url: str | None = None

    @property
    def abstract(self) -> str:
        return " ".join(self.abstract_parts)


def is_chrome(line: str) -> bool:
    return line.casefold() in CHROME


def parse_date(line: str) -> tuple[str, int | None] | None:
    """``May 19, 2025`` -> (that, 2025); ``Apr 5 2`` (trailing upvote count) -> (``Apr 5``, None)."""
    m = _DATE.match(line)
    if not m:
        return None
    return m.group("date"), int(m.group("year")) if m.group("year") else None


def parse_author_line(line: str) -> list[str] | None:
    """``Wang, Jiayu, Ming, Yifei`` -> ["Jiayu Wang", "Yifei Ming"]; None when the line is not that."""
    if len(line) > 1500 or line.endswith((".", "?", "!")) and not re.search(r"\b[A-Z]\.$", line):
        return None
    parts = [p.strip() for p in line.split(",")]
    if len(parts) < 2 or len(parts) % 2 or any(not p for p in parts):
        return None
    for p in parts:
        words = p.split()
        if len(words) > 4 or len(p) > 40 or re.search(r"\d", p) or not p[0].isupper():
            return None
    return [f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2)]


def looks_like_prose(line: str) -> bool:
    """Abstract text: long, or sentence-like (ends in a full stop)."""
    return len(line) >= 200 or (len(line) >= 40 and line.rstrip().endswith((".", ".)", '."')))


def parse_text(text: str, file: str) -> tuple[list[RawPaper], list[Skipped]]:
    """Parse one page dump. Returns papers (title + abstract found) and skipped fragments."""
    units = [(n, clean_text(line)) for n, line in enumerate(text.splitlines(), start=1)]
    units = [(n, line) for n, line in units if line]
    papers: list[RawPaper] = []
    skipped: list[Skipped] = []
    current: RawPaper | None = None

    def close() -> None:
        nonlocal current
        if current is None:
            return
        if current.abstract_parts:
            papers.append(current)
        else:
            skipped.append(Skipped(source=current.source, title=current.title, reason="title without an abstract"))
        current = None

    i = 0
    while i < len(units):
        lineno, line = units[i]
        nxt = units[i + 1][1] if i + 1 < len(units) else ""
        i += 1
        if is_chrome(line):
            continue
        count = _AUTHOR_COUNT.match(line)
        if count:
            if current is not None:
                current.author_count = int(count.group(1))
            continue
        if nxt == _FOOTER_DOT and current is not None and current.abstract_parts and not looks_like_prose(line):
            current.organization = line  # "tencent Tencent" in place of an author count
            continue
        if line == _FOOTER_DOT:
            date = parse_date(nxt)
            if date and current is not None:
                current.date, current.year = date
                i += 1
            continue
        if parse_date(line):
            continue  # the page's date banner
        if current is not None and not current.abstract_parts:
            authors = None if current.authors else parse_author_line(line)
            if authors:
                current.authors = authors
                continue
            if looks_like_prose(line):
                current.abstract_parts.append(line)
                continue
        elif current is not None and looks_like_prose(line) and len(line) >= 300:
            current.abstract_parts.append(line)  # a further paragraph of the same abstract
            continue
        close()
        current = RawPaper(title=line, source=Source(file=file, line=lineno))
    close()
    return papers, skipped
