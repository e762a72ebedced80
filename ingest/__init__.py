"""Corpus ingest: parse, repair, filter, dedupe, chunk, embed, store (Chroma + BM25)."""

from common import offline as _offline  # noqa: F401
