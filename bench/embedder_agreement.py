"""Benchmark: the default ONNX int8 MiniLM against the fp32 torch MiniLM it replaced, on every corpus chunk.

Run: .venv/bin/python bench/embedder_agreement.py   (needs the torch extra: `bash scripts/setup.sh --with-torch`)
Prints the cosine similarity of the two embeddings of each chunk (min / mean / 1st percentile) and each
backend's model load time and throughput. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import time

import common.offline  # noqa: F401  (offline environment first)
from common.settings import Settings, DEFAULT_CORPUS


def main() -> None:
    import numpy as np
    from llama_index.core.schema import MetadataMode

    from ingest.chunk import chunk_papers
    from ingest.corpus import build_corpus
    from ingest.embed import make_embedder

    settings = Settings()
    nodes = chunk_papers(build_corpus(DEFAULT_CORPUS, progress=False).papers, settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    vectors = {}
    for backend in ("torch", "local"):
        os.environ["PAPERS_EMBED_BACKEND"] = backend
        start = time.perf_counter()
        model = make_embedder(Settings())
        loaded = time.perf_counter()
        vectors[backend] = np.array(model.get_text_embedding_batch(texts))
        done = time.perf_counter()
        print(f"{backend:6s} load {loaded - start:5.2f} s   {len(texts) / (done - loaded):5.1f} chunks/s ({len(texts)} chunks)")
    cos = (vectors["torch"] * vectors["local"]).sum(axis=1)
    print(f"cosine(onnx int8, torch fp32) over {len(cos)} chunks: min {cos.min():.4f}  p1 {np.percentile(cos, 1):.4f}  "
          f"mean {statistics.fmean(cos):.4f}")


if __name__ == "__main__":
    main()
