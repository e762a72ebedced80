"""Benchmark: a subfield summary of a 10-20-paper topic, wall time per backend (warm process).

Run after `papers ingest`: flock /tmp/bench.lock .venv/bin/python bench/summary_bench.py
Set PAPERS_OPENAI_BASE_URL (and PAPERS_LLM_MODEL) to include the openai backend; BENCH_BACKENDS=extractive
limits the run to the offline backend. Prints figures only: p50 / max of the whole summary, and p50 of its
stages (gather, group and name themes, write).
"""

from __future__ import annotations

import os
import time

import assistant
from common.settings import Settings
from evals.metrics import percentile

TOPICS = ["data selection for instruction tuning", "process reward models and process supervision",
          "reinforcement learning for LLM reasoning", "adversarial examples and robustness",
          "Can you give me an overview of how language models improve themselves with their own generated data?",
          "knowledge distillation"]


def main() -> None:
    settings = Settings()
    assistant.summarize(TOPICS[0], settings=settings, backend="extractive")  # load index, models, corpus n-grams
    backends = os.environ.get("BENCH_BACKENDS", "").split(",") if os.environ.get("BENCH_BACKENDS") else \
        ["extractive", "local"] + (["openai"] if os.environ.get("PAPERS_OPENAI_BASE_URL") else [])
    for backend in backends:
        times, kept, stages = [], [], {}
        for topic in TOPICS:
            start = time.perf_counter()
            summary = assistant.summarize(topic, settings=settings, backend=backend, max_papers=20)
            times.append(time.perf_counter() - start)
            kept.append(summary.kept)
            for stage in ("gather", "group", "write"):
                stages.setdefault(stage, []).append(summary.timings_ms.get(stage, 0.0) / 1000)
        split = "  ".join(f"{s} {percentile(v, 50):.2f} s" for s, v in stages.items())
        print(f"summary {backend:10s} p50 {percentile(times, 50):7.2f} s   max {max(times):7.2f} s   ({split})   papers kept {kept}")


if __name__ == "__main__":
    main()
