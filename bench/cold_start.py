"""Benchmark: cold `papers ask` and `papers search` on an existing index, and what the time is spent on.

Run: .venv/bin/python bench/cold_start.py [--runs 5] [--data-dir DIR]
Without --data-dir the bundled corpus is ingested first into a temporary folder (not timed). Prints the
median wall and CPU time of N fresh processes per command, then the remaining costs of one cold `ask`: the
heaviest imports (python -X importtime) and the load steps. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTION = "What is KOALA++?"

# Load steps of one cold ask, timed in a fresh process after the imports (one JSON line on stdout).
PHASES = r"""
import json, sys, time
t = time.perf_counter(); marks = {}
def mark(name):
    global t
    now = time.perf_counter(); marks[name] = round(now - t, 3); t = now
from common.settings import Settings; mark("import settings (pydantic-settings)")
import assistant.api; mark("import the reader (llama-index, chromadb, bm25s)")
from ingest.embed import make_embedder; from ingest.store import open_index
s = Settings(); mark("settings")
open_index(s); mark("open Chroma + manifest")
make_embedder(s); mark("embedder load (ONNX session + tokenizer)")
from ingest.tokens import count_tokens; count_tokens("x"); mark("tiktoken cl100k_base load")
a = assistant.api.get_assistant(s); mark("rest of the index load (BM25, records, sentence index)")
a.ask(sys.argv[1]); mark("answer (retrieve + extract)")
print(json.dumps(marks))
"""


def cold(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh process; CPU time says more on a loaded machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "papers", *args], env=env, cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def top_imports(env: dict[str, str], n: int = 12) -> list[tuple[str, float]]:
    """Self import time per top-level package (llama_index split one level further), heaviest first."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "papers", "ask", QUESTION], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True).stderr
    per: Counter[str] = Counter()
    for m in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \| +(\S+)", out):
        parts = m.group(2).split(".")
        per[".".join(parts[:3]) if parts[0] == "llama_index" else parts[0]] += int(m.group(1)) / 1e6
    return per.most_common(n)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=None, help="an existing index (default: ingest the bundled corpus)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = opts.data_dir or Path(tmp) / "index"
        env = {**os.environ, "PAPERS_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
        if opts.data_dir is None:
            subprocess.run([sys.executable, "-m", "papers", "ingest", "--quiet"], env=env, cwd=REPO, check=True)
        cold(["stats"], env)  # warm the OS file cache once, as on any machine that has run the tool before
        for name, args in (("ask", ["ask", QUESTION]), ("search", ["search", "process rewards"])):
            runs = [cold(args, env) for _ in range(opts.runs)]
            times, cpu = [w for w, _ in runs], [c for _, c in runs]
            print(f"cold papers {name:7s} median {statistics.median(times):5.2f} s wall (min {min(times):.2f}, max {max(times):.2f}), "
                  f"{statistics.median(cpu):5.2f} s CPU; {opts.runs} runs")
        phases = subprocess.run([sys.executable, "-c", PHASES, QUESTION], env=env, cwd=REPO, capture_output=True,
                                text=True, check=True).stdout
        print("\nload steps of one cold ask (s):")
        import json

        for step, secs in json.loads(phases.splitlines()[-1]).items():
            print(f"  {secs:6.3f}  {step}")
        print("\nheaviest imports of one cold ask (self time, s):")
        for name, secs in top_imports(env):
            print(f"  {secs:6.3f}  {name}")


if __name__ == "__main__":
    main()
