"""Token counting with tiktoken's cl100k_base: chunk budgets and prompt packing share one encoding.

Kept apart from ``ingest.chunk`` (which needs llama-index's node parser) so that readers counting tokens do
not import llama-index; the encoding itself loads on first use.
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text))
