"""Load test for `papers serve`: throughput, latency percentiles and errors under concurrent clients.

Bounded in time (--seconds per scenario) and count (--max-requests per scenario); talks to 127.0.0.1 only.
By default it starts `papers serve` itself on a free port (reading the index of PAPERS_DATA_DIR), runs the
scenarios, then sends SIGTERM and reports how long the shutdown took.

    flock /tmp/bench.lock .venv/bin/python bench/serve_load.py [--clients 32] [--seconds 60]
        [--scenarios chat,search,local] [--llm-concurrency 2] [--think 0] [--port N]

Scenarios: `chat` = extractive /v1/chat/completions, `search` = /search, `local` = chat completions on
the local LLM backend, where past PAPERS_LLM_CONCURRENCY the server answers 503 (clients wait for its
Retry-After, capped at 1 s, before their next request). Clients are closed-loop: each sends its next
request when the previous one is answered (plus --think seconds). Prints figures; asserts nothing.

Questions: every distinct single-turn question of the eval sets (--questions, default gold, hard and overview:
about 450), each client starting at its own share of the list, so a question comes back only after the
whole list went round and the server's small cache of recent question vectors (64) never answers for it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from evals.dataset import load_dataset  # noqa: E402
from evals.metrics import percentile  # noqa: E402

DATASETS = ROOT / "evals" / "datasets"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_for(scenario: str, question: str) -> tuple[str, dict]:
    if scenario == "search":
        return "/search", {"query": question, "k": 5}
    model = "papers-assistant:local" if scenario == "local" else "papers-assistant:extractive"
    return "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": question}]}


async def client(http: httpx.AsyncClient, scenario: str, questions: list[str], offset: int, stop_at: float,
                 budget: list[int], think: float, latencies: list[float], statuses: Counter) -> None:
    i = offset
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        path, body = request_for(scenario, questions[i % len(questions)])
        i += 1
        t0 = time.perf_counter()
        try:
            # an answer started before the end may finish (a local-model answer takes 10-60 s on busy cores)
            resp = await http.post(path, json=body, timeout=max(1.0, stop_at - time.monotonic()) + 180)
            status = resp.status_code
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1
            continue
        statuses[status] += 1
        if status == 200:
            latencies.append((time.perf_counter() - t0) * 1000)
        elif status == 503:
            await asyncio.sleep(min(1.0, float(resp.headers.get("retry-after", "1"))))
        if think:
            await asyncio.sleep(think)


async def run_scenario(base: str, scenario: str, clients: int, seconds: float, max_requests: int,
                       think: float, questions: list[str]) -> dict:
    latencies: list[float] = []
    statuses: Counter = Counter()
    budget = [max_requests]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits) as http:
        start = time.monotonic()
        stop_at = start + seconds
        await asyncio.gather(*(client(http, scenario, questions, k * len(questions) // clients, stop_at, budget, think,
                                      latencies, statuses) for k in range(clients)))
        elapsed = time.monotonic() - start
    total = sum(statuses.values())
    fivexx = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500 and s != 503)
    return {"scenario": scenario, "clients": clients, "seconds": round(elapsed, 1), "requests": total,
            "ok": statuses.get(200, 0), "ok_per_s": round(statuses.get(200, 0) / elapsed, 1),
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95), "p99_ms": percentile(latencies, 99),
            "503": statuses.get(503, 0), "other_5xx": fivexx,
            "other": {str(s): n for s, n in statuses.items() if s not in (200, 503)}}


def start_server(port: int, llm_concurrency: int) -> subprocess.Popen:
    env = {**os.environ, "PAPERS_LLM_CONCURRENCY": str(llm_concurrency), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "papers", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"papers serve exited: {proc.stderr.read()[-800:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("papers serve did not start within 180 s")


def server_cpu(proc: subprocess.Popen | None) -> float:
    """CPU seconds (user + system) the server and its worker processes have used so far."""
    if proc is None:
        return 0.0
    import psutil

    try:
        root = psutil.Process(proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except psutil.Error:
        return 0.0


def stop_server(proc: subprocess.Popen, port: int) -> float:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return float("inf")
    elapsed = time.monotonic() - t0
    with socket.socket() as s:  # the port is free again (for a server: SO_REUSEADDR, as uvicorn sets it)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    return elapsed


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60.0, help="per scenario")
    ap.add_argument("--max-requests", type=int, default=50_000, help="per scenario")
    ap.add_argument("--scenarios", default="chat,search,local")
    ap.add_argument("--llm-concurrency", type=int, default=2, help="PAPERS_LLM_CONCURRENCY of the started server")
    ap.add_argument("--think", type=float, default=0.0, help="seconds each client waits between requests")
    ap.add_argument("--port", type=int, default=None, help="use a server already running on 127.0.0.1:PORT")
    ap.add_argument("--questions", default="gold,hard,overview", help="eval sets (evals/datasets/NAME.jsonl) to ask from")
    args = ap.parse_args()
    questions = list(dict.fromkeys(q.question for name in args.questions.split(",") if name.strip()
                                   for q in load_dataset(DATASETS / f"{name.strip()}.jsonl") if not q.history))
    print(f"{len(questions)} distinct questions from {args.questions}", flush=True)
    port = args.port or free_port()
    proc = None if args.port else start_server(port, args.llm_concurrency)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for scenario in [s.strip() for s in args.scenarios.split(",") if s.strip()]:
            cpu0 = server_cpu(proc)
            row = asyncio.run(run_scenario(base, scenario, args.clients, args.seconds, args.max_requests, args.think,
                                           questions))
            # CPU the server spent per request: comparable across runs even when other jobs load the machine
            row["server_cpu_ms"] = round(1000 * (server_cpu(proc) - cpu0) / max(row["requests"], 1), 1) if proc else None
            row["health_after"] = httpx.get(f"{base}/health", timeout=10).status_code
            rows.append(row)
            print(row, flush=True)
    finally:
        shutdown = stop_server(proc, port) if proc else None
    print(f"\n{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; think time {args.think}s; "
          f"{len(questions)} distinct questions")
    print("| scenario | clients | s | requests | ok/s | p50 ms | p95 ms | p99 ms | 503 | other 5xx | other errors "
          "| server CPU ms/request |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['clients']} | {r['seconds']} | {r['requests']} | {r['ok_per_s']} | {fmt(r['p50_ms'])} "
              f"| {fmt(r['p95_ms'])} | {fmt(r['p99_ms'])} | {r['503']} | {r['other_5xx']} | {r['other'] or 0} "
              f"| {fmt(r['server_cpu_ms'])} |")
    if shutdown is not None:
        print(f"\nshutdown after SIGTERM: {shutdown:.2f} s, port free again")


if __name__ == "__main__":
    main()
