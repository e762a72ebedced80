"""Benchmark: a reader with only PAPERS_CHROMA_URL against a `chroma run` server holding N papers.

Run: flock /tmp/bench.lock .venv/bin/python bench/shared_reader.py [--papers 10000] [--port 18900]
Starts a `chroma run` server, ingests N synthetic papers (bench/scale.py's generator, hash embedder) with
a writer data dir, then in fresh processes with an empty data dir times the reader's first question (its
caches built from the server), a second start on the built caches, and the cost of the per-request
"which generation is live?" check. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READER = """
import json, sys, time, resource
t0 = time.perf_counter()
from assistant.search import search
from ingest import shared
from common.settings import Settings
s = Settings()
hits = search("reinforcement learning reward model", k=5, settings=s)
first = time.perf_counter() - t0
t1 = time.perf_counter()
for _ in range(50):
    shared.sync(s, force=True)
check = (time.perf_counter() - t1) / 50
print(json.dumps({"first_answer_s": round(first, 2), "live_check_ms": round(1000 * check, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "hits": len(hits)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=18900)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.scale import synthetic, write_jsonl

    work = Path(tempfile.mkdtemp(prefix="shared-bench-"))
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    server = subprocess.Popen([chroma, "run", "--path", str(work / "db"), "--host", "127.0.0.1", "--port", str(args.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        write_jsonl(synthetic(args.papers), work / "corpus.jsonl")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("PAPERS_")}, "PYTHONPATH": str(ROOT),
               "PAPERS_CHROMA_URL": f"http://127.0.0.1:{args.port}", "PAPERS_EMBED_BACKEND": "hash"}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "papers", "ingest", "--quiet", "--corpus", str(work / "corpus.jsonl")],
                       env={**env, "PAPERS_DATA_DIR": str(work / "writer")}, check=True, cwd=work)
        print(f"{args.papers} papers: writer ingest {time.perf_counter() - t0:.1f} s")
        reader_env = {**env, "PAPERS_DATA_DIR": str(work / "reader")}
        for label in ("reader, empty data dir", "reader, caches built"):
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", READER], env=reader_env, check=True, cwd=work,
                                 capture_output=True, text=True).stdout
            print(f"{label}: {json.loads(out.strip().splitlines()[-1])} (process {time.perf_counter() - t0:.1f} s)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
