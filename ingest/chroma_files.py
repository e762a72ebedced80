"""The embedded Chroma store's files, handled with SQLite directly (no Chroma load): a cheap health check,
removal of vector folders Chroma leaves behind, compaction, and a private copy for read-only readers."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sqlite3
import tempfile
from pathlib import Path

from common.errors import PapersError


def writable(chroma_dir: Path) -> bool:
    db = chroma_dir / "chroma.sqlite3"
    return os.access(chroma_dir, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def private_copy(chroma_dir: Path) -> Path:
    """A copy of a read-only Chroma store in a private temp folder, removed at exit.

    Chroma's embedded engine writes to its database whenever it opens it (even to read), so a store this
    user cannot write (a shared, read-only deployment) is read from a copy; nothing is written back.
    """
    copy = Path(tempfile.mkdtemp(prefix="papers-readonly-")) / "chroma"
    try:
        shutil.copytree(chroma_dir, copy)
    except OSError as exc:
        raise PapersError(
            f"the index in {chroma_dir} is read-only and cannot be copied to {copy.parent} to read it "
            f"({exc.strerror or exc}); set TMPDIR to a folder with space, or make {chroma_dir} writable"
        ) from None
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    atexit.register(shutil.rmtree, copy.parent, True)
    return copy


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def remove_orphan_segments(chroma_dir: Path) -> int:
    """Remove vector-segment folders of deleted collections, which Chroma leaves behind
    (chroma-core/chroma#5520): a folder is named by its segment id and kept while the sqlite store
    still lists that segment."""
    db = chroma_dir / "chroma.sqlite3"
    if not db.is_file():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            live = {row[0] for row in con.execute("SELECT id FROM segments")}
        finally:
            con.close()
    except sqlite3.Error:
        return 0  # an unreadable store is the doctor's business, not a reason to delete anything
    removed = 0
    for path in chroma_dir.iterdir():
        if path.is_dir() and _UUID.match(path.name) and path.name not in live:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def compact_store(chroma_dir: Path) -> bool:
    """Give the space of deleted collections back to the disk: Chroma's full-text index keeps deleted
    rows as tombstones and SQLite keeps freed pages, so without this the database grows with every update.
    Runs after the switch; a reader that queries meanwhile waits (Chroma's SQLite busy timeout is 5 s).
    Best effort: returns False when the database is busy or the disk too full to rewrite it."""
    db = chroma_dir / "chroma.sqlite3"
    if not db.is_file():
        return False
    try:
        con = sqlite3.connect(db, timeout=5, isolation_level=None)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "embedding_fulltext_search" in tables:
                con.execute("INSERT INTO embedding_fulltext_search(embedding_fulltext_search) VALUES('optimize')")
            pages, free = (con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count"))
            if free > 0.2 * pages:
                con.execute("VACUUM")
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return True


def _short_file(db: Path) -> bool | None:
    """Whether the database file is shorter than its header says (truncated); None when the header's page
    count is not valid (SQLite's own rule: the change counter equals the version-valid-for number)."""
    with db.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\0") or head[24:28] != head[92:96]:
        return None
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    return db.stat().st_size < int.from_bytes(head[28:32], "big") * page_size


def sqlite_problem(chroma_dir: Path, collection: str | None = None, thorough: bool = True) -> str | None:
    """Why the embedded Chroma store cannot serve ``collection``, or None (a cheap check: no Chroma load).

    ``thorough`` runs SQLite's ``quick_check`` (linear in the database: about 1 s per GB); without it (a
    reader's start) a file shorter than its header says is named and SQLite reads the schema and the
    collection; ``papers doctor`` and ``papers ingest`` stay thorough."""
    db = chroma_dir / "chroma.sqlite3"
    if not chroma_dir.is_dir():
        return f"the Chroma store {chroma_dir} is missing"
    if not db.is_file():
        return f"the Chroma database {db} is missing"
    # Read-write when allowed, so a hot journal left by a failed write (e.g. a full disk) is rolled back.
    mode = "rw" if os.access(db, os.W_OK) and os.access(chroma_dir, os.W_OK) else "ro"
    try:
        con = sqlite3.connect(f"file:{db}?mode={mode}", uri=True, timeout=5)
        try:
            short = None if thorough else _short_file(db)
            if short:
                return f"the Chroma database {db} is damaged (truncated: shorter than its header says)"
            check = "ok" if short is False else con.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                return f"the Chroma database {db} is damaged (quick_check: {check[:120]})"
            if collection and not con.execute("SELECT 1 FROM collections WHERE name = ?", (collection,)).fetchone():
                return f"the Chroma collection {collection!r} is missing from {db}"
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"the Chroma database {db} is damaged ({exc})"
    return None
