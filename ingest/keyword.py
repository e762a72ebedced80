"""The keyword (BM25) side of the index: bm25s over each chunk's embed text, stored without the corpus.

The folder holds the bm25s model (memory-mapped by readers), the chunk ids in index order and one small
array per filterable field (the chunk's year), so a reader answers keyword queries and filters them with
a mask without holding any chunk as a Python object; the text of the hits comes from Chroma on demand.
Tokenisation is llama-index's ``BM25Retriever``'s (English stopwords and Snowball stemming for the corpus,
stemming only for the query), so scores are the ones the retrieval settings were calibrated on.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Iterable

import numpy as np

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
IDS_FILE = "chunk_ids.json"
YEARS_FILE = "chunk_years.npy"
TOKENS_FILE, OFFSETS_FILE, VOCAB_FILE = "chunk_tokens.npy", "chunk_token_offsets.npy", "vocab.json"
NO_YEAR = 0


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


K1, B = 1.5, 0.75  # bm25s' defaults (method "lucene"), which the retrieval settings were calibrated on


def tokenize(texts: list[str], vocab: dict[str, int]) -> list[np.ndarray]:
    """Each text's token ids (English stopwords dropped, Snowball-stemmed), numbered in ``vocab`` (new
    tokens are appended to it)."""
    import bm25s

    fresh = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), token_pattern=TOKEN_PATTERN,
                           return_ids=True, show_progress=False)
    remap = np.zeros(max(fresh.vocab.values(), default=-1) + 1, dtype=np.int32)
    for token, fid in fresh.vocab.items():
        remap[fid] = vocab.setdefault(token, len(vocab))
    return [remap[np.asarray(doc, dtype=np.int64)] for doc in fresh.ids]


def bm25_matrix(tokens: np.ndarray, offsets: np.ndarray, n_vocab: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bm25s' score matrix (CSC: data, indices, indptr) for documents given as one flat array of token ids
    and their offsets, computed with array operations instead of bm25s' per-document Python loops (seconds
    instead of tens of seconds at 100k chunks); the same numbers as ``bm25s.BM25().index`` (a test checks)."""
    n_docs = len(offsets) - 1
    lengths = np.diff(offsets)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    key, tf = np.unique(tokens.astype(np.int64) * max(n_docs, 1) + doc, return_counts=True)  # by token, then doc
    col, row = np.divmod(key, max(n_docs, 1))
    df = np.bincount(col, minlength=n_vocab)
    values, inverse = np.unique(df, return_inverse=True)  # idf as bm25s computes it (math.log), once per distinct df
    idf = np.array([math.log(1 + (n_docs - v + 0.5) / (v + 0.5)) if v else 0.0 for v in values.tolist()],
                   dtype=np.float32)[inverse]
    avg = lengths.mean() if n_docs else 0.0
    tf64 = tf.astype(np.float32).astype(np.float64)
    tfc = tf64 / (K1 * ((1 - B) + B * lengths[row] / avg) + tf64)
    data = (idf[col] * tfc).astype(np.float32)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return data, row.astype(np.int32), indptr


class KeywordWriter:
    """Builds a generation's keyword index a batch at a time: each batch of chunk texts is tokenised as it
    is written (no list of every text is kept), an update first carries the unchanged chunks' stored
    tokens over from the live index, and ``save`` computes the BM25 matrix from the token arrays."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.ids: list[str] = []
        self.years: list[int] = []
        self.parts: list[np.ndarray] = []  # token ids, flat, a part per carry or batch
        self.lengths: list[np.ndarray] = []

    def carry(self, old: Path, keep: np.ndarray) -> None:
        """Take over the chunks of the index in ``old`` where ``keep`` (a flag per chunk) is True."""
        self.vocab = json.loads((old / VOCAB_FILE).read_text(encoding="utf-8"))
        ids, years = read_chunks(old)
        offsets = np.load(old / OFFSETS_FILE)
        flat = np.load(old / TOKENS_FILE, mmap_mode="r")
        lengths = np.diff(offsets)
        self.parts.append(np.asarray(flat)[np.repeat(keep, lengths)].astype(np.int32))
        self.lengths.append(lengths[keep])
        self.ids += [cid for cid, k in zip(ids, keep.tolist()) if k]
        self.years += np.asarray(years)[keep].tolist()

    def add(self, ids: list[str], years: list[int | None], texts: list[str]) -> None:
        docs = tokenize(texts, self.vocab) if texts else []
        self.ids += ids
        self.years += [y or NO_YEAR for y in years]
        if docs:
            self.parts.append(np.concatenate(docs).astype(np.int32))
            self.lengths.append(np.array([len(d) for d in docs], dtype=np.int64))

    def save(self, folder: Path) -> None:
        import bm25s

        tokens = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int32)
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        data, indices, indptr = bm25_matrix(tokens, offsets, len(self.vocab))
        model = bm25s.BM25(k1=K1, b=B)
        model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": len(self.ids)}
        model.nonoccurrence_array = None  # set by bm25s.index for BM25L/BM25+ only
        model.vocab_dict = {**self.vocab, **({} if "" in self.vocab else {"": len(self.vocab)})}  # as bm25s adds it
        folder.mkdir(parents=True, exist_ok=True)
        model.save(str(folder))
        (folder / IDS_FILE).write_text(json.dumps(self.ids), encoding="utf-8")
        (folder / VOCAB_FILE).write_text(json.dumps(self.vocab), encoding="utf-8")
        np.save(folder / YEARS_FILE, np.array(self.years, dtype=np.int16))
        np.save(folder / OFFSETS_FILE, offsets)
        np.save(folder / TOKENS_FILE, tokens)


def build(folder: Path, ids: list[str], years: list[int | None], texts: list[str]) -> None:
    """Index the chunks ``ids`` (their ``texts`` as the embedder saw them) and save it into ``folder``."""
    writer = KeywordWriter()
    writer.add(ids, years, texts)
    writer.save(folder)


def read_chunks(folder: Path) -> tuple[list[str], list[int]]:
    """The chunk ids and years an index was built over, in index order (an update carries them over)."""
    return json.loads((folder / IDS_FILE).read_text(encoding="utf-8")), np.load(folder / YEARS_FILE).tolist()


class KeywordIndex:
    """A loaded keyword index: ``search`` gives (chunk id, score) pairs, best first."""

    def __init__(self, folder: Path) -> None:
        import bm25s

        self.model = bm25s.BM25.load(str(folder), mmap=True)
        self.ids: list[str] = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
        self.years = np.load(folder / YEARS_FILE)
        self.papers = np.array([i[:16] for i in self.ids])  # chunk ids start with their paper id
        self._stem = _stemmer()
        self._lock = threading.Lock()  # the stemmer is not thread-safe

    def __len__(self) -> int:
        return len(self.ids)

    def year_values(self) -> list[int]:
        """The distinct years of the chunks, ascending."""
        if not hasattr(self, "_year_values"):
            self._year_values = [int(y) for y in np.unique(self.years) if y != NO_YEAR]
        return self._year_values

    def mask(self, year_from: int | None = None, year_to: int | None = None,
             paper_ids: set[str] | frozenset[str] | None = None, papers: np.ndarray | None = None) -> np.ndarray | None:
        """1.0 for the chunks that pass the filters, 0.0 for the rest; None when nothing is filtered
        (``papers``: a flag per paper row, see ``paper_flags``)."""
        if paper_ids is not None:
            papers = self.paper_flags(paper_ids) if papers is None else papers & self.paper_flags(paper_ids)
        if year_from is None and year_to is None and papers is None:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if year_from is not None:
            keep &= self.years >= year_from
        if year_to is not None:
            keep &= (self.years <= year_to) & (self.years != NO_YEAR)
        if papers is not None:
            keep &= papers[self._chunk_paper]
        return keep.astype(np.float32)

    def paper_rows(self) -> dict[str, int]:
        """Each paper's row (papers numbered in chunk order), built on first use; two threads building it agree."""
        if not hasattr(self, "_chunk_paper"):
            rows: dict[str, int] = {}
            chunk_paper = np.fromiter((rows.setdefault(i[:16], len(rows)) for i in self.ids), dtype=np.int64,
                                      count=len(self.ids))
            self._paper_rows, self._chunk_paper = rows, chunk_paper
        return self._paper_rows

    def paper_flags(self, paper_ids: Iterable[str]) -> np.ndarray:
        """True at the rows of these papers (a lookup in a per-paper array, no sort of the chunk ids)."""
        rows = self.paper_rows()
        wanted = np.zeros(len(rows) + 1, dtype=bool)
        wanted[[rows.get(pid, len(rows)) for pid in paper_ids]] = True
        return wanted[:-1]

    def rows_of(self, paper_ids: Iterable[str]) -> np.ndarray:
        """The positions of these papers' chunks, ascending."""
        return np.flatnonzero(self.paper_flags(paper_ids)[self._chunk_paper])

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        import bm25s

        k = min(k, len(self.ids))
        if k < 1 or (mask is not None and not mask.any()):
            return []
        with self._lock:
            tokens = bm25s.tokenize(query, stemmer=self._stem, token_pattern=TOKEN_PATTERN, show_progress=False)
        docs, scores = self.model.retrieve(tokens, k=k, show_progress=False, weight_mask=mask, n_threads=1)
        out = []
        for idx, score in zip(docs[0], scores[0]):
            if mask is not None and not mask[int(idx)]:
                continue
            out.append((self.ids[int(idx)], float(score)))
        return out
