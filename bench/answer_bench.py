"""Benchmark: warm retrieval p50/p95 per mode, answer p50 per backend, cold `papers ask` wall time.

Run after `papers ingest`: .venv/bin/python bench/answer_bench.py [--local-questions 8]
Set PAPERS_OPENAI_BASE_URL (and PAPERS_LLM_MODEL) to include the openai backend. Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import assistant
from common.settings import Settings
from evals.dataset import load_dataset
from evals.metrics import percentile

GOLD = Path(__file__).resolve().parent.parent / "evals" / "datasets" / "gold.jsonl"


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--local-questions", type=int, default=8)
    args = parser.parse_args()
    settings = Settings()
    questions = [q.question for q in load_dataset(GOLD) if q.kind in ("lookup", "subfield", "author")]
    start = time.perf_counter()
    assistant.get_assistant(settings)
    print(f"load (index + embedder, warm process)   {time.perf_counter() - start:6.2f} s")
    assistant.retrieve(questions[0], settings=settings)  # warm-up
    for mode in ("hybrid", "dense", "bm25"):
        ms = [timed(lambda q=q, m=mode: assistant.retrieve(q, settings=settings, mode=m)) for q in questions]
        print(f"retrieval {mode:7s} p50 {percentile(ms, 50):6.1f} ms   p95 {percentile(ms, 95):6.1f} ms   (n={len(ms)})")
    ms = [timed(lambda q=q: assistant.ask(q, settings=settings, backend="extractive")) for q in questions]
    print(f"answer extractive  p50 {percentile(ms, 50):7.1f} ms   p95 {percentile(ms, 95):7.1f} ms   (n={len(ms)})")
    backends = ["local"] + (["openai"] if os.environ.get("PAPERS_OPENAI_BASE_URL") else [])
    for backend in backends:
        assistant.ask(questions[0], settings=settings, backend=backend)  # load the model once
        sample = questions[1 : 1 + args.local_questions]
        ms = [timed(lambda q=q, b=backend: assistant.ask(q, settings=settings, backend=b)) for q in sample]
        print(f"answer {backend:11s} p50 {percentile(ms, 50):7.1f} ms   p95 {percentile(ms, 95):7.1f} ms   (n={len(ms)})")
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant", "ask", "What is KOALA++?"], check=True, capture_output=True)
        cold.append(time.perf_counter() - t)
    print(f"cold `papers ask` (extractive)           {sorted(cold)[1]:6.2f} s wall (median of 3)")


if __name__ == "__main__":
    main()
