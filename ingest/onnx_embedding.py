"""The ONNX MiniLM model (``ingest.onnx_model``) as a llama-index ``BaseEmbedding``, for ingest and summaries."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ingest.onnx_model import OnnxMiniLM


class OnnxMiniLMEmbedding(BaseEmbedding):
    """A llama-index embedder over an already loaded ``OnnxMiniLM`` (one ONNX session per process)."""

    _model: Any = PrivateAttr()

    def __init__(self, model: OnnxMiniLM, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model = model

    @classmethod
    def class_name(cls) -> str:
        return "OnnxMiniLMEmbedding"

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._model.encode(texts)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._model.encode([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._model.encode([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)
