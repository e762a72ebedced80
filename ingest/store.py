"""The on-disk index: a manifest naming the live generation, plus its Chroma collection, BM25 and records.

Layout of the data dir::

    manifest.json      the switch: which generation is live, which embedder built it
    chroma/            embedded Chroma (absent when PAPERS_CHROMA_URL points at a server)
    gen-<N>/           records.json (papers + ingest report) and bm25/ for generation N

A new ingest builds generation N+1 beside the live one (collection ``<prefix>_g<N+1>``) and replaces
``manifest.json`` atomically only when everything is written, so a killed ingest leaves generation N live.
This module is the index's public read API too: the assistant opens the index through ``open_index``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from common.errors import PapersError
from common.settings import Settings

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def chroma_client(settings: Settings) -> Any:
    """An embedded PersistentClient in the data dir, or an HttpClient for PAPERS_CHROMA_URL."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    url = settings.index.chroma_url
    if not url:
        return chromadb.PersistentClient(path=str(settings.index.data_dir / "chroma"), settings=chroma_settings)
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
        raise PapersError(
            f"cannot reach the Chroma server at {url} ({type(exc).__name__}); start it with `chroma run` "
            "or unset PAPERS_CHROMA_URL to use the embedded store"
        ) from None
    return client


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PapersError(f"the index manifest {path} is unreadable ({exc}); re-run `papers ingest`") from None


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def remove_stale(settings: Settings, client: Any, keep: int | None) -> None:
    """Delete generations other than ``keep``: leftovers of a finished switch or of a killed ingest."""
    prefix = f"{settings.index.collection_prefix}_g"
    for col in client.list_collections():
        name = col if isinstance(col, str) else col.name
        if name.startswith(prefix) and name[len(prefix) :].isdigit() and int(name[len(prefix) :]) != keep:
            client.delete_collection(name)
    for path in settings.index.data_dir.glob("gen-*"):
        if path.name != f"gen-{keep}":
            shutil.rmtree(path, ignore_errors=True)


def generation_files_present(settings: Settings, manifest: dict[str, Any]) -> bool:
    """Cheap check (no Chroma load) that the live generation's files are where the manifest says."""
    data_dir = settings.index.data_dir
    gen_dir = data_dir / manifest["generation_dir"]
    local_store_ok = bool(settings.index.chroma_url) or (data_dir / "chroma").is_dir()
    same_store = manifest.get("chroma_url") == settings.index.chroma_url
    return same_store and local_store_ok and (gen_dir / "records.json").is_file() and (gen_dir / "bm25").is_dir()


@dataclass
class OpenIndex:
    """A live generation, opened for reading."""

    manifest: dict[str, Any]
    collection: Any
    generation_dir: Path

    def records(self) -> dict[str, Any]:
        return json.loads((self.generation_dir / "records.json").read_text())


def open_index(settings: Settings, expected_embedder: str | None = None) -> OpenIndex:
    """Open the live index, failing clearly when there is none or it was built by another embedder."""
    data_dir = settings.index.data_dir
    manifest = read_manifest(data_dir)
    if manifest is None:
        raise PapersError(f"no index yet in {data_dir}: run `papers ingest` first")
    if expected_embedder and manifest["embedder"] != expected_embedder:
        raise PapersError(
            f"the index in {data_dir} was built with {manifest['embedder']} but the configured embedder is "
            f"{expected_embedder}: re-run `papers ingest` or set PAPERS_EMBED_BACKEND to match"
        )
    client = chroma_client(settings)
    try:
        collection = client.get_collection(manifest["collection"])
    except Exception:
        where = settings.index.chroma_url or str(data_dir / "chroma")
        raise PapersError(
            f"the index names Chroma collection {manifest['collection']!r}, which is missing at {where}: "
            "re-run `papers ingest`"
        ) from None
    return OpenIndex(manifest=manifest, collection=collection, generation_dir=data_dir / manifest["generation_dir"])


def disk_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
