"""``papers doctor``: check an index end to end and say what is wrong and what fixes it.

Every check reads only (a read-only index can be checked), in the order a reader depends on them:
manifest, generation folder, Chroma store, collection contents, keyword index, configured embedder.
A failed check stops the ones that depend on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from common.settings import Settings
from ingest import store
from ingest.embed import embedder_id


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _manifest(settings: Settings, checks: list[Check]) -> dict[str, Any] | None:
    data_dir = settings.index.data_dir
    try:
        manifest = store.read_manifest(data_dir)
    except store.DamagedIndex as exc:
        checks.append(Check("manifest", False, str(exc)))
        return None
    if manifest is None:
        checks.append(Check("manifest", False, f"no index in {data_dir}: run `papers ingest`"))
        return None
    prev = " (manifest.json.prev kept)" if store.read_previous_manifest(data_dir) else ""
    checks.append(Check("manifest", True, f"generation {manifest['generation']}, built {manifest['built_at']}{prev}"))
    return manifest


def _contents(settings: Settings, manifest: dict[str, Any], checks: list[Check]) -> None:
    index = store.open_index(settings)
    records = index.records()
    count = index.collection.count()
    if count < manifest["chunks"]:  # more is fine: chunks of a generation a reader still holds, pruned later
        checks.append(Check("collection", False, f"{manifest['collection']!r} holds {count} chunks, the manifest says "
                                                 f"{manifest['chunks']}; {store.FIX}"))
        return
    papers = {p.get("title") for p in records["papers"]}
    if len(records["papers"]) != manifest.get("papers", len(papers)):
        checks.append(Check("records", False, f"records.json lists {len(records['papers'])} papers, the manifest "
                                              f"{manifest.get('papers')}; {store.FIX}"))
        return
    sample = index.collection.get(limit=1, include=["embeddings"])
    dim = len(sample["embeddings"][0]) if len(sample["embeddings"]) else 0
    if manifest.get("embedding_dim") and dim != manifest["embedding_dim"]:
        checks.append(Check("collection", False, f"vectors have {dim} dimensions, the manifest says "
                                                 f"{manifest['embedding_dim']}; {store.FIX}"))
        return
    checks.append(Check("collection", True, f"{count} chunks of {len(records['papers'])} papers, dimension {dim}"))
    from ingest.keyword import KeywordIndex

    try:
        KeywordIndex(index.generation_dir / "bm25")
    except Exception as exc:  # bm25s raises several types for damaged files
        checks.append(Check("keyword index", False, f"{index.generation_dir / 'bm25'} cannot be loaded "
                                                    f"({type(exc).__name__}); {store.FIX}"))
        return
    checks.append(Check("keyword index", True, f"{index.generation_dir / 'bm25'} loads"))


def diagnose(settings: Settings) -> list[Check]:
    """Run every check; the index is healthy when all of them pass."""
    checks: list[Check] = []
    manifest = _manifest(settings, checks)
    if manifest is None:
        return checks
    problem = store.generation_problem(settings, manifest)
    if problem:
        checks.append(Check("files", False, f"{problem}; {store.FIX}"))
        return checks
    checks.append(Check("files", True, f"{manifest['generation_dir']}/ and the Chroma store are readable"))
    try:
        _contents(settings, manifest, checks)
    except store.DamagedIndex as exc:
        checks.append(Check("collection", False, str(exc)))
    except (OSError, ValueError) as exc:
        checks.append(Check("collection", False, f"the index cannot be read ({exc}); {store.FIX}"))
    configured = embedder_id(settings)
    if manifest["embedder"] != configured:
        checks.append(Check("embedder", False, f"the index was built with {manifest['embedder']}, the configured "
                                               f"embedder is {configured}: run `papers ingest` or set "
                                               "PAPERS_EMBED_BACKEND to match"))
    else:
        checks.append(Check("embedder", True, configured))
    leftovers = sorted(p.name for p in settings.index.data_dir.glob("gen-*") if p.name != manifest["generation_dir"])
    checks.append(Check("disk", True, f"{store.disk_size(settings.index.data_dir) / 1e6:.1f} MB"
                        + (f"; older generations still in use by a reader: {', '.join(leftovers)}" if leftovers else "")))
    return checks
