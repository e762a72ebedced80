"""Fault injection: random kill -9 during ingest, readers launched across index switches, damaged indexes,
disk growth over repeated updates.

Run: flock /tmp/bench.lock .venv/bin/python bench/faults.py [--kills 30] [--readers 50] [--updates 10]
Every process is a real `papers` CLI call with the hash embedder (the model is not what is tested) and the
extractive backend. Prints a table of trials, survived and lost; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "data" / "corpus"
QUESTIONS = ["How can data be selected for instruction tuning?", "process reward models", "video generation",
             "Which papers study retrieval-augmented generation?"]


def _truncate(path: Path, size: int) -> None:
    data = path.read_bytes()[:size]
    path.write_bytes(data)


def _remove_generations(data_dir: Path) -> None:
    for path in data_dir.glob("gen-*"):
        shutil.rmtree(path)


DAMAGES: dict[str, Callable[[Path], None]] = {
    "manifest truncated": lambda d: _truncate(d / "manifest.json", 100),
    "manifest is {}": lambda d: (d / "manifest.json").write_text("{}"),
    "manifest is [1,2]": lambda d: (d / "manifest.json").write_text("[1, 2]"),
    "chroma/ deleted": lambda d: shutil.rmtree(d / "chroma"),
    "gen-N/ deleted": _remove_generations,
    "chroma.sqlite3 truncated": lambda d: _truncate(d / "chroma" / "chroma.sqlite3", 100_000),
    "records.json deleted": lambda d: [p.unlink() for p in d.glob("gen-*/records.json")],
    "bm25/ deleted": lambda d: [shutil.rmtree(p) for p in d.glob("gen-*/bm25")],
}


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERS_")}
    env.update(PAPERS_DATA_DIR=str(data_dir), PAPERS_EMBED_BACKEND="hash", PAPERS_LLM="extractive",
               PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    return env


def papers(data_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "papers", *args], env=env_for(data_dir), capture_output=True,
                          text=True, timeout=timeout, cwd=data_dir.parent)


class Corpus:
    """The bundled corpus plus an extra file that changes on every ``next()``: each ingest is a real update."""

    def __init__(self, root: Path) -> None:
        self.path = root / "corpus"
        shutil.copytree(CORPUS, self.path)
        self.n = 0

    def next(self) -> Path:
        self.n += 1
        extra = self.path / "extra.jsonl"
        extra.write_text(f'{{"title": "Fault injection update {self.n}", "abstract": "Update {self.n} adds one paper '
                         f'on crash-safe indexes so that every ingest switches the live generation."}}\n')
        return self.path


def ingest(data_dir: Path, corpus: Path) -> subprocess.CompletedProcess[str]:
    return papers(data_dir, "ingest", "--quiet", "--corpus", str(corpus))


def reader_ok(data_dir: Path, question: str = QUESTIONS[0], ask: bool = False) -> tuple[bool, str]:
    out = papers(data_dir, *(["ask", question] if ask else ["search", question, "-k", "3"]))
    return out.returncode == 0 and "Traceback" not in out.stderr, out.stderr.strip().splitlines()[-1:] and out.stderr.strip().splitlines()[-1] or ""


def random_kills(root: Path, trials: int, rng: random.Random) -> dict[str, int]:
    """Kill ``papers ingest`` with SIGKILL at a random point until ``trials`` runs were really killed (a run
    that finished before its kill point does not count); after each kill a reader must still get answers."""
    data_dir = root / "kills"
    corpus = Corpus(root / "kills-src")
    ingest(data_dir, corpus.next())
    start = time.perf_counter()
    ingest(data_dir, corpus.next())
    span = time.perf_counter() - start  # one update: kill points cover start-up, build, switch and clean-up
    lost = killed = finished = 0
    while killed < trials and finished < 3 * trials:
        proc = subprocess.Popen([sys.executable, "-m", "papers", "ingest", "--quiet", "--corpus", str(corpus.next())],
                                env=env_for(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.8 * span))  # the measured span includes a reader-free, unloaded moment
        if proc.poll() is not None:
            finished += 1
            continue
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed += 1
        ok, why = reader_ok(data_dir)
        if not ok:
            lost += 1
            print(f"  lost after kill: {why}", file=sys.stderr)
    return {"trials": killed, "survived": killed - lost, "lost": lost, "finished_before_kill": finished}


def readers_across_switches(root: Path, readers: int, rng: random.Random) -> dict[str, int]:
    data_dir = root / "readers"
    corpus = Corpus(root / "readers-src")
    ingest(data_dir, corpus.next())
    stop = threading.Event()
    switches = 0

    def writer() -> None:
        nonlocal switches
        while not stop.is_set():
            if ingest(data_dir, corpus.next()).returncode == 0:
                switches += 1

    thread = threading.Thread(target=writer)
    thread.start()
    crashed: list[str] = []

    def one(i: int) -> None:
        time.sleep(rng.uniform(0, 0.5))
        ok, why = reader_ok(data_dir, QUESTIONS[i % len(QUESTIONS)], ask=i % 2 == 0)
        if not ok:
            crashed.append(why)

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(one, range(readers)))
    finally:
        stop.set()
        thread.join()
    for why in crashed:
        print(f"  reader failed: {why}", file=sys.stderr)
    return {"trials": readers, "survived": readers - len(crashed), "lost": len(crashed), "switches": switches}


def damage_cases(root: Path) -> dict[str, dict[str, bool]]:
    data_dir = root / "damage"
    corpus = Corpus(root / "damage-src").next()
    ingest(data_dir, corpus)
    results = {}
    for name, damage in DAMAGES.items():
        damage(data_dir)
        out = papers(data_dir, "search", QUESTIONS[1])
        named = out.returncode != 0 and "Traceback" not in out.stderr and "papers ingest" in out.stderr
        doctor_sees = papers(data_dir, "doctor").returncode == 1
        repaired = ingest(data_dir, corpus).returncode == 0
        works = reader_ok(data_dir)[0] and papers(data_dir, "doctor").returncode == 0
        results[name] = {"named": named, "doctor": doctor_sees, "repaired": repaired and works}
    return results


def disk_growth(root: Path, updates: int) -> tuple[int, int]:
    corpus = Corpus(root / "disk-src")
    fresh, grown = root / "disk-fresh", root / "disk-grown"
    for _ in range(updates):
        ingest(grown, corpus.next())
    ingest(fresh, corpus.path)

    def size(p: Path) -> int:
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())

    return size(fresh), size(grown)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--updates", type=int, default=11, help="ingests of a changing corpus (1 build + N-1 updates)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--only", default="readers,kills,damage,disk", help="comma list of parts to run")
    opts = parser.parse_args()
    rng = random.Random(opts.seed)
    parts = set(opts.only.split(","))
    rows: list[tuple[str, int, int, int]] = []
    growth = None
    with tempfile.TemporaryDirectory(prefix="papers-faults-") as tmp:
        root = Path(tmp)
        if "readers" in parts:
            r = readers_across_switches(root, opts.readers, rng)
            rows.append((f"reader processes launched across index switches ({r['switches']} switches)", r["trials"],
                         r["survived"], r["lost"]))
        if "kills" in parts:
            k = random_kills(root, opts.kills, rng)
            rows.append((f"kill -9 at a random point of an ingest ({k['finished_before_kill']} more runs finished "
                         "before their kill point, not counted)", k["trials"], k["survived"], k["lost"]))
        if "damage" in parts:
            for name, res in damage_cases(root).items():
                ok = res["named"] and res["doctor"] and res["repaired"]
                detail = ", ".join(f"{key} {'yes' if v else 'NO'}" for key, v in res.items())
                rows.append((f"damage: {name} ({detail})", 1, int(ok), 1 - int(ok)))
        if "disk" in parts:
            growth = disk_growth(root, opts.updates)
    print("| case | trials | survived | lost |\n|---|---:|---:|---:|")
    for name, trials, survived, lost in rows:
        print(f"| {name} | {trials} | {survived} | {lost} |")
    if growth:
        fresh, grown = growth
        print(f"\ndisk after {opts.updates - 1} updates: {grown / 1e6:.1f} MB; fresh build: {fresh / 1e6:.1f} MB "
              f"({grown / fresh:.2f}x)")


if __name__ == "__main__":
    main()
