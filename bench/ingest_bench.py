"""Benchmark: full ingest of the bundled corpus from a cold process, unchanged re-ingest, peak memory.

Run: .venv/bin/python bench/ingest_bench.py [--embed-backend local]
Prints figures; asserts nothing (speed is measured, never tested).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str], env: dict[str, str]) -> tuple[float, dict]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embed-backend", default="local")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PAPERS_DATA_DIR": str(Path(tmp) / "index"), "PAPERS_EMBED_BACKEND": opts.embed_backend}
        full_s, full = run(["ingest", "--json"], env)
        peak_full = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        again_s, again = run(["ingest", "--json"], env)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    print(f"embedder                 {full['embedder']}")
    print(f"papers / chunks          {full['papers']} / {full['chunks']}")
    print(f"full ingest (cold)       {full_s:6.1f} s wall  ({full['embedded']} chunks embedded, {full['papers'] / full_s:.1f} papers/s)")
    print(f"unchanged re-ingest      {again_s:6.2f} s wall  ({again['embedded']} embedded, {100 * again_s / full_s:.1f}% of full)")
    print(f"peak RSS (largest run)   {peak_full:6.0f} MB")
    print(f"index size on disk       {size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
