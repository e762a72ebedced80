"""From raw records to the final papers: drop non-papers, merge duplicates, streamed into a paper table.

Records go into the generation's paper table (``ingest.paper_table``) as they are parsed, a row per paper,
so no list of the corpus is ever built and nothing held in memory grows with it: whether a paper was seen
is asked of the table, and the record ids of the file being read (for "a later record with the same id
replaces the earlier one") sit in a temporary table beside it. A paper found again (same normalised title, in any file) is merged into its row
when it comes: its copies are kept raw in the ``copies`` table and the row is their merge.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ingest import paper_table
from ingest.filters import non_paper_reason
from ingest.parse import RawPaper
from ingest.records import Dropped, Duplicate, Paper, Skipped, Source, title_key

FLUSH_ROWS = 2000  # new rows written to the table per insert


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
    return Paper.model_construct(  # the parsers' fields are already the right types: no validation pass
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


def paper_id(title: str) -> str:
    """``Paper.paper_id`` from a title, without building the record."""
    return hashlib.sha256(title_key(title).encode()).hexdigest()[:16]


def _raw_json(raw: RawPaper) -> str:
    return json.dumps({"title": raw.title, "abstract": raw.abstract, "authors": raw.authors, "author_count": raw.author_count,
                       "date": raw.date, "year": raw.year, "organization": raw.organization, "url": raw.url,
                       "file": raw.source.file, "line": raw.source.line})


def _raw(text: str) -> RawPaper:
    d = json.loads(text)
    return RawPaper(title=d["title"], source=Source(file=d["file"], line=d["line"]), abstract_parts=[d["abstract"]],
                    authors=d["authors"], author_count=d["author_count"], date=d["date"], year=d["year"],
                    organization=d["organization"], url=d["url"])


def _row_copy(record: str, raw_count: int | None) -> RawPaper:
    """The one copy a paper's row was made of (a row of a single copy keeps that copy's own author count)."""
    p = Paper.model_validate_json(record)
    return RawPaper(title=p.title, source=p.sources[0], abstract_parts=[p.abstract], authors=p.authors,
                    author_count=raw_count, date=p.date, year=p.year, organization=p.organization, url=p.url)


class Stage:
    """Gathers the papers of one read of the corpus into a paper table (``con``, from ``paper_table.create``)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        # Nothing here grows with the corpus: the papers seen are the table's rows (pid is UNIQUE, so indexed),
        # the current file's record ids a temporary table; only the rows not yet written are held.
        self.pending: list[tuple[int, str, Paper, int | None]] = []  # new rows not yet written
        self.pending_ids: set[str] = set()
        self.dirty: set[str] = set()  # papers whose author and source rows are rewritten at the end (merged or replaced)
        con.execute("CREATE TEMP TABLE IF NOT EXISTS record_ids (rid TEXT PRIMARY KEY, pid TEXT, file TEXT, line INTEGER)")
        self.next_n = 0
        self.dropped: list[Dropped] = []
        self.skipped: list[Skipped] = []
        self.counts: Counter[str] = Counter()

    def begin_file(self) -> None:
        self.con.execute("DELETE FROM record_ids")  # an id names a record within its file (an arXiv dump's versions)

    def _seen(self, pid: str) -> bool:
        return pid in self.pending_ids or self.con.execute("SELECT 1 FROM papers WHERE pid = ?", (pid,)).fetchone() is not None

    def add(self, raw: RawPaper, record_id: object = None) -> None:
        """One parsed record: dropped when it is not a paper, else a new row or merged into its paper's row."""
        reason = non_paper_reason(raw.title, raw.abstract)
        if reason:
            self.dropped.append(Dropped(title=raw.title, source=raw.source, reason=reason))
            return
        rid = str(record_id) if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) else None
        at = None
        earlier = None if rid is None else self.con.execute(
            "SELECT pid, file, line FROM record_ids WHERE rid = ?", (rid,)).fetchone()
        if earlier is not None:  # an arXiv dump's later version of a record
            at = self._remove(*earlier)
            self.counts["replaced"] += 1
        pid = paper_id(raw.title)
        if rid is not None:
            self.con.execute("INSERT OR REPLACE INTO record_ids VALUES (?, ?, ?, ?)", (rid, pid, raw.source.file, raw.source.line))
        if self._seen(pid):
            self._flush()
            self._merge(pid, raw)
            return
        self.pending_ids.add(pid)
        if at is None:
            at, self.next_n = self.next_n, self.next_n + 1
        self.pending.append((at, pid, merge([raw]), raw.author_count))
        if len(self.pending) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        rows, authors, sources = [], [], []
        for n, pid, paper, raw_count in self.pending:
            rows.append((n, pid, paper.content_hash(), raw_count, paper.model_dump_json()))
            a, s = paper_table.index_rows(paper, pid)
            authors += a
            sources += s
        self.con.executemany("INSERT INTO papers VALUES (?, ?, ?, ?, ?)", rows)
        self.con.executemany("INSERT INTO authors VALUES (?, ?, ?)", authors)
        self.con.executemany("INSERT INTO sources VALUES (?, ?)", sources)
        self.pending = []
        self.pending_ids = set()

    def _copies(self, pid: str) -> list[RawPaper]:
        return [_raw(r) for (r,) in self.con.execute("SELECT raw FROM copies WHERE pid = ? ORDER BY n", (pid,))]

    def _merge(self, pid: str, raw: RawPaper) -> None:
        copies = self._copies(pid)
        if not copies:  # the second copy: the row's own copy becomes the first
            record, raw_count = self.con.execute("SELECT record, raw_count FROM papers WHERE pid = ?", (pid,)).fetchone()
            copies = [_row_copy(record, raw_count)]
            self._keep_copy(pid, 0, copies[0])
        self._keep_copy(pid, len(copies), raw)
        self._rewrite(pid, [*copies, raw])

    def _keep_copy(self, pid: str, n: int, raw: RawPaper) -> None:
        self.con.execute("INSERT INTO copies VALUES (?, ?, ?, ?, ?)", (pid, n, raw.source.file, raw.source.line, _raw_json(raw)))

    def _rewrite(self, pid: str, copies: list[RawPaper]) -> None:
        paper = merge(copies)
        self.con.execute("UPDATE papers SET chash = ?, record = ? WHERE pid = ?",
                         (paper.content_hash(), paper.model_dump_json(), pid))
        self.dirty.add(pid)

    def _remove(self, pid: str, file: str, line: int) -> int | None:
        """Take out the copy of ``pid`` at ``file``:``line``; the row's position when the whole row goes."""
        self._flush()
        copies = self._copies(pid)
        if copies:  # one copy of a merged paper: the others stay merged
            self.con.execute("DELETE FROM copies WHERE pid = ? AND file = ? AND line = ?", (pid, file, line))
            self._rewrite(pid, [c for c in copies if not (c.source.file == file and c.source.line == line)])
            return None
        (n,) = self.con.execute("SELECT n FROM papers WHERE pid = ?", (pid,)).fetchone()
        self.con.execute("DELETE FROM papers WHERE pid = ?", (pid,))
        self.dirty.add(pid)
        return n

    def finish(self) -> list[Duplicate]:
        """Write what is pending, index the table; returns the papers found more than once."""
        self._flush()
        if self.dirty:
            gone = json.dumps(sorted(self.dirty))
            for table in ("authors", "sources"):
                self.con.execute(f"DELETE FROM {table} WHERE pid IN (SELECT value FROM json_each(?))", (gone,))
            for pid, record in self.con.execute("SELECT pid, record FROM papers WHERE pid IN (SELECT value FROM json_each(?))",
                                                (gone,)).fetchall():
                authors, sources = paper_table.index_rows(Paper.model_validate_json(record), pid)
                self.con.executemany("INSERT INTO authors VALUES (?, ?, ?)", authors)
                self.con.executemany("INSERT INTO sources VALUES (?, ?)", sources)
        duplicates = []
        for (pid,) in self.con.execute("SELECT c.pid FROM copies c JOIN papers p USING (pid) GROUP BY c.pid "
                                       "HAVING count(*) > 1 ORDER BY min(p.n)").fetchall():
            copies = self._copies(pid)
            duplicates.append(Duplicate(title=copies[0].title, sources=[c.source for c in copies]))
        paper_table.finish(self.con)
        return duplicates


def stage_corpus(path: Path, con: sqlite3.Connection, progress: bool = True,
                 categories: frozenset[str] = frozenset()) -> Corpus:
    """Read the corpus at ``path`` into the paper table ``con``; the returned Corpus lists what was left
    out, with ``papers`` empty (they are in the table)."""
    from ingest.load import corpus_files, stream_corpus

    files = corpus_files(path)
    stage = Stage(con)
    stream_corpus(files, path, stage, progress=progress, categories=categories)
    duplicates = stage.finish()
    names = [f.name if path.is_file() else str(f.relative_to(path)) for f in files]
    return Corpus(papers=[], dropped=stage.dropped, skipped=stage.skipped, duplicates=duplicates, files=names,
                  filtered=stage.counts["filtered"], replaced=stage.counts["replaced"])


def build_corpus(path: Path, progress: bool = True, categories: frozenset[str] = frozenset()) -> Corpus:
    """The whole corpus as Python objects (for small corpora: tests, benchmarks' sentence pools)."""
    con = sqlite3.connect(":memory:")
    try:
        paper_table.init(con)
        corpus = stage_corpus(path, con, progress=progress, categories=categories)
        corpus.papers = [Paper.model_validate_json(r) for (r,) in con.execute("SELECT record FROM papers ORDER BY n")]
        return corpus
    finally:
        con.close()
