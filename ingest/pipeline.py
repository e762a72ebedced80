"""``papers ingest``: corpus -> records -> chunks -> vectors -> a new index generation, switched atomically.

Streamed: records are parsed into the new generation's paper table as they come (``ingest.corpus``), and
chunked, embedded and written from it a batch at a time (``ingest.writer``); nothing holds the corpus.

Incremental by construction: chunk ids carry each paper's content hash. An update writes only the chunks
of new and changed papers, into a small delta collection beside the live generation's base collection,
which it never writes (``ingest.writer``, ``ingest.view``); once deltas and replaced chunks pass
``DELTA_LIMIT`` of the base, the next ingest builds a new base, copying vectors instead of re-embedding.
When nothing at all changed (same records, embedder and chunking) no generation is written and the model
is never loaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from common.errors import PapersError
from common.settings import Settings
from ingest import chroma_files, paper_table, shared, store
from ingest.corpus import Corpus, stage_corpus
from ingest.embed import embedder_id
from ingest.faults import plain_write_errors
from ingest.writer import write_generation


@dataclass
class IngestReport:
    """What one ingest did; printed by the CLI (text or --json)."""

    status: str  # created | updated | repaired | unchanged
    papers: int
    chunks: int
    embedded: int
    reused: int
    added_papers: int
    changed_papers: int
    removed_papers: int
    dropped: int
    skipped: int
    duplicates: int
    generation: int
    embedder: str
    seconds: float = 0.0
    filtered: int = 0  # records outside PAPERS_CATEGORIES
    replaced: int = 0  # records replaced by a later one with the same id
    skipped_records: list[dict[str, Any]] = field(default_factory=list)
    repaired: str | None = None  # what was wrong with the index this run rebuilt

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    with open(data_dir / ".ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PapersError(f"another `papers ingest` is running on {data_dir}; wait for it to finish") from None
        yield


def records_payload(corpus: Corpus, corpus_path: Path) -> dict[str, Any]:
    """The ingest's report kept with a generation (``records.json``); the papers are in its paper table."""
    return {
        "corpus": str(corpus_path),
        "files": corpus.files,
        "dropped": [d.model_dump() for d in corpus.dropped],
        "skipped": [s.model_dump() for s in corpus.skipped],
        "duplicates": [d.model_dump() for d in corpus.duplicates],
        "filtered": corpus.filtered,
        "replaced": corpus.replaced,
    }


def fingerprint(records: dict[str, Any], table: sqlite3.Connection, embedder: str, settings: Settings) -> str:
    """What the index would be built from: the report, every paper's record (streamed from the staged
    table, in corpus order), the embedder and the chunking."""
    digest = hashlib.sha256(json.dumps(
        {
            "format": store.FORMAT_VERSION,
            "records": {k: v for k, v in records.items() if k != "corpus"},
            "embedder": embedder,
            "chunking": [settings.ingest.chunk_size, settings.ingest.chunk_overlap],
        },
        sort_keys=True,
        ensure_ascii=False,
    ).encode())
    for (record,) in table.execute("SELECT record FROM papers ORDER BY n"):
        digest.update(record.encode())
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass
class Changes:
    """How the staged papers differ from the live generation's (compared in SQL, by content hash)."""

    fresh: set[str] = field(default_factory=set)  # ids of new and changed papers (empty when ``everything``)
    removed: set[str] = field(default_factory=set)
    added: int = 0
    everything: bool = False  # no usable live table: every paper is new (not listed: the build reads the table)

    @property
    def changed(self) -> int:
        return 0 if self.everything else len(self.fresh) - self.added


def diff(table: sqlite3.Connection, old_table: Path | None, papers: int) -> Changes:
    """The changes from ``old_table`` (None: no usable live table, every paper is new)."""
    if old_table is None or not old_table.is_file():  # a full build: it reads every paper from the table itself
        return Changes(added=papers, everything=True)
    table.execute("ATTACH DATABASE ? AS old", (str(old_table),))
    try:
        fresh = {pid for (pid,) in table.execute(
            "SELECT n.pid FROM papers n LEFT JOIN old.papers o ON o.pid = n.pid WHERE o.chash IS NOT n.chash")}
        (added,) = table.execute(
            "SELECT count(*) FROM papers n WHERE NOT EXISTS (SELECT 1 FROM old.papers o WHERE o.pid = n.pid)").fetchone()
        removed = {pid for (pid,) in table.execute(
            "SELECT o.pid FROM old.papers o WHERE NOT EXISTS (SELECT 1 FROM papers n WHERE n.pid = o.pid)")}
    finally:
        table.execute("DETACH DATABASE old")
    return Changes(fresh=fresh, removed=removed, added=added)


def _discard(settings: Settings, client: Any, gen: int) -> None:
    """Best effort: remove a generation that was never switched to (the next ingest would anyway)."""
    try:
        client.delete_collection(store.collection_name(settings, gen))
    except Exception:  # noqa: BLE001  (the original failure is the one to report)
        pass
    shutil.rmtree(store.generation_dir(settings.index.data_dir, gen), ignore_errors=True)


def _abandon(settings: Settings, client: Any, gen: int, exc: BaseException) -> None:
    """Discard a generation that failed; a Chroma server that went away becomes a one-line error."""
    _discard(settings, client, gen)
    lost = shared.server_lost(settings) if isinstance(exc, Exception) and not isinstance(exc, PapersError) else None
    if lost is not None:
        raise lost from None


DELTA_LIMIT = 0.1  # an update whose delta and stale chunks would pass this share of the base rebuilds it


def _same_build(old: dict[str, Any], embedder: str, settings: Settings) -> bool:
    """Whether the live generation was written by this format, embedder and chunking."""
    return (old.get("format"), old.get("embedder"), old.get("chunk_size"), old.get("chunk_overlap")) == (
        store.FORMAT_VERSION, embedder, settings.ingest.chunk_size, settings.ingest.chunk_overlap)


def _hash_parts(table: sqlite3.Connection) -> Iterator[dict[str, str]]:
    """The paper table's (paper id -> content hash), ``shared.PART`` at a time."""
    cursor = table.execute("SELECT pid, chash FROM papers ORDER BY pid")
    while rows := cursor.fetchmany(shared.PART):
        yield dict(rows)


def _delta_fits(old: dict[str, Any], changes: Changes, embedder: str, settings: Settings) -> bool:
    """Whether the new generation can be the live one's base plus a small delta (same vectors, same chunks,
    and few enough changes since the base was built); otherwise it is built whole."""
    if changes.everything or not _same_build(old, embedder, settings):
        return False
    changed = len(changes.fresh) + len(changes.removed)
    grown = old.get("delta_chunks", 0) + old.get("stale_chunks", 0) + 2 * changed
    return grown <= DELTA_LIMIT * old.get("base_chunks", old["chunks"])


def _collections(manifest: dict[str, Any]) -> list[str]:
    return [manifest["collection"], *([manifest["delta"]] if manifest.get("delta") else [])]


def _live_manifest(settings: Settings) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest to build on and, when the index needs repair, what is wrong with it (the cheap check a
    reader makes; ``_full_check`` adds SQLite's ``quick_check`` before a full build)."""
    data_dir = settings.index.data_dir
    try:
        old = store.read_manifest(data_dir)
    except store.DamagedIndex as exc:
        return store.read_previous_manifest(data_dir), str(exc).split("; ")[0]
    if old is None or old.get("chroma_url") != settings.index.chroma_url:
        return old, None  # no index yet, or it moves to another Chroma store: an update, not a repair
    return old, store.generation_problem(settings, old, thorough=False)


def _full_check(settings: Settings, old: dict[str, Any]) -> str | None:
    """The thorough check of the live generation (``quick_check`` reads the whole Chroma database, seconds
    at 100k papers): made before a full build, which costs minutes anyway; an update writes only a new delta
    collection beside it (``papers doctor`` checks thoroughly too)."""
    return store.generation_problem(settings, old, thorough=True)


def _next_generation(data_dir: Path, old: dict[str, Any] | None) -> int:
    seen = [old["generation"]] if old else []
    prev = store.read_previous_manifest(data_dir)
    seen += [prev["generation"]] if prev else []
    seen += [int(p.name[4:]) for p in data_dir.glob("gen-*") if p.name[4:].isdigit()]
    return max(seen, default=0) + 1


def _set_aside_damaged_store(settings: Settings, checked: bool) -> None:
    """An embedded Chroma database that SQLite cannot read is removed so the rebuild starts clean; a store
    that was removed or damaged also drops this process's cached Chroma connections to it. ``checked``: the
    live generation was just found whole (its check includes the database's ``quick_check``, linear in its
    size), so it is not checked twice."""
    if settings.index.chroma_url or checked:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    chroma_dir = settings.index.data_dir / "chroma"
    problem = chroma_files.sqlite_problem(chroma_dir)
    if problem and any(word in problem for word in ("malformed", "not a database", "quick_check", "corrupt")):
        shutil.rmtree(chroma_dir)
    if problem:
        SharedSystemClient.clear_system_cache()


def run_ingest(settings: Settings, corpus_path: Path | None = None, progress: bool = True) -> IngestReport:
    """Ingest a corpus into the index in ``settings.index.data_dir``; the previous index stays live on failure.

    A damaged index (unreadable manifest, missing generation folder or Chroma store, damaged sqlite) is
    rebuilt rather than reported as up to date.
    """
    started = time.perf_counter()
    corpus_path = Path(corpus_path or settings.ingest.corpus)
    data_dir = settings.index.data_dir
    store.ensure_writable(data_dir)
    _remove_dead_stages(data_dir)
    staged = data_dir / f".stage-{os.getpid()}.sqlite"  # the new generation's paper table, linked in when it is built
    try:
        table = paper_table.create(staged)
        try:
            return _ingest(settings, corpus_path, table, staged, progress, started)
        finally:
            table.close()
    finally:
        staged.unlink(missing_ok=True)


def _remove_dead_stages(data_dir: Path) -> None:
    """Paper tables staged by ingests that were killed (their process is gone) are removed."""
    for path in data_dir.glob(".stage-*.sqlite"):
        pid = path.name[len(".stage-") : -len(".sqlite")]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except PermissionError:
            pass  # another user's live process


def _ingest(settings: Settings, corpus_path: Path, table: sqlite3.Connection, staged: Path, progress: bool,
            started: float) -> IngestReport:
    data_dir = settings.index.data_dir
    categories = frozenset(c.strip() for c in settings.ingest.categories.split(",") if c.strip())
    corpus = stage_corpus(corpus_path, table, progress=progress, categories=categories)
    (papers,) = table.execute("SELECT count(*) FROM papers").fetchone()
    if not papers:
        first = corpus.skipped[0] if corpus.skipped else None
        why = f"; {first.source.file}: {first.reason}" if first else ""
        raise PapersError(f"no papers found in {corpus_path} ({len(corpus.skipped)} records skipped, "
                          f"{len(corpus.dropped)} dropped{why})")
    emb = embedder_id(settings)
    records = records_payload(corpus, corpus_path)
    print_ = fingerprint(records, table, emb, settings)
    shared.sync(settings, force=True)  # a writer with a new data dir builds on the server's live generation
    with ingest_lock(data_dir), plain_write_errors(data_dir):
        old, damage = _live_manifest(settings)
        base = dict(
            papers=papers, dropped=len(corpus.dropped), skipped=len(corpus.skipped),
            duplicates=len(corpus.duplicates), filtered=corpus.filtered, replaced=corpus.replaced, embedder=emb,
            skipped_records=[s.model_dump() for s in corpus.skipped], repaired=damage,
        )
        same_store = old is not None and old.get("chroma_url") == settings.index.chroma_url
        if old and same_store and not damage and old.get("fingerprint") == print_:
            return IngestReport(status="unchanged", chunks=old["chunks"], embedded=0, reused=old["chunks"],
                                added_papers=0, changed_papers=0, removed_papers=0, generation=old["generation"],
                                seconds=time.perf_counter() - started, **base)
        usable = old is not None and old.get("format") == store.FORMAT_VERSION
        changes = diff(table, data_dir / old["generation_dir"] / paper_table.FILE if usable else None, papers)
        in_place = bool(old) and same_store and not damage and _delta_fits(old, changes, emb, settings)
        if old and same_store and not damage and not in_place:
            damage = base["repaired"] = _full_check(settings, old)
        _set_aside_damaged_store(settings, checked=same_store and not damage)
        client = store.chroma_client(settings, write=True)
        live = frozenset(_collections(old)) if old and same_store else frozenset()
        store.remove_stale(settings, client, keep={old["generation"]} if old else set(), keep_collections=live)
        gen = _next_generation(data_dir, old)
        try:
            gen_dir = store.generation_dir(data_dir, gen)
            gen_dir.mkdir(parents=True, exist_ok=True)
            table.commit()
            os.link(staged, gen_dir / paper_table.FILE)  # the staged table, whole (unlinked from its temp name at the end)
            written = write_generation(settings, client, gen, records, old, emb, progress, in_place, changes)
        except BaseException as exc:
            _abandon(settings, client, gen, exc)  # e.g. a full disk: give the half-written generation's space back
            raise
        manifest = {
            "format": store.FORMAT_VERSION,
            "generation": gen,
            "collection": written.base,
            "delta": written.delta,
            "base_chunks": written.base_chunks,
            "delta_chunks": written.delta_chunks,
            "stale_chunks": written.stale,
            "generation_dir": store.generation_dir(data_dir, gen).name,
            "embedder": emb,
            "embedding_dim": written.dim or (old or {}).get("embedding_dim", 0),
            "chunk_size": settings.ingest.chunk_size,
            "chunk_overlap": settings.ingest.chunk_overlap,
            "chroma_url": settings.index.chroma_url,
            "fingerprint": print_,
            "papers": papers,
            "chunks": written.chunks,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        # On a server the previous generation stays until the next ingest: readers elsewhere switch within seconds.
        shown = {old["generation"]} if old and same_store and settings.index.chroma_url else set()
        if settings.index.chroma_url:
            try:  # the switch for every reader (the server keeps the paper hashes readers check chunks against)
                shared.publish(settings, client, manifest, records, keep=shown, hash_parts=_hash_parts(table))
            except BaseException as exc:
                _abandon(settings, client, gen, exc)
                raise
        if old and not damage:
            store.write_json_atomic(data_dir / store.PREVIOUS, old)
        store.write_json_atomic(data_dir / store.MANIFEST, manifest)  # the switch
        kept = frozenset(_collections(manifest) + (_collections(old) if shown and old else []))
        if not store.remove_stale(settings, client, keep={gen} | shown, keep_collections=kept) \
                and not settings.index.chroma_url and not in_place:  # an update deletes only a small delta
            chroma_files.compact_store(data_dir / "chroma")
        return IngestReport(
            status="repaired" if damage else "updated" if old else "created", chunks=written.chunks,
            embedded=written.embedded, reused=written.chunks - written.embedded,
            added_papers=changes.added if old else papers, changed_papers=changes.changed if old else 0,
            removed_papers=len(changes.removed) if old else 0,
            generation=gen, seconds=time.perf_counter() - started, **base,
        )
