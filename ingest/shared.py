"""A shared index on a Chroma server: with PAPERS_CHROMA_URL everything a reader needs lives in the server.

The writer publishes each generation there (``publish``): every paper's first chunk carries the paper's
record (``record`` metadata, beside the chunk's document), and a small pointer collection
``<prefix>_live`` holds each generation's manifest, ingest report and live paper hashes as documents and
names the live generation in its metadata, which is the switch (``live`` is changed last).

A reader's data dir is only a cache. ``sync`` asks the server for the live generation (at most every
``shared_check_seconds``; one small request) and, when the local manifest names another one, builds that
generation's paper table and keyword index from its collections (paged gets within
``get_max_batch_size()``) into ``gen-<N>`` of its data dir, then writes the local manifest: from there on
the reader opens it like a local generation. A writer's own data dir already matches, so nothing is built.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from common.errors import PapersError
from common.settings import Settings
from ingest import keyword, lease, paper_table, remote, store, vectors
from ingest.records import Paper

PART = 20_000  # live paper hashes per pointer document (a 100k corpus: 5 documents of ~1 MB)
STAMP = "shared.json"  # in a generation folder a reader built from the server
_checked: dict[tuple[str, str, str], float] = {}
_clients: dict[str, Any] = {}  # one Chroma client per server URL: a check is then a single small request


def pointer_name(settings: Settings) -> str:
    return f"{settings.index.collection_prefix}_live"


def with_record(settings: Settings, meta: dict[str, Any], paper: Paper) -> dict[str, Any]:
    """A chunk's Chroma metadata plus, on a server and for a paper's first chunk, the paper's record."""
    if settings.index.chroma_url and meta.get("chunk") == 0:
        meta["record"] = paper.model_dump_json()
    return meta


def publish(settings: Settings, client: Any, manifest: dict[str, Any], records: dict[str, Any],
            keep: set[int], hash_parts: Iterable[dict[str, str]]) -> None:
    """Store generation ``manifest["generation"]`` in the pointer collection and make it the live one;
    forget the pointer documents of generations not in ``keep``. ``hash_parts``: the live paper hashes
    (paper id -> content hash), at most ``PART`` a part, each turned into its document as it comes."""
    pointer = client.get_or_create_collection(pointer_name(settings), metadata={"live": 0})
    gen = manifest["generation"]
    parts = [json.dumps(part) for part in hash_parts] or [json.dumps({})]
    head = {**manifest, "papers_parts": len(parts)}
    ids = [f"g{gen}-manifest", f"g{gen}-records", *(f"g{gen}-papers-{i}" for i in range(len(parts)))]
    docs = [json.dumps(head), json.dumps({k: v for k, v in records.items() if k != "papers"}), *parts]
    pointer.upsert(ids=ids, documents=docs, embeddings=[[1.0]] * len(ids), metadatas=[{"generation": gen}] * len(ids))
    pointer.modify(metadata={"live": gen})  # the switch
    try:
        pointer.delete(where={"generation": {"$nin": sorted(keep | {gen})}})
    except Exception:  # noqa: BLE001  the switch is done; the next ingest forgets them
        pass


def server_lost(settings: Settings) -> PapersError | None:
    """The one-line error for an ingest whose Chroma server went away, or None while it still answers."""
    url = settings.index.chroma_url
    if not url:
        return None
    try:
        store.chroma_client(settings, write=True)
    except PapersError:
        return PapersError(f"the Chroma server at {url} went away during the ingest: the previous generation is "
                           "still the live one; start the server again and re-run `papers ingest`")
    return None


def live_generation(settings: Settings, client: Any) -> int | None:
    """The generation the server names live, None when nothing was published there yet."""
    from chromadb.errors import NotFoundError

    try:
        pointer = client.get_collection(pointer_name(settings))
    except NotFoundError:
        return None
    live = (pointer.metadata or {}).get("live")
    return live if isinstance(live, int) and live > 0 else None


def published(settings: Settings, client: Any, gen: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generation ``gen``'s manifest (with its paper hashes) and ingest report, as the writer published them."""
    pointer = client.get_collection(pointer_name(settings))
    got = pointer.get(ids=[f"g{gen}-manifest", f"g{gen}-records"], include=["documents"])
    docs = dict(zip(got["ids"], got["documents"]))
    if len(docs) < 2:
        raise PapersError(f"the Chroma server at {settings.index.chroma_url} names generation {gen} live but does "
                          f"not hold its manifest: re-run `papers ingest` against it")
    manifest, records = json.loads(docs[f"g{gen}-manifest"]), json.loads(docs[f"g{gen}-records"])
    parts = pointer.get(ids=[f"g{gen}-papers-{i}" for i in range(manifest.pop("papers_parts"))], include=["documents"])
    manifest["papers_by_id"] = {}
    for doc in parts["documents"]:
        manifest["papers_by_id"].update(json.loads(doc))
    return manifest, records


def embed_text(document: str, meta: dict[str, Any]) -> str:
    """A chunk's text as the embedder and BM25 saw it at ingest (title and authors, then the text)."""
    from llama_index.core.schema import MetadataMode, TextNode

    from ingest.chunk import EMBED_KEYS

    node = TextNode(text=document or "", metadata={k: meta[k] for k in EMBED_KEYS if k in meta})
    return node.get_content(metadata_mode=MetadataMode.EMBED)


def _rows(client: Any, names: list[str]) -> Iterator[tuple[str, str, dict[str, Any], Any]]:
    """Every chunk of the collections with its vector, a page of at most get_max_batch_size() at a time."""
    step = int(client.get_max_batch_size())
    for name in names:
        collection = client.get_collection(name)
        for page in range(math.ceil(collection.count() / step)):
            got = collection.get(include=["documents", "metadatas", "embeddings"], limit=step, offset=page * step)
            yield from zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])


def build_cache(settings: Settings, client: Any, manifest: dict[str, Any], records: dict[str, Any], gen_dir: Path) -> None:
    """Write the generation's paper table, keyword index, vectors file and report into ``gen_dir`` from its
    collections (the vectors in the keyword index's order, so filtered queries are scored locally)."""
    live = manifest["papers_by_id"]
    ids: list[str] = []
    years: list[int | None] = []
    texts: list[str] = []
    seen: set[str] = set()
    tmp = gen_dir.with_name(f".{gen_dir.name}.sync-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    vec = vectors.VectorWriter(tmp / vectors.FILE)

    def papers() -> Iterator[Paper]:
        pending: list[Any] = []
        for cid, doc, meta, embedding in _rows(client, [manifest["collection"], *([manifest["delta"]] if manifest.get("delta") else [])]):
            if cid in seen or not meta or live.get(meta.get("paper_id")) != meta.get("content_hash"):
                continue
            seen.add(cid)
            ids.append(cid)
            years.append(meta.get("year"))
            texts.append(embed_text(doc, meta))
            pending.append(embedding)
            if len(pending) >= vectors.COPY_ROWS:
                vec.append(pending)
                pending = []
            if "record" in meta:
                yield Paper.model_validate_json(meta["record"])
        vec.append(pending)

    try:
        paper_table.write(tmp / paper_table.FILE, papers())
        vec.close(len(ids))
        found = len(paper_table.PaperTable(tmp / paper_table.FILE))
        if found != len(live):
            raise PapersError(
                f"the Chroma server at {settings.index.chroma_url} holds generation {manifest['generation']} with "
                f"{found} of its {len(live)} paper records (written by an older version?): re-run `papers ingest` "
                "against it")
        keyword.build(tmp / "bm25", ids, years, texts)
        store.write_json_atomic(tmp / "records.json", records)
        store.write_json_atomic(tmp / STAMP, {"chroma_url": settings.index.chroma_url, "built_at": manifest["built_at"],
                                              "fingerprint": manifest["fingerprint"]})
        lease.write_lock_file(tmp)
        os.replace(tmp, gen_dir)
    except BaseException:
        vec.abandon()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _clear(gen_dir: Path) -> None:
    """Remove a folder of the same name left by another store or build, unless a reader holds it."""
    if not gen_dir.exists():
        return
    with lease.exclusive(gen_dir) as free:
        if not free:
            raise PapersError(f"{gen_dir} is in use by a reader of another index: set PAPERS_DATA_DIR to a folder of "
                              "its own for this Chroma server")
        shutil.rmtree(gen_dir)


def _forget_old(data_dir: Path, keep: int) -> None:
    """Generations this data dir built from the server and no reader holds any more are removed."""
    for gen_dir in data_dir.glob("gen-*"):
        if gen_dir.name != f"gen-{keep}" and (gen_dir / STAMP).exists():
            with lease.exclusive(gen_dir) as free:
                if free:
                    shutil.rmtree(gen_dir, ignore_errors=True)


def sync(settings: Settings, force: bool = False) -> None:
    """Make the data dir's manifest name the server's live generation (no-op without PAPERS_CHROMA_URL); a
    server that stops answering on the way is one line naming its URL (``remote.ServerUnavailable``)."""
    url = settings.index.chroma_url
    if url:
        with remote.answering(url):
            _sync(settings, url, force)


def _sync(settings: Settings, url: str, force: bool) -> None:
    data_dir = settings.index.data_dir
    key = (url, str(data_dir.resolve()), settings.index.collection_prefix)
    if not force and time.monotonic() - _checked.get(key, -math.inf) < settings.index.shared_check_seconds:
        return
    try:
        client = _clients[url]
        gen = live_generation(settings, client)
    except Exception:  # noqa: BLE001  no client yet, or the server restarted: connect again (names the URL if down)
        client = _clients[url] = store.chroma_client(settings)
        gen = live_generation(settings, client)
    _checked[key] = time.monotonic()
    if gen is None or _current(settings, gen):
        return
    store.ensure_writable(data_dir)
    with open(data_dir / ".ingest.lock", "w") as lock:  # the writer's lock: one writer or syncer at a time
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (fcntl.LOCK_NB if _local(data_dir) else 0))
        except BlockingIOError:
            return  # an ingest or another reader is switching this data dir: keep reading the current one
        if _current(settings, gen):
            return
        manifest, records = published(settings, client, gen)
        manifest["chroma_url"] = url  # as this reader spells it (the writer may reach the server by another name)
        gen_dir = store.generation_dir(data_dir, gen)
        stamp = gen_dir / STAMP
        if not (stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")).get("built_at") == manifest["built_at"]):
            _clear(gen_dir)
            build_cache(settings, client, manifest, records, gen_dir)
        store.write_json_atomic(data_dir / store.MANIFEST, manifest)
        _forget_old(data_dir, gen)


def _local(data_dir: Path) -> dict[str, Any] | None:
    try:
        return store.read_manifest(data_dir)
    except store.DamagedIndex:
        return None


def _current(settings: Settings, gen: int) -> bool:
    """Whether the local manifest names ``gen`` of this server (``store.manifest_stamp``: an unchanged
    manifest file is not parsed again)."""
    try:
        local = store.manifest_stamp(settings.index.data_dir)
    except PapersError:  # damaged or unreadable: not current, the sync that follows names the problem
        return False
    return bool(local) and local["generation"] == gen and local.get("chroma_url") == settings.index.chroma_url
