"""A tiny deterministic embedder for tests of everything that is not embedding quality."""

from __future__ import annotations

import hashlib
import math
import re
from functools import lru_cache

from llama_index.core.base.embeddings.base import BaseEmbedding

_TOKEN = re.compile(r"\w\w+")


@lru_cache(maxsize=1 << 18)
def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


class HashEmbedding(BaseEmbedding):
    """Hashed bag-of-words vectors: deterministic, instant, no model. For tests, not for real use."""

    dim: int = 256

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for tok in _TOKEN.findall(text.lower()):
            h = _token_hash(tok)
            vec[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)
