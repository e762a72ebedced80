"""Hybrid retrieval: Chroma (dense) and BM25 (keyword) fused as llama-index fuses them, deduplicated to papers.

The fusion mode, weights and candidate depth are settings calibrated on the eval set (see
``evals/calibrate.py`` and the README), not guesses. Author questions are answered through the author
field: a full author name in the question pins that author's papers to the top. Filters (year range,
author substring, source file) become a Chroma ``where`` on scalar metadata (year as an int, the casefolded
author names and source files as lists) and a mask on the keyword side, never an id list of the corpus.
The searches and their fusion live in ``assistant.engines`` (no llama-index import on the query path).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from assistant.engines import DenseSearch, KeywordSearch, Scored, fuse
from common.errors import PapersError
from common.settings import RetrievalSettings, Settings
from ingest import paper_table, vectors
from ingest.embed import embedder_id, make_embedder, query_encoder
from ingest.records import Paper
from ingest.store import open_index

MODES = ("hybrid", "dense", "bm25")
QUERY_CACHE = 64  # question vectors kept per loaded index: more than the requests a server runs at once


@dataclass
class Filters:
    """Restrict retrieval to papers whose metadata matches; None means no restriction."""

    year_from: int | None = None
    year_to: int | None = None
    author: str | None = None
    source: str | None = None
    paper_ids: frozenset[str] | None = None  # e.g. "those" in a follow-up: the previous answer's papers

    def active(self) -> bool:
        return any(v is not None for v in (self.year_from, self.year_to, self.author, self.source, self.paper_ids))


@dataclass
class PaperHit:
    """One retrieved paper with the evidence that ranked it."""

    paper: Paper
    paper_id: str
    score: float
    dense: float | None  # cosine similarity of the paper's best chunk, when the dense retriever saw it
    bm25: float | None
    author_match: bool = False
    texts: list[str] = field(default_factory=list)


@dataclass
class RetrievalResult:
    hits: list[PaperHit]
    mode: str
    best_dense: float  # relevance signal for abstention
    author_matched: bool


class _NoMatch(Exception):
    """A filter no paper can pass (e.g. an author nobody in the index is called)."""


class Retriever:
    """Loads the index once (vectors, BM25, records, embedder) and answers many queries, from many threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Holding the open index keeps its generation leased (on disk) for as long as this retriever lives.
        self.index = index = open_index(settings, expected_embedder=embedder_id(settings))
        self.manifest = index.manifest  # the generation this retriever reads, for as long as it lives
        self.papers = paper_table.PaperTable(index.generation_dir / paper_table.FILE)  # records fetched on demand
        self.collection = index.collection
        self.encoder = query_encoder(settings)  # the question's embedder; for ONNX no llama-index import
        self._embed_model: Any = None
        self.keywords = KeywordSearch(index.generation_dir / "bm25", index.collection)
        self.n_chunks = len(self.keywords)
        matrix = vectors.load(index.generation_dir, self.manifest.get("embedding_dim", 0), self.n_chunks)
        self.dense = DenseSearch(index.collection, matrix, self.keywords.index.ids)
        self._queries: OrderedDict[str, list[float]] = OrderedDict()  # recent questions' vectors, newest last
        self._queries_lock = threading.Lock()
        self._authors: paper_table.AuthorIndex | None = None

    @property
    def embed_model(self) -> Any:
        """The index's embedder as a llama-index ``BaseEmbedding`` (summaries' theme vectors, eval baselines),
        built on first use around the already loaded model."""
        if self._embed_model is None:
            self._embed_model = make_embedder(self.settings, encoder=self.encoder)
        return self._embed_model

    def keyword_nodes(self, text: str, depth: int) -> list[Scored]:
        """BM25's ``depth`` best chunks for ``text``."""
        return self.keywords.search(text, min(depth, self.n_chunks))

    def query_embedding(self, text: str) -> list[float]:
        """The query's vector, computed once per question (retrievers, abstention and summaries share it).

        The last ``QUERY_CACHE`` questions are kept, so requests served at the same time in other threads
        do not evict each other's vector between retrieval and the later steps that need it again."""
        with self._queries_lock:
            vector = self._queries.get(text)
            if vector is not None:
                self._queries.move_to_end(text)
                return vector
        vector = self.encoder.get_query_embedding(text)
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def authors_in(self, question: str) -> set[str]:
        """Papers by any author whose full name appears in the question (looked up in the name index)."""
        return self.papers.full_names_in(question)

    def passes(self, paper_id: str, filters: Filters | None) -> bool:
        """Whether one paper passes the filters (checked for the few papers an author question pins)."""
        if filters is None or not filters.active():
            return True
        p = self.papers[paper_id]
        return not (
            (filters.paper_ids is not None and paper_id not in filters.paper_ids)
            or (filters.year_from is not None and (p.year is None or p.year < filters.year_from))
            or (filters.year_to is not None and (p.year is None or p.year > filters.year_to))
            or (filters.author and not any(filters.author.casefold() in a.casefold() for a in p.authors))
            or (filters.source and not any(filters.source.casefold() in s.file.casefold() for s in p.sources))
        )

    def _where(self, filters: Filters) -> tuple[dict[str, Any] | None, Any]:
        """The Chroma ``where`` for the filters, and a flag per paper row the keyword mask keeps (None: any)."""
        clauses: list[dict[str, Any]] = []
        index = self.keywords.index
        keep = None if filters.paper_ids is None else index.paper_flags(filters.paper_ids)
        if filters.year_from is not None or filters.year_to is not None:
            # the years present, as an $in: Chroma's embedded store answers an equality match several
            # times faster than a $gte/$lte range
            years = [y for y in index.year_values()
                     if (filters.year_from is None or y >= filters.year_from) and (filters.year_to is None or y <= filters.year_to)]
            if not years:
                raise _NoMatch
            clauses.append({"year": {"$eq": years[0]}} if len(years) == 1 else {"year": {"$in": years}})
        for field_name, wanted in (("author_keys", filters.author), ("source_files", filters.source)):
            if not wanted:
                continue
            if field_name == "author_keys":
                authors = self._author_index()
                numbers = authors.names_containing(wanted)
                flags = authors.papers(numbers)
                hits = [authors.names[i] for i in numbers]
            else:
                hits, pids = self.papers.by_source_containing(wanted)
                flags = index.paper_flags(pids)
            if not hits:
                raise _NoMatch
            keep = flags if keep is None else keep & flags
            if self.dense.matrix is None:  # Chroma filters only without the vectors file: no list of thousands of names
                terms = [{field_name: {"$contains": h}} for h in hits]
                clauses.append(terms[0] if len(terms) == 1 else {"$or": terms})
        if keep is not None and not keep.any():
            raise _NoMatch
        if filters.paper_ids is not None:  # a follow-up's few papers (an id list of a corpus is slow in Chroma)
            rows = index.paper_rows()
            clauses.append({"paper_id": {"$in": sorted(p for p in filters.paper_ids if p in rows and keep[rows[p]])}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        return where, keep

    def _author_index(self) -> paper_table.AuthorIndex:
        """The author filter's in-memory index, built on the first author filter (two threads building it agree)."""
        if self._authors is None:
            self._authors = paper_table.AuthorIndex(self.papers, self.keywords.index.paper_rows())
        return self._authors

    def retrieve(self, question: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None,
                 params: RetrievalSettings | None = None) -> RetrievalResult:
        """``params`` overrides the configured retrieval settings for this call (used by calibration)."""
        cfg = params or self.settings.retrieval
        if k is not None and k < 1:  # 0 must not silently mean "the default"; interfaces check the upper bound
            raise PapersError(f"k={k}: ask for at least 1 paper")
        k = k or cfg.top_k
        mode = mode or cfg.mode
        if mode not in MODES:
            raise PapersError(f"unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}")
        where, keep, mask = None, None, None
        if filters is not None and filters.active():
            try:
                where, keep = self._where(filters)
            except _NoMatch:
                return RetrievalResult(hits=[], mode=mode, best_dense=0.0, author_matched=False)
            mask = self.keywords.index.mask(filters.year_from, filters.year_to, papers=keep)
        depth = min(self.n_chunks, cfg.candidate_depth)
        dense: list[Scored] = []
        bm25: list[Scored] = []
        if mode != "bm25":
            rows = None if mask is None else mask.nonzero()[0]
            dense = self.dense.search(self.query_embedding(question), depth, where, rows)
        if mode != "dense":
            bm25 = self.keywords.search(question, depth, mask)
        if mode == "hybrid":
            nodes = fuse([dense, bm25], cfg.fusion, [cfg.dense_weight, 1.0 - cfg.dense_weight], depth)
        else:
            nodes = dense or bm25
        hits = self._to_papers(nodes, {c.node_id: c.score for c in dense}, {c.node_id: c.score for c in bm25})
        matched = {pid for pid in self.authors_in(question) if self.passes(pid, filters)}
        if matched:  # "what did X co-author?": X's papers are the answer, whatever else scored well
            hits = [h for h in self._pin_authors(hits, matched) if h.author_match]
        self.dense_scores(question, hits[:k])  # abstention needs the same relevance signal in every mode
        best_dense = max((h.dense for h in hits[:k] if h.dense is not None), default=0.0)
        return RetrievalResult(hits=hits[:k], mode=mode, best_dense=best_dense, author_matched=bool(matched))

    def retrieve_wide(self, question: str, k: int, mode: str | None = None, filters: Filters | None = None) -> RetrievalResult:
        """Retrieve ``k`` papers with each retriever looking ``2k`` chunks deep (topic sets, summaries)."""
        cfg = self.settings.retrieval
        params = cfg.model_copy(update={"candidate_depth": max(cfg.candidate_depth, 2 * k)})
        return self.retrieve(question, k=k, mode=mode, filters=filters, params=params)

    def paper_vectors(self, paper_ids: list[str]) -> dict[str, list[list[float]]]:
        """Each paper's stored chunk embeddings, straight from Chroma (no re-embedding)."""
        got = self.collection.get(where={"paper_id": {"$in": list(paper_ids)}}, include=["embeddings", "metadatas"])
        out: dict[str, list[list[float]]] = {}
        for vec, meta in zip(got["embeddings"], got["metadatas"]):
            out.setdefault(meta["paper_id"], []).append([float(v) for v in vec])
        return out

    def dense_scores(self, question: str, hits: list[PaperHit]) -> None:
        """Fill in the cosine similarity of hits the dense retriever did not return, from stored vectors
        (``embedding``: the question's, when already computed)."""
        missing = [h for h in hits if h.dense is None]
        if not missing:
            return
        q = self.query_embedding(question)
        if self.dense.matrix is not None:  # the generation's vectors file: the papers' rows, scored at once
            pids = [h.paper_id for h in missing]
            rows = self.keywords.index.rows_of(pids)
            found: dict[str, float] = {}
            for row, sim in zip(rows.tolist(), self.dense.cosines(q, rows).tolist()):
                pid = str(self.keywords.index.papers[row])
                found[pid] = max(found.get(pid, -1.0), sim)
            for h in missing:
                h.dense = found.get(h.paper_id)
            return
        qn = math.sqrt(sum(x * x for x in q)) or 1.0
        for pid, vecs in self.paper_vectors([h.paper_id for h in missing]).items():
            best = max(sum(a * b for a, b in zip(q, v)) / (qn * (math.sqrt(sum(x * x for x in v)) or 1.0)) for v in vecs)
            for h in missing:
                if h.paper_id == pid:
                    h.dense = best

    def _to_papers(self, nodes: list[Scored], dense_raw: dict[str, float], bm25_raw: dict[str, float]) -> list[PaperHit]:
        hits: dict[str, PaperHit] = {}
        for n in nodes:
            pid = n.metadata.get("paper_id")
            if pid not in self.papers:
                continue
            raw_dense = dense_raw.get(n.node_id)
            cosine = 1.0 + math.log(raw_dense) if raw_dense else None  # Chroma reports exp(-cosine distance)
            hit = hits.get(pid)
            if hit is None:
                hits[pid] = PaperHit(paper=self.papers[pid], paper_id=pid, score=float(n.score or 0.0), dense=cosine,
                                     bm25=bm25_raw.get(n.node_id), texts=[n.text])
            else:
                hit.texts.append(n.text)
                if cosine is not None and (hit.dense is None or cosine > hit.dense):
                    hit.dense = cosine
        return sorted(hits.values(), key=lambda h: h.score, reverse=True)

    def _pin_authors(self, hits: list[PaperHit], matched: set[str]) -> list[PaperHit]:
        present = {h.paper_id for h in hits}
        top = max((h.score for h in hits), default=1.0)
        for pid in matched - present:
            hits.append(PaperHit(paper=self.papers[pid], paper_id=pid, score=0.0, dense=None, bm25=None,
                                 texts=[self.papers[pid].abstract]))
        for h in hits:
            if h.paper_id in matched:
                h.author_match = True
                h.score += top + 1.0
        return sorted(hits, key=lambda h: h.score, reverse=True)
