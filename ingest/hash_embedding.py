"""A tiny deterministic embedder for tests of everything that is not embedding quality."""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache

import numpy as np

from llama_index.core.base.embeddings.base import BaseEmbedding

_TOKEN = re.compile(r"\w\w+")


@lru_cache(maxsize=1 << 18)
def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


class HashEmbedding(BaseEmbedding):
    """Hashed bag-of-words vectors: deterministic, instant, no model. For tests, not for real use."""

    dim: int = 256

    def _vector(self, text: str) -> list[float]:
        hashes = np.fromiter(map(_token_hash, _TOKEN.findall(text.lower())), dtype=np.uint64)
        signs = np.where((hashes >> np.uint64(32)) & np.uint64(1), 1.0, -1.0)
        vec = np.bincount((hashes % np.uint64(self.dim)).astype(np.int64), weights=signs, minlength=self.dim)
        norm = math.sqrt(float(vec @ vec)) or 1.0
        return (vec / norm).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)
