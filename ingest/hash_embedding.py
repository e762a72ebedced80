"""A tiny deterministic embedder for tests of everything that is not embedding quality."""

from __future__ import annotations

from llama_index.core.base.embeddings.base import BaseEmbedding

from ingest.hashing import hash_vector


class HashEmbedding(BaseEmbedding):
    """Hashed bag-of-words vectors: deterministic, instant, no model. For tests, not for real use."""

    dim: int = 256

    def _vector(self, text: str) -> list[float]:
        return hash_vector(text, self.dim)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)
