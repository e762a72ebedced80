"""The keyword (BM25) side of the index: bm25s over each chunk's embed text, stored without the corpus.

The folder holds the bm25s model (memory-mapped by readers), the chunk ids in index order and one small
array per filterable field (the chunk's year), so a reader answers keyword queries and filters them with
a mask without holding any chunk as a Python object; the text of the hits comes from Chroma on demand.
Tokenisation is llama-index's ``BM25Retriever``'s (English stopwords and Snowball stemming for the corpus,
stemming only for the query), so scores are the ones the retrieval settings were calibrated on.
"""

from __future__ import annotations

import json
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


def build(folder: Path, ids: list[str], years: list[int | None], texts: list[str],
          carried: tuple[Path, list[int]] | None = None, progress: bool = False) -> None:
    """Index the chunks ``ids`` and save everything a reader needs into ``folder``.

    The first chunks may be carried over from another keyword index (``carried``: its folder and their
    positions in it): their stored tokens are reused, so an update tokenises only the ``texts`` of the
    chunks after them. The tokens are kept (ids into ``vocab.json``) for the next update."""
    import bm25s

    vocab: dict[str, int] = {}
    docs: list[np.ndarray] = []
    if carried:
        old, positions = carried
        vocab = json.loads((old / VOCAB_FILE).read_text(encoding="utf-8"))
        flat, offsets = np.load(old / TOKENS_FILE, mmap_mode="r"), np.load(old / OFFSETS_FILE)
        docs = [np.asarray(flat[offsets[i] : offsets[i + 1]]) for i in positions]
    if texts:
        fresh = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), token_pattern=TOKEN_PATTERN,
                               return_ids=True, show_progress=progress)
        # the new texts' token ids, renumbered into the carried vocabulary (new tokens appended)
        remap = np.zeros(max(fresh.vocab.values(), default=-1) + 1, dtype=np.int32)
        for token, fid in fresh.vocab.items():
            remap[fid] = vocab.setdefault(token, len(vocab))
        docs.extend(remap[np.asarray(doc, dtype=np.int64)] for doc in fresh.ids)
    model = bm25s.BM25()
    model.index(([d.tolist() for d in docs], vocab), show_progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(str(folder))
    (folder / IDS_FILE).write_text(json.dumps(ids), encoding="utf-8")
    (folder / VOCAB_FILE).write_text(json.dumps(vocab), encoding="utf-8")
    np.save(folder / YEARS_FILE, np.array([y or NO_YEAR for y in years], dtype=np.int16))
    lengths = np.array([len(d) for d in docs], dtype=np.int64)
    np.save(folder / OFFSETS_FILE, np.concatenate([[0], np.cumsum(lengths)]))
    np.save(folder / TOKENS_FILE, np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32))


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
