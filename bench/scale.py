"""Benchmark: the index at 10k and 100k papers (synthetic, built from the bundled corpus's own sentences).

Run: flock /tmp/bench.lock .venv/bin/python bench/scale.py [--sizes 10000,100000] [--workdir DIR]
For each size it generates N papers deterministically (sentences of the real abstracts, author names
recombined from the real authors, dates 2015-2025), ingests them with the hash embedder, changes 1% of
them (a third added, a third edited, a third removed) and ingests again, then starts a fresh reader
process and times retrieval. Every step runs in its own process, so each peak RSS is that step's own.
MiniLM's throughput is measured separately on 1k chunks. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pools() -> tuple[list[str], list[str], list[str]]:
    from ingest.corpus import build_corpus
    from common.settings import DEFAULT_CORPUS

    papers = build_corpus(DEFAULT_CORPUS, progress=False).papers
    sentences = [s.strip() for p in papers for s in re.split(r"(?<=[.!?])\s+", p.abstract) if len(s.split()) >= 6]
    names = [a.split() for p in papers for a in p.authors if len(a.split()) >= 2]
    return sorted(set(sentences)), sorted({n[0] for n in names}), sorted({n[-1] for n in names})


def synthetic(n: int, seed: int = 0) -> list[dict]:
    """``n`` papers in the project's JSONL format; the same ``n`` and ``seed`` give the same papers."""
    sentences, firsts, lasts = _pools()
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = rng.choice(sentences).rstrip(".").split()
        start = rng.randrange(max(1, len(words) - 6))
        title = " ".join(words[start : start + rng.randint(5, 10)]).capitalize() + f" ({i})"
        year = rng.randint(2015, 2025)
        rows.append({
            "id": f"syn-{i}",
            "title": title,
            "abstract": " ".join(rng.sample(sentences, rng.randint(4, 8))),
            "authors": [f"{rng.choice(firsts)} {rng.choice(lasts)}" for _ in range(rng.randint(1, 6))],
            "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        })
    return rows


def changed(rows: list[dict], fraction: float = 0.01, seed: int = 1) -> list[dict]:
    """``rows`` with ``fraction`` of them touched: a third added, a third edited, a third removed."""
    rng = random.Random(seed)
    k = max(3, int(len(rows) * fraction)) // 3
    picked = rng.sample(range(len(rows)), 2 * k)
    edit, drop = set(picked[:k]), set(picked[k:])
    out = []
    for i, row in enumerate(rows):
        if i in drop:
            continue
        out.append({**row, "abstract": row["abstract"] + " We also release the code."} if i in edit else row)
    extra = synthetic(k, seed=seed + 99)
    return out + [{**r, "id": f"new-{j}", "title": r["title"] + " revisited"} for j, r in enumerate(extra)]


def write_jsonl(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_ingest(corpus: str) -> dict:
    from ingest.pipeline import run_ingest
    from common.settings import Settings

    start = time.perf_counter()
    report = run_ingest(Settings(), Path(corpus), progress=True)
    return {"seconds": time.perf_counter() - start, "rss_mb": _peak_mb(), "chunks": report.chunks,
            "embedded": report.embedded, "papers": report.papers}


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def step_read(corpus: str) -> dict:
    t0 = time.perf_counter()
    from assistant.retrieval import Filters, Retriever
    from common.settings import Settings

    imported = time.perf_counter()
    retriever = Retriever(Settings())
    loaded = time.perf_counter()
    rss_loaded = _rss_mb()
    from ingest.embed import make_embedder

    base = Settings()
    local = base.model_copy(update={"ingest": base.ingest.model_copy(update={"embed_backend": "local"})})
    minilm = make_embedder(local)  # held while the queries run, so its memory is counted
    minilm.get_query_embedding("warm up")
    rss_minilm = _rss_mb()
    rows = [json.loads(line) for line in Path(corpus).open(encoding="utf-8")]
    rng = random.Random(7)
    sample = rng.sample(rows, 40)
    questions = [" ".join(r["abstract"].split()[3:11]) for r in sample]
    kinds = {
        "hybrid": [(q, None) for q in questions],
        "year-filtered": [(q, Filters(year_from=2019, year_to=2019)) for q in questions],
        "author-filtered": [(q, Filters(author=r["authors"][0].split()[-1])) for q, r in zip(questions, sample)],
        "author question": [(f"What did {r['authors'][0]} write?", None) for r in sample],
    }
    out = {"import_s": imported - t0, "load_s": loaded - imported, "rss_loaded_mb": rss_loaded,
           "rss_with_minilm_mb": rss_minilm, "chunks": retriever.n_chunks}
    for kind, queries in kinds.items():
        times = []
        for q, f in queries:
            start = time.perf_counter()
            retriever.retrieve(q, filters=f)
            times.append(1000 * (time.perf_counter() - start))
        times.sort()
        out[kind] = {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}
    out["rss_after_queries_mb"] = _rss_mb()
    return out


def step_minilm(corpus: str) -> dict:
    from llama_index.core.schema import MetadataMode

    from common.settings import Settings
    from ingest.chunk import iter_chunks
    from ingest.embed import make_embedder
    from ingest.records import Paper

    rows = [json.loads(line) for _, line in zip(range(1000), Path(corpus).open(encoding="utf-8"))]
    papers = [Paper(title=r["title"], abstract=r["abstract"], authors=r["authors"]) for r in rows]
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in iter_chunks(papers, 384, 48)][:1000]
    model = make_embedder(Settings())
    start = time.perf_counter()
    model.get_text_embedding_batch(texts)
    seconds = time.perf_counter() - start
    return {"chunks": len(texts), "seconds": seconds, "per_s": len(texts) / seconds}


STEPS = {"ingest": step_ingest, "read": step_read, "minilm": step_minilm}


def run_step(step: str, corpus: Path, data_dir: Path, backend: str = "hash") -> dict:
    env = {**os.environ, "PAPERS_DATA_DIR": str(data_dir), "PAPERS_EMBED_BACKEND": backend,
           "PYTHONPATH": str(ROOT)}
    if step == "read":
        env["PAPERS_EMBED_BACKEND"] = "hash"
    proc = subprocess.run([sys.executable, __file__, "--step", step, "--corpus", str(corpus)], env=env,
                          stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def bench_size(n: int, work: Path) -> None:
    rows = synthetic(n)
    corpus, updated = work / f"corpus-{n}" / "papers.jsonl", work / f"corpus-{n}-update" / "papers.jsonl"
    write_jsonl(rows, corpus)
    write_jsonl(changed(rows), updated)
    data = work / f"index-{n}"
    full = run_step("ingest", corpus, data)
    size = disk_mb(data)
    update = run_step("ingest", updated, data)
    read = run_step("read", updated, data)
    print(f"\n== {n:,} papers ({full['chunks']:,} chunks), hash embedder ==")
    print(f"full ingest              {full['seconds']:7.1f} s   peak RSS {full['rss_mb']:6.0f} MB   disk {size:6.0f} MB")
    print(f"1% update ingest         {update['seconds']:7.1f} s   ({100 * update['seconds'] / full['seconds']:.1f}% of full; "
          f"{update['embedded']} chunks embedded)   peak RSS {update['rss_mb']:6.0f} MB")
    print(f"reader                   import {read['import_s']:.2f} s + load {read['load_s']:.2f} s   "
          f"RSS {read['rss_loaded_mb']:.0f} MB, {read['rss_with_minilm_mb']:.0f} MB with MiniLM loaded, "
          f"{read['rss_after_queries_mb']:.0f} MB after the queries")
    for kind in ("hybrid", "year-filtered", "author-filtered", "author question"):
        print(f"{kind:<24} p50 {read[kind]['p50_ms']:7.1f} ms   p95 {read[kind]['p95_ms']:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.step:
        print(json.dumps(STEPS[opts.step](opts.corpus)))
        return
    if opts.workdir is not None:
        opts.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=opts.workdir) as tmp:
        work = Path(tmp)
        sizes = [int(s) for s in opts.sizes.split(",")]
        for n in sizes:
            bench_size(n, work)
        write_jsonl(synthetic(1000), work / "minilm" / "papers.jsonl")
        m = run_step("minilm", work / "minilm" / "papers.jsonl", work / "minilm-index", backend="local")
        print(f"\nMiniLM (int8, ONNX) embedding: {m['chunks']} chunks in {m['seconds']:.1f} s = {m['per_s']:.0f} chunks/s")


if __name__ == "__main__":
    main()
