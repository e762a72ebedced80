"""The ``papers`` command: each subcommand parses, calls one library function, prints text or --json."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from common.errors import PapersError
from common.settings import Settings


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _progress(args: argparse.Namespace) -> bool:
    """Our own progress goes to stderr, unless --quiet or --json."""
    return not args.quiet and not args.json


def _check_request(args: argparse.Namespace, settings: Settings, text: str | None) -> None:
    """Reject a bad question, flag or backend before anything is ingested or loaded."""
    from assistant.request import check_request

    check_request(text, settings, getattr(args, "backend", None), k=getattr(args, "k", None),
                  max_papers=getattr(args, "max_papers", None))


def _ensure_index(args: argparse.Namespace, settings: Settings) -> None:
    """First run: with no index yet, ingest the configured corpus (the bundled one by default) before answering."""
    from ingest.shared import sync
    from ingest.store import read_manifest

    sync(settings)  # a reader of a Chroma server builds its caches from it instead
    if read_manifest(settings.index.data_dir) is not None:
        return
    if _progress(args):
        print(f"No index yet in {settings.index.data_dir}: ingesting {settings.ingest.corpus} first (once, about a minute)",
              file=sys.stderr)
    from assistant.api import ensure_index

    report = ensure_index(settings, progress=_progress(args))
    if report and _progress(args):
        print(f"Ingested {report['papers']} papers ({report['chunks']} chunks) in {report['seconds']:.0f}s", file=sys.stderr)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import run_ingest

    report = run_ingest(settings, corpus_path=args.corpus, progress=_progress(args))
    if args.json:
        _print_json(report.as_dict())
    else:
        verb = {"unchanged": "Index is up to date", "created": "Created index", "updated": "Updated index",
                "repaired": "Repaired index"}[report.status]
        if report.repaired:
            print(f"Repairing the index: {report.repaired}", file=sys.stderr)
        print(
            f"{verb}: {report.papers} papers, {report.chunks} chunks ({report.embedded} embedded, {report.reused} reused); "
            f"papers +{report.added_papers} ~{report.changed_papers} -{report.removed_papers}; {report.dropped} dropped, "
            f"{report.duplicates} duplicates merged, {_left_out(report.replaced, report.filtered)}{report.skipped} skipped; "
            f"{report.embedder}; {report.seconds:.1f}s"
        )
    if report.skipped:
        for rec in report.skipped_records[:20]:
            src = rec["source"]
            print(f"warning: skipped {src['file']}:{src['line']}: {rec['reason']}", file=sys.stderr)
        print(f"warning: {report.skipped} record(s) skipped; the index was updated without them (see `papers stats`)", file=sys.stderr)
        return 3
    return 0


def _left_out(replaced: int, filtered: int) -> str:
    """The arXiv-snapshot counts of the ingest line, when there are any."""
    return "".join([f"{replaced} replaced by a later record with the same id, " if replaced else "",
                    f"{filtered} outside PAPERS_CATEGORIES, " if filtered else ""])


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.stats import index_stats

    stats = index_stats(settings)
    if args.json:
        _print_json(stats)
        return 0
    print(f"Papers: {stats['papers']}   Chunks: {stats['chunks']}   Embedder: {stats['embedder']} (dim {stats['embedding_dim']})")
    print(f"Store: {stats['store']}   Data dir: {stats['data_dir']} ({_human_bytes(stats['index_bytes'])})   Generation: {stats['generation']}, built {stats['built_at']}")
    print(f"Corpus: {stats['corpus']}")
    print("Papers per source file:")
    for name, n in stats["per_source"].items():
        print(f"  {n:5d}  {name}")
    print(f"Duplicates merged: {len(stats['duplicates_merged'])}")
    for d in stats["duplicates_merged"]:
        print(f"  {d['title']}  ({', '.join(s['file'] for s in d['sources'])})")
    print(f"Replaced by a later record with the same id (e.g. a newer arXiv version): {stats['replaced']}")
    print(f"Left out by PAPERS_CATEGORIES: {stats['filtered']}")
    print(f"Dropped (not papers): {len(stats['dropped'])}")
    for d in stats["dropped"]:
        print(f"  {d['title'][:80]}  [{d['source']['file']}:{d['source']['line']}] {d['reason']}")
    print(f"Skipped records: {len(stats['skipped'])}")
    for s in stats["skipped"]:
        print(f"  {s['source']['file']}:{s['source']['line']}: {s['reason']}")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.doctor import diagnose

    checks = diagnose(settings)
    healthy = all(c.ok for c in checks)
    if args.json:
        _print_json({"healthy": healthy, "checks": [c.as_dict() for c in checks]})
    else:
        for c in checks:
            print(f"{'ok ' if c.ok else 'BAD'}  {c.name}: {c.detail}")
        print("The index is healthy." if healthy else "The index is damaged: run `papers ingest` to rebuild it.")
    return 0 if healthy else 1


def _filters(args: argparse.Namespace):
    from assistant.retrieval import Filters

    f = Filters(year_from=args.year_from, year_to=args.year_to, author=args.author, source=args.source)
    return f if f.active() else None


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    _check_request(args, settings, args.query)
    _ensure_index(args, settings)
    from assistant.render import short_authors
    from assistant.search import search

    hits = search(args.query, k=args.k, settings=settings, mode=args.mode, filters=_filters(args))
    if args.json:
        _print_json([h.as_dict() for h in hits])
        return 0
    if not hits:
        print("No results.")
    for i, h in enumerate(hits, start=1):
        extra = " · ".join(x for x in (short_authors(h.authors), h.date, h.url) if x)
        print(f"{i:2d}. [{h.score:.3f}] {h.title}" + (f"\n      {extra}" if extra else ""))
    return 0


def _print_answer(answer, as_json: bool) -> None:
    from assistant.render import answer_markdown

    if as_json:
        _print_json(answer.as_dict())
    else:
        print(answer_markdown(answer))


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    _check_request(args, settings, args.question)
    _ensure_index(args, settings)
    from assistant.api import ask

    answer = ask(args.question, settings=settings, backend=args.backend, k=args.k, mode=args.mode, filters=_filters(args),
                 kind=args.kind)
    _print_answer(answer, args.json)
    return 0


def cmd_summarize(args: argparse.Namespace, settings: Settings) -> int:
    _check_request(args, settings, args.topic)
    _ensure_index(args, settings)
    from assistant.api import summarize

    summary = summarize(args.topic, settings=settings, backend=args.backend, max_papers=args.max_papers,
                        breadth=args.breadth, min_relevance=args.min_relevance)
    if args.json:
        _print_json(summary.as_dict())
    else:
        print(summary.markdown())
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    _check_request(args, settings, None)
    _ensure_index(args, settings)
    from assistant.api import chat_session

    session = chat_session(settings=settings, backend=args.backend, k=args.k, mode=args.mode, filters=_filters(args),
                           kind=args.kind)
    if not args.json:
        print("Ask about the papers. Empty line or Ctrl-D to quit; /reset starts over.")
    while True:
        try:
            question = input("> " if sys.stdin.isatty() else "")
        except EOFError:
            break
        if not question.strip():
            break
        if question.strip() == "/reset":
            session.reset()
            continue
        try:
            answer = session.ask(question)
        except PapersError as exc:  # one bad turn must not end the conversation
            print(f"error: {exc}", file=sys.stderr)
            continue
        _print_answer(answer, args.json)
        if not args.json:
            print()
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """`papers eval [--dataset F] ...`, `papers eval diff OLD NEW`, `papers eval generate --out F`."""
    action, rest = (args.action[0], args.action[1:]) if args.action else ("run", [])
    if action == "diff":
        if len(rest) != 2:
            raise PapersError("usage: papers eval diff OLD_RUN_DIR NEW_RUN_DIR")
        from evals.diff import diff_runs

        result = diff_runs(Path(rest[0]), Path(rest[1]))
        if args.json:
            _print_json(result)
            return 0
        for name, m in result["metrics"].items():
            delta = "" if m["delta"] is None else f"  ({m['delta']:+.3f})"
            print(f"{name:32s} {m['old']!s:>8.8} -> {m['new']!s:>8.8}{delta}")
        print(f"\nBetter on {len(result['better'])} question(s), worse on {len(result['worse'])}:")
        for tag, items in (("+", result["better"]), ("-", result["worse"])):
            for e in items:
                print(f"  {tag} {e['id']}: {e['old']} -> {e['new']}  {e['question']}")
        return 0
    if action == "generate":
        from evals.generate import draft_questions

        out = args.out or Path("drafts.jsonl")
        n = draft_questions(args.n, out, backend=args.backend or "openai", settings=settings)
        print(f"Wrote {n} draft question(s) to {out} (marked draft: review each against its abstract)")
        return 0
    if action != "run":
        raise PapersError(f"unknown eval action {action!r}: use `papers eval [--dataset F]`, `eval diff OLD NEW` or `eval generate`")
    from evals.run import Options, run_eval

    compare = [c.strip() for c in (args.compare or "").split(",") if c.strip()]
    opts = Options(dataset=args.dataset, out=args.out or Path("eval-runs") / "latest", backend=args.backend,
                   compare=compare, judge=args.judge, force=args.force, limit=args.limit, progress=_progress(args),
                   split=args.split)
    report = run_eval(opts, settings)
    if args.json:
        _print_json(report)
    else:
        print((opts.out / "report.md").read_text())
        print(f"Wrote {opts.out}/results.jsonl, report.json, report.md and plots")
    return 0


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    """Start the Streamlit app; the app itself ingests the corpus first if there is no index."""
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    port = args.port or settings.ui.ui_port
    print(f"papers-assistant UI on http://{settings.ui.ui_host}:{port} (Ctrl-C to stop)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", settings.ui.ui_host,
           "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal"]
    from papers.lifecycle import run_foreground

    return run_foreground(cmd, settings.serve.shutdown_grace)  # SIGTERM/SIGINT reach Streamlit too


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """The OpenAI-compatible HTTP API (papers/serve/)."""
    from papers.serve.run import serve

    return serve(settings, args.host or settings.serve.serve_host, args.port or settings.serve.serve_port,
                 access_log=args.access_log)


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    """The MCP tools over stdio (papers/mcp_server.py)."""
    from papers.mcp_server import run_stdio

    run_stdio(settings)
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    from common.settings import describe_settings

    rows = describe_settings(settings)
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        print(f"{r['env']}\n    {r['description']}\n    default: {r['default']!r}   current: {r['value']!r}")
    return 0


def _retrieval_args(p: argparse.ArgumentParser, backend: bool = False) -> None:
    p.add_argument("-k", "--k", type=int, default=None, help="number of papers (default: PAPERS_TOP_K)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default=None, help="retrieval mode (default: PAPERS_MODE)")
    p.add_argument("--year-from", type=int, default=None, help="only papers from this year on")
    p.add_argument("--year-to", type=int, default=None, help="only papers up to this year")
    p.add_argument("--author", default=None, help="only papers with an author containing this text")
    p.add_argument("--source", default=None, help="only papers from a source file containing this text")
    if backend:
        p.add_argument("--backend", default=None, help="openai, local or extractive (default: PAPERS_LLM, auto)")
        p.add_argument("--kind", choices=["auto", "answer", "compare", "summary"], default="auto",
                       help="answer, side-by-side comparison or subfield summary (default: auto, from the question)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="papers", description="Cited answers over a corpus of ML paper abstracts.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace, Settings], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="print JSON instead of text (implies --quiet)")
        p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
        p.set_defaults(func=func)
        return p

    p = add("ingest", cmd_ingest, "Parse, clean, embed and store the corpus (incremental).")
    p.add_argument("--corpus", type=Path, default=None, help="folder or .txt/.jsonl file (default: PAPERS_CORPUS, the bundled corpus)")
    add("stats", cmd_stats, "Show what the index holds: counts, sources, dropped and skipped records.")
    add("doctor", cmd_doctor, "Check the index end to end and say what is wrong (exit 1) and how to fix it.")
    p = add("search", cmd_search, "Plain retrieval: the papers that best match a text.")
    p.add_argument("query", help="what to look for")
    _retrieval_args(p)
    p = add("ask", cmd_ask, "Answer a question with numbered citations to paper titles.")
    p.add_argument("question", help="your question, in plain language")
    _retrieval_args(p, backend=True)
    p = add("summarize", cmd_summarize, "A cited, theme-by-theme summary of everything on a topic.")
    p.add_argument("topic", help="the subfield, e.g. 'data selection for instruction tuning'")
    p.add_argument("--backend", default=None, help="openai, local or extractive (default: PAPERS_LLM, auto)")
    p.add_argument("--max-papers", type=int, default=None, help="most papers to cover (default: PAPERS_SUMMARY_MAX_PAPERS)")
    p.add_argument("--breadth", choices=["narrow", "normal", "wide"], default=None,
                   help="narrow: only the closest papers; wide: also those that touch the topic (default: PAPERS_SUMMARY_BREADTH)")
    p.add_argument("--min-relevance", type=float, default=None,
                   help="least relevance probability (0-1) a paper needs, replacing the fitted bar (PAPERS_SUMMARY_MIN_RELEVANCE)")
    p = add("chat", cmd_chat, "Interactive multi-turn chat (follow-ups are condensed with the history).")
    _retrieval_args(p, backend=True)
    p = add("eval", cmd_eval, "Score the assistant on a gold question set; `eval diff OLD NEW`; `eval generate`.")
    p.add_argument("action", nargs="*", help="nothing (run), `diff OLD NEW`, or `generate`")
    p.add_argument("--dataset", type=Path, default=Path(__file__).resolve().parent.parent / "evals" / "datasets" / "gold.jsonl",
                   help="JSONL gold set (default: evals/datasets/gold.jsonl)")
    p.add_argument("--backend", default=None, help="answer backend (default: PAPERS_LLM, auto)")
    p.add_argument("--compare", default=None, help="comma list of retrieval modes (bm25,dense,hybrid) and/or backends")
    p.add_argument("--judge", choices=["offline", "llm"], default="offline", help="faithfulness judge")
    p.add_argument("--out", type=Path, default=None, help="output dir (default: eval-runs/latest); with generate: the drafts file")
    p.add_argument("--force", action="store_true", help="overwrite an existing output dir")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument("--split", choices=["dev", "test", "all"], default="all",
                   help="dev (tune on it), test (frozen: report only) or all (default)")
    p.add_argument("-n", type=int, default=20, help="with generate: how many drafts")
    p = add("ui", cmd_ui, "Start the Streamlit chat UI in your browser (ingests first if needed).")
    p.add_argument("--port", type=int, default=None, help="port (default: PAPERS_UI_PORT)")
    p = add("serve", cmd_serve, "Serve an OpenAI-compatible HTTP API with cited answers (/v1/chat/completions, /docs).")
    p.add_argument("--host", default=None, help="address to listen on (default: PAPERS_SERVE_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: PAPERS_SERVE_PORT, 8000)")
    p.add_argument("--access-log", action="store_true", help="log one line per request (never the API key)")
    add("mcp", cmd_mcp, "Serve search_papers, ask_papers and summarize_topic as MCP tools over stdio.")
    add("config", cmd_config, "List every setting with its environment variable, default and current value.")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; Ctrl-C anywhere gives 130, a closed stdout pipe (`papers stats | head -1`) a quiet exit."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe must fail here, inside the handler, not at interpreter exit
        return code
    except KeyboardInterrupt:
        print("error: interrupted; the previous index (if any) is still the live one", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): point stdout at /dev/null so the final flush is silent too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what other Unix tools report


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except Exception as exc:  # pydantic ValidationError: name the variable, not a traceback
        print(f"error: invalid configuration: {str(exc).splitlines()[0]} ({_first_error(exc)})", file=sys.stderr)
        return 2
    try:
        return args.func(args, settings)
    except PapersError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        if type(exc).__module__.startswith("openai"):  # e.g. from the eval judge or the question drafter
            from assistant.llm import explain

            print(f"error: {explain(exc, settings)}", file=sys.stderr)
            return 2
        raise


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(map(str, first.get('loc', ())))}: {first.get('msg')}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
