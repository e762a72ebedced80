"""Benchmark: a subfield summary of a ~20-paper topic, wall time per backend (warm process).

Run after `papers ingest`: .venv/bin/python bench/summary_bench.py
Set PAPERS_OPENAI_BASE_URL (and PAPERS_LLM_MODEL) to include the openai backend. Prints figures only.
"""

from __future__ import annotations

import os
import time

import assistant
from common.settings import Settings
from evals.metrics import percentile

TOPICS = ["data selection for instruction tuning", "process reward models and process supervision",
          "reinforcement learning for LLM reasoning", "adversarial examples and robustness"]


def main() -> None:
    settings = Settings()
    assistant.summarize(TOPICS[0], settings=settings)  # load index and models
    backends = ["extractive", "local"] + (["openai"] if os.environ.get("PAPERS_OPENAI_BASE_URL") else [])
    for backend in backends:
        times, kept = [], []
        for topic in TOPICS:
            start = time.perf_counter()
            summary = assistant.summarize(topic, settings=settings, backend=backend, max_papers=20)
            times.append(time.perf_counter() - start)
            kept.append(summary.kept)
        print(f"summary {backend:10s} p50 {percentile(times, 50):7.2f} s   max {max(times):7.2f} s   papers kept {kept}")


if __name__ == "__main__":
    main()
