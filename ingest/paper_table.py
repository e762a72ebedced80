"""A generation's paper records in SQLite (``papers.sqlite``), read on demand.

Readers used to hold every record as a Python object; at 100k papers that cost seconds and gigabytes.
The table is written once per generation (while the corpus is parsed, see ``ingest.corpus``) and never changed (opened ``immutable`` by readers, so a
read-only index needs no lock or journal), with an index of casefolded author names for author
questions and filters, and one of source files for the source filter.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ingest.records import Paper

FILE = "papers.sqlite"
_SCHEMA = """
CREATE TABLE papers (n INTEGER PRIMARY KEY, pid TEXT NOT NULL UNIQUE, chash TEXT NOT NULL, raw_count INTEGER,
                     record TEXT NOT NULL);
CREATE TABLE copies (pid TEXT NOT NULL, n INTEGER NOT NULL, file TEXT NOT NULL, line INTEGER NOT NULL, raw TEXT NOT NULL);
CREATE INDEX copies_pid ON copies(pid);
CREATE TABLE authors (name TEXT NOT NULL, words INTEGER NOT NULL, pid TEXT NOT NULL);
CREATE TABLE sources (file TEXT NOT NULL, pid TEXT NOT NULL);
"""
_INDEXES = """
CREATE INDEX authors_name ON authors(name);
CREATE INDEX sources_file ON sources(file);
"""


def create(path: Path) -> sqlite3.Connection:
    """A new, empty table at ``path`` (a private file until the caller switches generations atomically).
    ``papers`` holds each paper's record and content hash in corpus order (``n``); ``copies`` the raw copies
    of papers found more than once (``ingest.corpus`` merges them); ``authors`` and ``sources`` index them."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
    init(con)
    return con


def init(con: sqlite3.Connection) -> None:
    con.executescript(_SCHEMA)


def index_rows(paper: Paper, pid: str) -> tuple[set[tuple[str, int, str]], set[tuple[str, str]]]:
    """The ``authors`` and ``sources`` rows of one paper."""
    return ({(a.casefold(), len(a.split()), pid) for a in paper.authors}, {(s.file, pid) for s in paper.sources})


def finish(con: sqlite3.Connection) -> None:
    con.executescript(_INDEXES)
    con.commit()


def write(path: Path, papers: Iterable[Paper]) -> None:
    """Write the table for ``papers`` (records taken as they are: no merging)."""
    con = create(path)
    try:
        with con:
            for paper in papers:
                pid = paper.paper_id
                con.execute("INSERT INTO papers (pid, chash, record) VALUES (?, ?, ?)",
                            (pid, paper.content_hash(), paper.model_dump_json()))
                authors, sources = index_rows(paper, pid)
                con.executemany("INSERT INTO authors VALUES (?, ?, ?)", authors)
                con.executemany("INSERT INTO sources VALUES (?, ?)", sources)
        finish(con)
    finally:
        con.close()


class PaperTable(Mapping[str, Paper]):
    """paper id -> Paper, fetched from the table when asked for (a small cache keeps recent ones)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._len: int | None = None
        self._get = lru_cache(maxsize=4096)(self._load)
        self._hash = lru_cache(maxsize=1 << 16)(self._hash_of)

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

    def _load(self, pid: str) -> Paper | None:
        rows = self._rows("SELECT record FROM papers WHERE pid = ?", (pid,))
        return Paper.model_validate_json(rows[0][0]) if rows else None

    def __getitem__(self, pid: str) -> Paper:
        paper = self._get(pid) if isinstance(pid, str) else None
        if paper is None:
            raise KeyError(pid)
        return paper

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and bool(self._rows("SELECT 1 FROM papers WHERE pid = ?", (pid,)))

    def __len__(self) -> int:
        if self._len is None:
            self._len = self._rows("SELECT count(*) FROM papers")[0][0]
        return self._len

    def __iter__(self) -> Iterator[str]:
        return iter([pid for (pid,) in self._rows("SELECT pid FROM papers ORDER BY n")])

    def content_hash(self, pid: str) -> str | None:
        """The content hash of a paper of this generation (chunks of other hashes are stale), None if absent."""
        return self._hash(pid)

    def _hash_of(self, pid: str) -> str | None:
        rows = self._rows("SELECT chash FROM papers WHERE pid = ?", (pid,))
        return rows[0][0] if rows else None

    def _stream(self) -> Iterator[tuple[str, Paper]]:
        con = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)  # its own cursor: no lock held
        try:
            for pid, record in con.execute("SELECT pid, record FROM papers ORDER BY n"):
                yield pid, Paper.model_validate_json(record)
        finally:
            con.close()

    def items(self):  # type: ignore[override]
        return list(self._stream())

    def values(self):  # type: ignore[override]
        return [paper for _, paper in self._stream()]

    def by_author_names(self, names: Iterable[str], full_only: bool = False) -> set[str]:
        """Papers by any of these casefolded names (``full_only``: names of two words or more)."""
        names = sorted(set(names))
        if not names:
            return set()
        extra = " AND words >= 2" if full_only else ""  # one JSON parameter: any number of names
        return {pid for (pid,) in self._rows(f"SELECT pid FROM authors WHERE name IN (SELECT value FROM json_each(?)){extra}",
                                             (json.dumps(names),))}

    def author_rows(self) -> list[tuple[str, str]]:
        """Every (casefolded name, paper id) of the author table."""
        return self._rows("SELECT name, pid FROM authors")

    def by_source_containing(self, needle: str) -> tuple[list[str], set[str]]:
        """Source files with ``needle`` in their name, and the papers found in them."""
        rows = self._rows("SELECT file, pid FROM sources WHERE instr(lower(file), ?) > 0", (needle.casefold(),))
        return sorted({f for f, _ in rows}), {pid for _, pid in rows}

    def full_names_in(self, text: str, longest: int = 8) -> set[str]:
        """Papers by any author whose full name (two words or more) appears in ``text``: every span of 2 to
        ``longest`` word tokens of the text, as written between them ("j. smith", "jean-pierre dupont"),
        is looked up in the name index (no scan of the names)."""
        q = text.casefold()
        spans = [(m.start(), m.end()) for m in re.finditer(r"\w+", q)]
        grams = {q[spans[i][0] : spans[j][1]] for i in range(len(spans))
                 for j in range(i + 1, min(len(spans), i + longest))}
        return self.by_author_names(grams, full_only=True)


class AuthorIndex:
    """The author filter in memory, built once per reader on its first author filter: the distinct
    casefolded names as one UTF-8 numpy array (a substring search over all of them is one vectorised call)
    and each author row's name and paper as numbers, so the papers of thousands of matching names ("li" at
    100k papers) are one boolean mask over ``paper_rows`` (paper id -> row) instead of sets of ids."""

    def __init__(self, table: PaperTable, paper_rows: Mapping[str, int]) -> None:
        rows = table.author_rows()
        self.names = sorted({name for name, _ in rows})
        number = {name: i for i, name in enumerate(self.names)}
        self._encoded = np.array([name.encode() for name in self.names], dtype=bytes)
        self._row_name = np.fromiter((number[name] for name, _ in rows), dtype=np.int64, count=len(rows))
        self.n_papers = len(paper_rows)
        self._row_paper = np.fromiter((paper_rows.get(pid, self.n_papers) for _, pid in rows), dtype=np.int64,
                                      count=len(rows))

    def names_containing(self, needle: str) -> np.ndarray:
        """The numbers of the names with ``needle`` in them (casefolded; index into ``names``)."""
        if not self.names:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.strings.find(self._encoded, needle.casefold().encode()) >= 0)

    def papers(self, names: np.ndarray) -> np.ndarray:
        """A flag per paper row: True for the papers by any of ``names`` (numbers from ``names_containing``)."""
        wanted = np.zeros(len(self.names), dtype=bool)
        wanted[names] = True
        flags = np.zeros(self.n_papers + 1, dtype=bool)
        flags[self._row_paper[wanted[self._row_name]]] = True
        return flags[:-1]
