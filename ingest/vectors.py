"""A generation's chunk vectors as one flat file (``vectors.f32``), in the keyword index's chunk order.

Chroma's HNSW search under a ``where`` grows with the collection (near a second per query at 100k chunks
in the embedded store), while a filter usually leaves a few thousand chunks: the reader scores those
exactly, one matrix product over the rows the keyword mask keeps (``assistant.engines.DenseSearch``).
Vectors are stored unit-length in float32, so a dot product is the cosine Chroma's distance is made of.
An update copies the unchanged rows and appends the new ones, like the keyword index. A generation
without the file (or a reader of another store) filters through Chroma's ``where`` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

FILE = "vectors.f32"
COPY_ROWS = 8192  # rows copied from the previous generation per step (bounded memory)


def unit_rows(vectors: Any) -> np.ndarray:
    """Rows scaled to unit length, float32 (zero rows stay zero)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class VectorWriter:
    """Appends rows to a generation's file; ``ok`` turns False when rows cannot be carried over (the file is
    then removed and readers use Chroma's ``where``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: BinaryIO | None = path.open("wb")
        self.rows = 0

    @property
    def ok(self) -> bool:
        return self.fh is not None

    def append(self, vectors: Any) -> None:
        if self.fh is not None and len(vectors):
            self.fh.write(unit_rows(vectors).tobytes())
            self.rows += len(vectors)

    def carry(self, old: Path, dim: int, positions: np.ndarray) -> None:
        """Copy the rows at ``positions`` of a previous generation's file."""
        if self.fh is None:
            return
        if not dim or not old.is_file() or old.stat().st_size % (4 * dim):
            self.abandon()
            return
        matrix = np.memmap(old, dtype=np.float32, mode="r").reshape(-1, dim)
        picked = np.asarray(positions, dtype=np.int64)
        for start in range(0, len(picked), COPY_ROWS):
            self.fh.write(np.ascontiguousarray(matrix[picked[start : start + COPY_ROWS]]).tobytes())
        self.rows += len(picked)

    def abandon(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
        self.path.unlink(missing_ok=True)

    def close(self, expected_rows: int) -> None:
        if self.fh is None:
            return
        self.fh.close()
        self.fh = None
        if self.rows != expected_rows:
            self.path.unlink(missing_ok=True)


def load(gen_dir: Path, dim: int, rows: int) -> np.ndarray | None:
    """The generation's vectors memory-mapped (rows x dim), or None when it has none that fit."""
    path = gen_dir / FILE
    if not dim or not path.is_file() or path.stat().st_size != 4 * dim * rows or rows == 0:
        return None
    return np.memmap(path, dtype=np.float32, mode="r").reshape(rows, dim)
