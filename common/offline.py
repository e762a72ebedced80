"""Make every library stay offline and quiet: nothing may be fetched from a hub, nothing printed by others.

tiktoken downloads its encodings unless ``TIKTOKEN_CACHE_DIR`` points at a cache; llama-index-core ships
one. Hugging Face libraries must load the packaged model and never call the hub. Imported first by the
packages that touch these libraries; respects values a user has already set.

Quiet: other libraries' progress bars (bm25s' "Split strings" / "Finding newlines for mmindex",
transformers' "Loading weights") are tqdm bars; ``TQDM_DISABLE`` turns tqdm's default to off (read when
tqdm is first imported), while our own bars pass ``disable=`` explicitly and still show on stderr.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def _llama_index_tiktoken_cache() -> str | None:
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return str(path) if path.is_dir() else None


def go_offline() -> None:
    cache = _llama_index_tiktoken_cache()
    if cache:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


go_offline()
