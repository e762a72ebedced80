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

# Steps of one cold ask in a fresh process, wall and CPU seconds each (one JSON line on stdout). The loads inside
# get_assistant are timed by wrapping the functions it calls, so nothing is done twice.
PHASES = r"""
import json, resource, sys, time
def clocks():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime + r.ru_stime
last = clocks(); marks = {}
def mark(name):
    global last
    now = clocks(); old = marks.get(name, [0, 0])
    marks[name] = [round(old[0] + now[0] - last[0], 3), round(old[1] + now[1] - last[1], 3)]; last = now
def timed(owner, attr, name):
    inner = getattr(owner, attr)
    def wrapper(*a, **k):
        mark("rest of the index load (Chroma collection, papers, answerability)"); out = inner(*a, **k); mark(name); return out
    setattr(owner, attr, wrapper)
from common.settings import Settings; mark("import settings (pydantic-settings)")
import papers.cli, assistant.api; mark("import the CLI and the reader (our modules)")
import chromadb; mark("import chromadb (all its embedding integrations, OpenTelemetry)")
import bm25s, Stemmer; mark("import bm25s + PyStemmer (scipy.sparse)")
import onnxruntime, tokenizers; mark("import onnxruntime + tokenizers")
import assistant.answer, assistant.retrieval
timed(assistant.retrieval, "open_index", "open the index (manifest, Chroma client + collection)")
timed(assistant.retrieval, "query_encoder", "ONNX session + tokenizer")
timed(assistant.retrieval, "KeywordSearch", "BM25 index")
timed(assistant.answer, "SentencePicker", "sentence index (document frequencies)")
s = Settings(); a = assistant.api.get_assistant(s); mark("rest of the index load (Chroma collection, papers, answerability)")
a.ask(sys.argv[1]); mark("first answer (retrieve + extract, lazy imports)")
a.ask(sys.argv[1]); mark("(the same answer again, warm)")
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
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # our modules' bytecode is cached, as after any user's first run
        if opts.data_dir is None:
            subprocess.run([sys.executable, "-m", "papers", "ingest", "--quiet"], env=env, cwd=REPO, check=True)
        cold(["ask", QUESTION], env)  # warm the OS file cache and bytecode once, as on any machine that ran the tool
        for name, args in (("ask", ["ask", QUESTION]), ("search", ["search", "process rewards"])):
            runs = [cold(args, env) for _ in range(opts.runs)]
            times, cpu = [w for w, _ in runs], [c for _, c in runs]
            print(f"cold papers {name:7s} median {statistics.median(times):5.2f} s wall (min {min(times):.2f}, max {max(times):.2f}), "
                  f"{statistics.median(cpu):5.2f} s CPU; {opts.runs} runs")
        phases = subprocess.run([sys.executable, "-c", PHASES, QUESTION], env=env, cwd=REPO, capture_output=True,
                                text=True, check=True).stdout
        print("\nsteps of one cold ask after interpreter start-up (wall s, CPU s):")
        import json

        for step, (wall, cpu) in json.loads(phases.splitlines()[-1]).items():
            print(f"  {wall:6.3f} {cpu:6.3f}  {step}")
        print("\nheaviest imports of one cold ask (self time, s):")
        for name, secs in top_imports(env):
            print(f"  {secs:6.3f}  {name}")


if __name__ == "__main__":
    main()
