"""Write one generation: chunks streamed into Chroma in batches the store accepts, then the keyword index.

Papers are chunked one at a time and written ``write_batch_size`` chunks at a time (at most Chroma's
``get_max_batch_size()``), so no list of every chunk or vector is ever held: per batch, vectors the live
generation already has are copied, the rest are embedded, and the batch is added. Progress bars on
stderr show papers and chunks with their rates.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from tqdm import tqdm

from common.errors import PapersError
from common.settings import Settings
from ingest import keyword, paper_table, store, vectors
from ingest.lease import write_lock_file
from ingest.shared import with_record
from ingest.records import Paper


@dataclass
class Written:
    base: str = ""  # the collection holding the bulk of the chunks
    delta: str | None = None  # an update's collection of new and changed chunks
    base_chunks: int = 0
    delta_chunks: int = 0
    stale: int = 0  # chunks in the base of papers this generation changed or removed
    carried: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # positions in the live keyword index of unchanged chunks
    chunks: int = 0
    embedded: int = 0
    dim: int = 0
    embed_calls: int = 0


def batch_size(settings: Settings, client: Any) -> int:
    """Chunks per write: the configured size, capped by what the Chroma store accepts in one call."""
    most = int(client.get_max_batch_size())
    wanted = settings.ingest.write_batch_size
    return min(wanted, most) if wanted > 0 else most


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class _Embedder:
    """The embedding model, loaded on first use (an update that re-embeds nothing never loads it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: Any = None
        self.calls = 0

    def __call__(self, texts: list[str]) -> list[list[float]]:
        if self.model is None:
            from ingest.embed import make_embedder

            self.model = make_embedder(self.settings)
        out: list[list[float]] = []
        step = self.settings.ingest.embed_batch_size
        for start in range(0, len(texts), step):
            try:
                out.extend(list(map(float, v)) for v in self.model.get_text_embedding_batch(texts[start : start + step]))
            except PapersError:
                raise
            except Exception as exc:
                raise PapersError(f"embedding failed ({type(exc).__name__}: {str(exc)[:200]})") from None
            self.calls += 1
        return out


def _reusable(old_collection: Any, ids: list[str]) -> dict[str, list[float]]:
    if old_collection is None:
        return {}
    try:
        got = old_collection.get(ids=ids, include=["embeddings"])
    except Exception:  # noqa: BLE001  the old collection is gone: embed everything
        return {}
    return {i: e for i, e in zip(got["ids"], got["embeddings"])}


def old_collection(client: Any, old: dict[str, Any] | None, embedder: str) -> Any:
    if not old or old.get("embedder") != embedder:
        return None
    try:
        return client.get_collection(old["collection"])
    except Exception:  # noqa: BLE001
        return None


def papers_of(table: Path, pids: set[str] | None = None) -> Iterator[Paper]:
    """The papers of a paper table in corpus order, read a page at a time (``pids``: only these)."""
    con = sqlite3.connect(f"file:{table}?mode=ro", uri=True)
    try:
        if pids is None:
            rows = con.execute("SELECT record FROM papers ORDER BY n")
        else:
            rows = con.execute("SELECT record FROM papers WHERE pid IN (SELECT value FROM json_each(?)) ORDER BY n",
                               (json.dumps(sorted(pids)),))
        for (record,) in rows:
            yield Paper.model_validate_json(record)
    finally:
        con.close()


def write_generation(settings: Settings, client: Any, gen: int, records: dict[str, Any], old: dict[str, Any] | None,
                     embedder: str, progress: bool, in_place: bool, changes: Any) -> Written:
    """Build generation ``gen`` (its collection, keyword index, vectors, report) beside the live one; its
    paper table is already in its folder.

    Full: every chunk goes into a new base collection, vectors the live generation has are copied.
    ``in_place`` (an update): the new collection is a delta holding only the chunks of new and changed
    papers (``changes.fresh``) plus the live delta's still-live chunks; the base is shared with the live
    generation and never written, so a failed update cannot harm it (see ``ingest.view``)."""
    previous = old_collection(client, old, embedder)
    done = Written()
    name = store.collection_name(settings, gen)
    collection = client.create_collection(name, metadata={"hnsw:space": "cosine"})
    gen_dir = store.generation_dir(settings.index.data_dir, gen)
    table = gen_dir / paper_table.FILE
    vec = vectors.VectorWriter(gen_dir / vectors.FILE)
    words = keyword.KeywordWriter()
    try:
        if in_place and previous is not None and old is not None:
            done.base, done.delta = old["collection"], name
            _carry_over(settings, client, old, changes.fresh | changes.removed, collection, words, done)
            vec.carry(settings.index.data_dir / old["generation_dir"] / vectors.FILE, old.get("embedding_dim", 0), done.carried)
            papers, count, previous = papers_of(table, changes.fresh), len(changes.fresh), None
        else:
            done.base = name
            papers, count = papers_of(table), len(paper_table.PaperTable(table))
        _write_chunks(settings, client, collection, previous, papers, count, progress, done, words, vec)
    finally:
        vec.close(words.count)
    if done.delta:
        done.delta_chunks = collection.count()
    else:
        done.base_chunks = done.chunks
    store.write_json_atomic(gen_dir / "records.json", records)
    words.save(keyword_dir(gen_dir))
    write_lock_file(gen_dir)
    return done


def _carry_over(settings: Settings, client: Any, old: dict[str, Any], gone: set[str], delta: Any,
                words: keyword.KeywordWriter, done: Written) -> None:
    """Carry the chunks of the papers not in ``gone`` (changed or removed) over from the live generation:
    their keyword entries (tokens included) and the chunks of its delta into the new delta; the base is
    shared as it is."""
    keep = words.carry(keyword_dir(settings.index.data_dir / old["generation_dir"]), gone)
    done.carried = np.flatnonzero(keep)
    moved = 0
    if old.get("delta"):  # the live delta's chunks move to the new delta
        source = client.get_collection(old["delta"])
        for batch in words.id_batches(batch_size(settings, client)):
            got = source.get(ids=batch, include=["documents", "metadatas", "embeddings"])
            if got["ids"]:
                delta.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                          metadatas=got["metadatas"])
                moved += len(got["ids"])
    done.chunks = words.count
    done.base_chunks = old.get("base_chunks", old["chunks"])
    done.stale = done.base_chunks - (words.count - moved)


def _write_chunks(settings: Settings, client: Any, collection: Any, previous: Any, papers: Iterator[Paper], count: int,
                  progress: bool, done: Written, words: keyword.KeywordWriter, vec: vectors.VectorWriter) -> None:
    """Chunk, embed (or copy from ``previous``) and upsert ``papers``, one batch at a time (their vectors also go
    to the generation's vectors file and their tokens to the keyword index, in the same order)."""
    from llama_index.core.schema import MetadataMode

    from ingest.chunk import iter_chunks, store_metadata

    embed = _Embedder(settings)
    current: dict[str, Paper] = {}  # the papers of the chunks not yet written

    def tracked() -> Iterator[Paper]:
        for paper in papers:
            current[paper.paper_id] = paper
            yield paper

    chunks = iter_chunks(tracked(), settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    with tqdm(total=count, desc="Embedding", unit="paper", disable=not progress) as bar:
        for batch in _batches(chunks, batch_size(settings, client)):
            batch_ids = [n.id_ for n in batch]
            embed_texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in batch]
            found = _reusable(previous, batch_ids)
            todo = [i for i, cid in enumerate(batch_ids) if cid not in found]
            for i, row in zip(todo, embed([embed_texts[i] for i in todo])):
                found[batch_ids[i]] = row
            matrix = np.asarray([found[cid] for cid in batch_ids], dtype=np.float32)
            vec.append(matrix)
            owners = [current[n.metadata["paper_id"]] for n in batch]
            collection.upsert(
                ids=batch_ids,
                embeddings=matrix,
                documents=[n.get_content() for n in batch],
                metadatas=[with_record(settings, store_metadata(n, p), p) for n, p in zip(batch, owners)],
            )
            words.add(batch_ids, [n.metadata.get("year") for n in batch], embed_texts)
            last = current.pop(batch[-1].metadata["paper_id"])  # it may have chunks in the next batch
            current.clear()  # the batch's papers are written
            current[last.paper_id] = last
            done.chunks += len(batch)
            done.embedded += len(todo)
            done.dim = done.dim or matrix.shape[1]
            bar.update(sum(1 for n in batch if n.metadata["chunk"] == 0))
            bar.set_postfix(chunks=done.chunks, embedded=done.embedded, refresh=False)
    done.embed_calls = embed.calls


def keyword_dir(gen_dir: Path) -> Path:
    return gen_dir / "bm25"
