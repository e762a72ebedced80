"""The on-disk index: a manifest naming the live generation, plus its Chroma collection, BM25 and records.

Layout of the data dir::

    manifest.json       the switch: which generation is live, which embedder built it (a few hundred bytes)
    manifest.json.prev  the manifest before the last switch
    chroma/             embedded Chroma (absent when PAPERS_CHROMA_URL points at a server)
    gen-<N>/            records.json (ingest report), papers.sqlite (the papers and their content hashes),
                        bm25/, vectors.f32 and reader.lock

A new ingest builds generation N+1 beside the live one (collection ``<prefix>_g<N+1>``: a new base, or a
delta over the live base, see ``ingest.view``) and replaces
``manifest.json`` atomically only when everything is written, so a killed ingest leaves generation N live.
Old generations are removed once no reader holds them (``ingest.lease``). This module is the index's
public read API too: the assistant opens the index through ``open_index``, which names any damage and the
command that repairs it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from common.errors import PapersError
from common.settings import Settings
from ingest import chroma_files, lease, paper_table, remote
from ingest.view import GenerationView

MANIFEST = "manifest.json"
PREVIOUS = "manifest.json.prev"
FORMAT_VERSION = 3  # 2: keyword index without its corpus, list metadata for filters, in-place updates;
# 3: each paper's content hash in papers.sqlite instead of the manifest


def chroma_client(settings: Settings, write: bool = False) -> Any:
    """An embedded PersistentClient in the data dir, or an HttpClient for PAPERS_CHROMA_URL.

    A reader (``write=False``) of an embedded store it may not write opens a private copy of it.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    url = settings.index.chroma_url
    if not url:
        path = settings.index.data_dir / "chroma"
        if not write and path.is_dir() and not chroma_files.writable(path):
            path = chroma_files.private_copy(path)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise PapersError(f"PAPERS_CHROMA_URL={url!r} is not a URL: use http://host:port")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=chroma_settings
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises several types for a dead server
        raise remote.unavailable(url, exc) from None
    return client


class DamagedIndex(PapersError):
    """The index on disk is damaged; ``papers ingest`` rebuilds it."""


FIX = "run `papers ingest` to rebuild it (`papers doctor` shows what is wrong)"
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "generation": int, "collection": str, "generation_dir": str, "embedder": str, "chunks": int,
    "fingerprint": str, "chunk_size": int, "built_at": str,
}


def manifest_problem(payload: Any) -> str | None:
    """Why a parsed manifest cannot be used, or None when it has every field with the right type."""
    if not isinstance(payload, dict):
        return f"it holds a JSON {type(payload).__name__}, not an object"
    for key, kind in _REQUIRED.items():
        value = payload.get(key)
        if key not in payload:
            return f"the field {key!r} is missing"
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"the field {key!r} has the wrong type"
    if payload["generation"] < 1 or payload["generation_dir"] != f"gen-{payload['generation']}":
        return "the generation fields do not agree"
    return None


def load_manifest_file(path: Path) -> dict[str, Any]:
    """Parse and validate one manifest file; DamagedIndex names what is wrong."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except PermissionError:
        raise  # not damage: the caller names the permission problem
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise DamagedIndex(f"the index manifest {path} is unreadable ({reason}); {FIX}") from None
    problem = manifest_problem(payload)
    if problem:
        raise DamagedIndex(f"the index manifest {path} is damaged ({problem}); {FIX}")
    return payload


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    """The live manifest, None when there is no index yet; DamagedIndex when it cannot be used."""
    path = data_dir / MANIFEST
    try:
        if not path.exists():
            return None
        return load_manifest_file(path)
    except PermissionError:
        raise read_denied(path) from None


_STAMP_KEYS = ("generation", "built_at", "chroma_url")
_stamps: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}  # manifest path -> (its stat, its stamp)


def manifest_stamp(data_dir: Path) -> dict[str, Any] | None:
    """The live manifest's generation, build time and Chroma server URL, for checks made on every request;
    the file is parsed again only when its stat changes (a switch replaces it). None when there is no index yet; DamagedIndex as ``read_manifest``."""
    path = data_dir / MANIFEST
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except PermissionError:
        raise read_denied(path) from None
    key, seen = str(path.absolute()), (st.st_mtime_ns, st.st_size, st.st_ino)
    known = _stamps.get(key)
    if known is not None and known[0] == seen:
        return known[1]
    manifest = read_manifest(data_dir)
    if manifest is None:
        return None
    stamp = {k: manifest.get(k) for k in _STAMP_KEYS}
    _stamps[key] = (seen, stamp)
    return stamp


def read_previous_manifest(data_dir: Path) -> dict[str, Any] | None:
    """``manifest.json.prev`` (the manifest before the last switch) when it is usable, else None."""
    try:
        return load_manifest_file(data_dir / PREVIOUS) if (data_dir / PREVIOUS).exists() else None
    except DamagedIndex:
        return None


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600: other users of a shared index must read it
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_writable(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-test-")
        probe.close()
    except OSError as exc:
        raise PapersError(
            f"the data dir {data_dir} is not writable ({exc.strerror or exc}); set PAPERS_DATA_DIR to a writable folder"
        ) from None


def collection_name(settings: Settings, generation: int) -> str:
    return f"{settings.index.collection_prefix}_g{generation}"


def generation_dir(data_dir: Path, generation: int) -> Path:
    return data_dir / f"gen-{generation}"


def remove_stale(settings: Settings, client: Any, keep: set[int], keep_collections: frozenset[str] = frozenset()) -> list[int]:
    """Delete generations not in ``keep`` that no reader holds (see ``ingest.lease``): leftovers of a
    finished switch or of a killed ingest. A collection in ``keep_collections`` (the live one, which later
    generations update in place) stays. Returns the generations kept because a reader still uses them."""
    data_dir = settings.index.data_dir
    prefix = f"{settings.index.collection_prefix}_g"
    collections = {}
    for col in client.list_collections():
        name = col if isinstance(col, str) else col.name
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            collections[int(name[len(prefix) :])] = name
    dirs = {int(p.name[4:]): p for p in data_dir.glob("gen-*") if p.name[4:].isdigit()}
    in_use = []
    for gen in sorted((collections.keys() | dirs.keys()) - keep):
        gen_dir = generation_dir(data_dir, gen)
        with lease.exclusive(gen_dir) as free:
            if not free:
                in_use.append(gen)
                continue
            if gen in collections and collections[gen] not in keep_collections:
                client.delete_collection(collections[gen])
            shutil.rmtree(gen_dir, ignore_errors=True)
    if not settings.index.chroma_url:
        chroma_files.remove_orphan_segments(data_dir / "chroma")
    return in_use


def generation_problem(settings: Settings, manifest: dict[str, Any], thorough: bool = True) -> str | None:
    """Why the live generation cannot be read (cheap: files and sqlite only), or None when it looks whole
    (``thorough``: with SQLite's ``quick_check`` of the Chroma database, see ``chroma_files.sqlite_problem``)."""
    data_dir = settings.index.data_dir
    if manifest.get("format") != FORMAT_VERSION:
        return f"the index was written in format {manifest.get('format')}, this version reads format {FORMAT_VERSION}"
    if manifest.get("chroma_url") != settings.index.chroma_url:
        return f"the index was built for Chroma store {manifest.get('chroma_url') or 'embedded'}, not the configured one"
    gen_dir = data_dir / manifest["generation_dir"]
    if not gen_dir.is_dir():
        return f"the generation folder {gen_dir} is missing"
    try:
        records = json.loads((gen_dir / "records.json").read_text(encoding="utf-8"))
        if not isinstance(records, dict) or not isinstance(records.get("files"), list):
            return f"{gen_dir / 'records.json'} is damaged"
    except (OSError, ValueError, RecursionError):
        return f"{gen_dir / 'records.json'} is missing or unreadable"
    if not (gen_dir / paper_table.FILE).is_file():
        return f"the paper table {gen_dir / paper_table.FILE} is missing"
    if not (gen_dir / "bm25").is_dir() or not any((gen_dir / "bm25").iterdir()):
        return f"the keyword index {gen_dir / 'bm25'} is missing"
    if not settings.index.chroma_url:
        for i, name in enumerate([manifest["collection"], *([manifest["delta"]] if manifest.get("delta") else [])]):
            problem = chroma_files.sqlite_problem(data_dir / "chroma", name, thorough and i == 0)  # one check of the file
            if problem:
                return problem
    return None


@dataclass
class OpenIndex:
    """A live generation, opened for reading and leased (kept on disk) while this object is alive."""

    manifest: dict[str, Any]
    collection: Any  # a GenerationView: the generation's live chunks in its base and delta collections
    generation_dir: Path

    def records(self) -> dict[str, Any]:
        """The ingest's records with every paper as a dict (for reports; readers use ``paper_table``)."""
        records = json.loads((self.generation_dir / "records.json").read_text(encoding="utf-8"))
        table = paper_table.PaperTable(self.generation_dir / paper_table.FILE)
        records["papers"] = [p.model_dump() for p in table.values()]
        return records


def open_index(settings: Settings, expected_embedder: str | None = None) -> OpenIndex:
    """Open the live index, failing clearly when there is none, it is damaged, or another embedder built it.

    A reader that loses a race with an ingest (the generation it read in the manifest was switched out and
    removed before it could lease it) retries once on the new live generation.
    """
    try:
        return _open_live(settings, expected_embedder)
    except PermissionError as exc:
        raise read_denied(exc.filename or settings.index.data_dir) from None


def read_denied(path: Path | str) -> PapersError:
    return PapersError(f"permission denied: cannot read {path}: give this user read access to the index folder "
                       "or set PAPERS_DATA_DIR to an index it can read")


def _open_live(settings: Settings, expected_embedder: str | None) -> OpenIndex:
    data_dir = settings.index.data_dir
    for attempt in (1, 2):
        manifest = read_manifest(data_dir)
        if manifest is None:
            raise PapersError(f"no index yet in {data_dir}: run `papers ingest` first")
        if expected_embedder and manifest["embedder"] != expected_embedder:
            raise PapersError(
                f"the index in {data_dir} was built with {manifest['embedder']} but the configured embedder is "
                f"{expected_embedder}: re-run `papers ingest` or set PAPERS_EMBED_BACKEND to match"
            )
        try:
            return _open_generation(settings, manifest)
        except DamagedIndex:
            now = read_manifest(data_dir)
            if attempt == 1 and now is not None and now["generation"] != manifest["generation"]:
                continue
            raise
    raise AssertionError("unreachable")


def _open_generation(settings: Settings, manifest: dict[str, Any]) -> OpenIndex:
    data_dir = settings.index.data_dir
    gen_dir = data_dir / manifest["generation_dir"]
    try:
        held = lease.Lease(gen_dir)
    except FileNotFoundError:
        raise DamagedIndex(f"the generation folder {gen_dir} named by the manifest is missing; {FIX}") from None
    try:
        problem = generation_problem(settings, manifest, thorough=False)  # after the lease: nothing removes it from now on
        if problem:
            raise DamagedIndex(f"{problem}; {FIX}")
        client = chroma_client(settings)
        collections = []
        for name in [manifest["collection"], *([manifest["delta"]] if manifest.get("delta") else [])]:
            try:
                with remote.answering(settings.index.chroma_url) if settings.index.chroma_url else nullcontext():
                    collection = client.get_collection(name)
                collections.append(remote.ServerCollection(collection, settings.index.chroma_url)
                                   if settings.index.chroma_url else collection)
            except PapersError:
                raise
            except Exception as exc:
                where = settings.index.chroma_url or str(data_dir / "chroma")
                raise DamagedIndex(
                    f"the Chroma collection {name!r} at {where} cannot be opened ({type(exc).__name__}); {FIX}"
                ) from None
        hash_of = paper_table.PaperTable(gen_dir / paper_table.FILE).content_hash if manifest.get("delta") else None
        collection = GenerationView(collections, hash_of, manifest.get("stale_chunks", 0))
    except BaseException:
        held.close()
        raise
    index = OpenIndex(manifest=manifest, collection=collection, generation_dir=gen_dir)
    held.bind(index)
    return index


def disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
