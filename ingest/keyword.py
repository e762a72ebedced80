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
from typing import Iterable, Iterator

import numpy as np

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
IDS_FILE = "chunk_ids.npy"  # ASCII chunk ids as one fixed-width bytes array (no Python object per chunk)
YEARS_FILE = "chunk_years.npy"
TOKENS_FILE, OFFSETS_FILE, VOCAB_FILE = "chunk_tokens.npy", "chunk_token_offsets.npy", "vocab.json"
TFS_FILE, LENGTHS_FILE = "chunk_token_counts.npy", "chunk_lengths.npy"  # per chunk: its distinct tokens' counts, its length
NO_YEAR = 0


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


STEP = 1 << 20  # matrix entries scored per step
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


def term_counts(flat: np.ndarray, lengths: np.ndarray, n_vocab: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Documents given as one flat array of token ids and their lengths, as each document's distinct token
    ids (ascending), their counts, and the number of distinct tokens per document."""
    doc = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    key, tf = np.unique(doc * max(n_vocab, 1) + flat.astype(np.int64), return_counts=True)
    which, token = np.divmod(key, max(n_vocab, 1))
    return token.astype(np.int32), tf.astype(np.int32), np.bincount(which, minlength=len(lengths))


def bm25_matrix(tokens: np.ndarray, tfs: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
                n_vocab: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bm25s' score matrix (CSC: data, indices, indptr) from each document's distinct tokens and counts
    (``tokens[offsets[d]:offsets[d + 1]]``) and its length, computed with array operations instead of
    bm25s' per-document Python loops (about a second instead of ten at 100k chunks); the same numbers as
    ``bm25s.BM25().index`` (a test checks)."""
    import scipy.sparse as sp

    n_docs = len(lengths)
    df = np.bincount(tokens, minlength=n_vocab)
    values, inverse = np.unique(df, return_inverse=True)  # idf as bm25s computes it (math.log), once per distinct df
    idf = np.array([math.log(1 + (n_docs - v + 0.5) / (v + 0.5)) if v else 0.0 for v in values.tolist()],
                   dtype=np.float32)[inverse]
    norm = K1 * ((1 - B) + B * lengths / (lengths.mean() if n_docs else 1.0))  # per document, as bm25s has it
    data = np.empty(len(tokens), dtype=np.float32)
    for start in range(0, len(tokens), STEP):  # a slice at a time: temporaries stay small as the corpus grows
        at = np.arange(start, min(start + STEP, len(tokens)))
        row = np.searchsorted(offsets, at, side="right") - 1
        tf = tfs[at].astype(np.float64)
        data[at] = idf[tokens[at]] * (tf / (norm[row] + tf))
    csc = sp.csr_matrix((data, tokens, offsets), shape=(n_docs, n_vocab)).tocsc()  # rows ascending per column
    return csc.data, csc.indices.astype(np.int32, copy=False), csc.indptr.astype(np.int64, copy=False)


class KeywordWriter:
    """Builds a generation's keyword index a batch at a time: each batch of chunk texts is tokenised as it
    is written (no list of every text is kept) into per-chunk term counts, an update first carries the
    unchanged chunks' stored counts over from the live index, and ``save`` computes the BM25 matrix."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.id_parts: list[np.ndarray] = []  # the chunk ids, as fixed-width bytes arrays (one per carry or batch)
        self.count = 0  # chunks so far
        self.parts: dict[str, list[np.ndarray]] = {"tokens": [], "tfs": [], "nnz": [], "lengths": [], "years": []}

    def _append(self, **arrays: np.ndarray) -> None:
        for name, array in arrays.items():
            self.parts[name].append(array)

    def carry(self, old: Path, gone: set[str]) -> np.ndarray:
        """Take over the chunks of the index in ``old`` except those of the papers in ``gone``; returns a flag
        per old chunk, True where it was taken."""
        self.vocab = json.loads((old / VOCAB_FILE).read_text(encoding="utf-8"))
        ids = np.load(old / IDS_FILE)
        keep = ~np.isin(ids.astype("S16"), np.array(sorted(gone), dtype="S16"))  # chunk ids start with their paper's
        nnz = np.diff(np.load(old / OFFSETS_FILE))
        picked = np.repeat(keep, nnz)
        self._append(tokens=np.load(old / TOKENS_FILE)[picked], tfs=np.load(old / TFS_FILE)[picked], nnz=nnz[keep],
                     lengths=np.load(old / LENGTHS_FILE)[keep], years=np.load(old / YEARS_FILE)[keep])
        self._add_ids(ids[keep])
        return keep

    def _add_ids(self, ids: np.ndarray) -> None:
        self.id_parts.append(ids)
        self.count += len(ids)

    def id_batches(self, size: int) -> Iterator[list[str]]:
        """The chunk ids so far, at most ``size`` at a time."""
        for part in self.id_parts:
            for start in range(0, len(part), size):
                yield part[start : start + size].astype(str).tolist()

    def add(self, ids: list[str], years: list[int | None], texts: list[str]) -> None:
        self._add_ids(np.array(ids, dtype="S"))
        self._append(years=np.array([y or NO_YEAR for y in years], dtype=np.int16))
        if not texts:
            return
        docs = tokenize(texts, self.vocab)
        lengths = np.array([len(d) for d in docs], dtype=np.int64)
        flat = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32)
        tokens, tfs, nnz = term_counts(flat, lengths, len(self.vocab))
        self._append(tokens=tokens, tfs=tfs, nnz=nnz, lengths=lengths)

    def save(self, folder: Path) -> None:
        import bm25s

        kinds = {"tokens": np.int32, "tfs": np.int32, "nnz": np.int64, "lengths": np.int64, "years": np.int16}
        tokens, tfs, nnz, lengths, years = (np.concatenate(self.parts.pop(k)).astype(t, copy=False) if self.parts[k]
                                            else np.zeros(0, dtype=t) for k, t in kinds.items())
        offsets = np.concatenate([[0], np.cumsum(nnz)]).astype(np.int64)
        data, indices, indptr = bm25_matrix(tokens, tfs, offsets, lengths, len(self.vocab))
        model = bm25s.BM25(k1=K1, b=B)
        model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": self.count}
        model.nonoccurrence_array = None  # set by bm25s.index for BM25L/BM25+ only
        model.vocab_dict = {**self.vocab, **({} if "" in self.vocab else {"": len(self.vocab)})}  # as bm25s adds it
        folder.mkdir(parents=True, exist_ok=True)
        model.save(str(folder))
        np.save(folder / IDS_FILE, np.concatenate(self.id_parts) if self.id_parts else np.zeros(0, dtype="S1"))
        (folder / VOCAB_FILE).write_text(json.dumps(self.vocab), encoding="utf-8")
        np.save(folder / YEARS_FILE, years)
        np.save(folder / OFFSETS_FILE, offsets)
        np.save(folder / TOKENS_FILE, tokens)
        np.save(folder / TFS_FILE, tfs)
        np.save(folder / LENGTHS_FILE, lengths)


def build(folder: Path, ids: list[str], years: list[int | None], texts: list[str]) -> None:
    """Index the chunks ``ids`` (their ``texts`` as the embedder saw them) and save it into ``folder``."""
    writer = KeywordWriter()
    writer.add(ids, years, texts)
    writer.save(folder)


class KeywordIndex:
    """A loaded keyword index: ``search`` gives (chunk id, score) pairs, best first."""

    def __init__(self, folder: Path) -> None:
        import bm25s

        self.model = bm25s.BM25.load(str(folder), mmap=True)
        self.ids: list[str] = np.load(folder / IDS_FILE).astype(str).tolist()
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
