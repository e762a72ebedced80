"""Hashed bag-of-words vectors (the ``hash`` embedder): deterministic, instant, no model; for tests and
benchmarks of everything that is not embedding quality. No llama-index here, so a reader of a hash index
embeds its questions without importing it (``HashEncoder``), as a reader of the ONNX model does."""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache

import numpy as np

_TOKEN = re.compile(r"\w\w+")


@lru_cache(maxsize=1 << 18)
def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def hash_vector(text: str, dim: int) -> list[float]:
    """Each word of two or more characters adds +-1 at a position given by its hash; unit length."""
    hashes = np.fromiter(map(_token_hash, _TOKEN.findall(text.lower())), dtype=np.uint64)
    signs = np.where((hashes >> np.uint64(32)) & np.uint64(1), 1.0, -1.0)
    vec = np.bincount((hashes % np.uint64(dim)).astype(np.int64), weights=signs, minlength=dim)
    norm = math.sqrt(float(vec @ vec)) or 1.0
    return (vec / norm).tolist()


class HashEncoder:
    """The hash embedder's query side: ``get_query_embedding(text)``, like ``ingest.onnx_model.OnnxMiniLM``."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def get_query_embedding(self, text: str) -> list[float]:
        return hash_vector(text, self.dim)
