"""``papers eval``: run the gold set through the public API, score it, write results and reports."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

import assistant
from assistant.api import corpus_papers
from assistant.api import llm as backend_llm
from common.errors import PapersError
from common.settings import Settings
from evals import metrics as M
from evals.dataset import KINDS, Question, load_dataset, select_split, unknown_titles
from evals.judge import llm_faithfulness, offline_faithfulness
from evals.summary_metrics import score_summaries, summary_checks

RETRIEVAL_COMPARE = ("bm25", "dense", "hybrid", "dense-chroma")


@dataclass
class Options:
    dataset: Path
    out: Path
    backend: str | None = None
    compare: list[str] = field(default_factory=list)
    judge: str = "offline"
    force: bool = False
    limit: int | None = None
    progress: bool = True
    split: str = "all"  # dev, test (frozen: report, never tune) or all


def _display_path(path: Path) -> str:
    """Relative to the working directory when inside it, so reports read the same on every machine."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def prepare_out(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            raise PapersError(f"output dir {out} already exists: pass --force to overwrite it or choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def answer_question(q: Question, settings: Settings, backend: str | None) -> Any:
    """Follow-ups and overview questions go through the chat, as a user types them; the rest through ``ask``."""
    if q.kind in ("followup", "overview"):
        chat = assistant.chat_session(settings=settings, backend=backend)
        for turn in q.history:
            chat.ask(turn)
        return chat.ask(q.question)
    return assistant.ask(q.question, settings=settings, backend=backend)


def _text(answer: Any) -> str:
    text = getattr(answer, "answer", None)
    return text if isinstance(text, str) else answer.markdown()


def _faith_dicts(faith: Any, llm_faith: Any) -> dict[str, Any]:
    return {
        "faithfulness": None if faith is None else {"sentences": faith.sentences, "supported": faith.supported,
                                                    "citations": faith.citations, "supporting": faith.supporting_citations},
        "llm_faithfulness": None if llm_faith is None else {"sentences": llm_faith.sentences, "supported": llm_faith.supported,
                                                            "unjudged": llm_faith.unjudged},
    }


def summary_row(q: Question, settings: Settings, backend: str | None) -> dict[str, Any]:
    """Subfield questions are scored on the summary path: every paper it cites, against gold."""
    started = time.perf_counter()
    summary = assistant.summarize(q.question, settings=settings, backend=backend)
    latency = (time.perf_counter() - started) * 1000
    text = " ".join(i.sentence for t in summary.themes for i in t.items)
    cited = {c.n: c.abstract for c in summary.citations}
    faith = offline_faithfulness(text, cited) if not summary.abstained else None
    return {"answer": summary.markdown(), "abstained": summary.abstained, "citations": [c.title for c in summary.citations],
            "sources": [c.title for c in summary.citations] + [c.title for c in summary.also_relevant],
            "latency_ms": round(latency, 1), "stage_ms": {"total": round(latency, 1)},
            "tokens": {"prompt_tokens": 0, "completion_tokens": 0}, "faith": faith, "backend": summary.backend,
            "notices": summary.notices, "cited_text": (text, cited), "summary": summary_checks(summary)}


def run_one(q: Question, settings: Settings, backend: str | None, judge_llm: Any) -> dict[str, Any]:
    if q.kind == "subfield":
        s = summary_row(q, settings, backend)
        ranked = [h.paper.title for h in assistant.retrieve(q.question, settings=settings, k=10).hits]
        llm_faith = llm_faithfulness(*s["cited_text"], judge_llm) if judge_llm and not s["abstained"] else None
        faith = s.pop("faith")
        s.pop("cited_text")
        return {"id": q.id, "question": q.question, "kind": q.kind, "ranked10": ranked, **s,
                "gold_titles": q.gold_titles, "acceptable_titles": q.acceptable_titles, **_faith_dicts(faith, llm_faith)}
    started = time.perf_counter()
    answer = answer_question(q, settings, backend)
    latency = (time.perf_counter() - started) * 1000
    query = getattr(answer, "standalone_question", None) or q.question
    ranked = [h.paper.title for h in assistant.retrieve(query, settings=settings, k=10).hits]
    cited = {c.n: c.abstract for c in answer.citations}
    text = _text(answer)
    faith = offline_faithfulness(text, cited) if not answer.abstained else None
    llm_faith = llm_faithfulness(text, cited, judge_llm) if judge_llm and not answer.abstained else None
    titles = [c.title for c in answer.citations]
    sources = getattr(answer, "sources", None)
    return {
        "id": q.id, "question": q.question, "kind": q.kind, "answer": text, "abstained": answer.abstained,
        "status": getattr(answer, "status", "abstained" if answer.abstained else "answered"),
        "abstain_kind": q.abstain_kind, "facts_recall": None if answer.abstained else M.facts_recall(text, q.facts),
        "facts": q.facts, "cites_both": M.cites_all(titles, q.gold_titles) if q.kind == "compare" else None,
        "citations": titles, "sources": titles if sources is None else [s["title"] for s in sources],
        "ranked10": ranked, "latency_ms": round(latency, 1),
        "stage_ms": {k: round(v, 1) for k, v in getattr(answer, "timings_ms", {"total": latency}).items()},
        "tokens": getattr(answer, "usage", {"prompt_tokens": 0, "completion_tokens": 0}),
        "gold_titles": q.gold_titles, "acceptable_titles": q.acceptable_titles, **_faith_dicts(faith, llm_faith),
        "backend": answer.backend, "notices": answer.notices,
    }


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics for a set of result rows (one kind, or all)."""
    answerable = [r for r in rows if r["kind"] != "abstain"]
    abstain = [r for r in rows if r["kind"] == "abstain"]
    out: dict[str, Any] = {"n": len(rows)}
    if answerable:
        gold = lambda r: set(r["gold_titles"])  # noqa: E731
        out.update({
            "hit@1": M.mean(M.hit_at(r["ranked10"], gold(r), 1) for r in answerable),
            "hit@5": M.mean(M.hit_at(r["ranked10"], gold(r), 5) for r in answerable),
            "recall@5": M.mean(M.recall_at(r["ranked10"], gold(r), 5) for r in answerable),
            "recall@10": M.mean(M.recall_at(r["ranked10"], gold(r), 10) for r in answerable),
            "mrr@10": M.mean(M.mrr_at(r["ranked10"], gold(r), 10) for r in answerable),
            "ndcg@10": M.mean(M.ndcg_at(r["ranked10"], gold(r), 10) for r in answerable),
            "citation_precision": M.mean(M.citation_precision(r["citations"], gold(r), set(r["acceptable_titles"])) for r in answerable),
            "citation_recall": M.mean(M.citation_recall(r["citations"], gold(r)) for r in answerable),
            "false_abstention": M.mean(1.0 if r["abstained"] else 0.0 for r in answerable),
        })
    out["citation_validity"] = M.mean(M.citation_validity(r["citations"], r["sources"]) for r in rows)
    if abstain:
        out["abstain_accuracy"] = M.mean(1.0 if r["abstained"] else 0.0 for r in abstain)
        for kind in ("generic", "in_domain"):  # "not directly covered" counts as abstained
            sub = [r for r in abstain if r.get("abstain_kind") == kind]
            if sub:
                out[f"abstain_{kind}"] = M.mean(1.0 if r["abstained"] else 0.0 for r in sub)
    facts = [r for r in rows if r.get("facts")]
    if facts:  # an abstention states no fact: it scores 0
        out["facts_recall"] = M.mean(r["facts_recall"] or 0.0 for r in facts)
    compare = [r for r in rows if r["kind"] == "compare"]
    if compare:
        out["compare_cites_both"] = M.mean(1.0 if r["cites_both"] else 0.0 for r in compare)
    if any("status" in r for r in rows):
        out["not_covered"] = M.mean(1.0 if r.get("status") == "not_covered" else 0.0 for r in rows)
    faith = [r["faithfulness"] for r in rows if r["faithfulness"]]
    if faith:
        out["faithfulness_sentence_support"] = _ratio(sum(f["supported"] for f in faith), sum(f["sentences"] for f in faith))
        out["faithfulness_citation_precision"] = _ratio(sum(f["supporting"] for f in faith), sum(f["citations"] for f in faith))
    out.update(score_summaries(rows))
    llm = [r["llm_faithfulness"] for r in rows if r["llm_faithfulness"]]
    if llm:
        judged = sum(f["sentences"] - f["unjudged"] for f in llm)
        out["llm_faithfulness"] = _ratio(sum(f["supported"] for f in llm), judged)
        out["llm_unjudged"] = sum(f["unjudged"] for f in llm)
    return out


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def cost_and_speed(rows: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    stages = {}
    for stage in ("retrieve", "generate", "total"):
        vals = [r["stage_ms"].get(stage, 0.0) for r in rows]
        stages[stage] = {"p50_ms": M.percentile(vals, 50), "p95_ms": M.percentile(vals, 95)}
    prompt = sum(r["tokens"]["prompt_tokens"] for r in rows)
    completion = sum(r["tokens"]["completion_tokens"] for r in rows)
    n = max(len(rows), 1)
    price = (prompt * settings.eval.price_input_per_1m + completion * settings.eval.price_output_per_1m) / 1e6
    return {"latency": stages, "prompt_tokens": prompt, "completion_tokens": completion,
            "usd_per_1k_questions": round(price / n * 1000, 4),
            "price_table": {"input_per_1m": settings.eval.price_input_per_1m, "output_per_1m": settings.eval.price_output_per_1m}}


def compare_retrieval(questions: list[Question], settings: Settings, modes: list[str], progress: bool) -> dict[str, Any]:
    """Retrieval metrics per mode on the same questions; ``dense`` is the llama-index quickstart baseline."""
    from evals.baseline import QuickstartBaseline

    table: dict[str, Any] = {}
    answerable = [q for q in questions if q.answerable and q.kind != "followup"]
    for mode in modes:
        if mode == "dense":
            baseline = QuickstartBaseline(settings)
            rank = baseline.ranked
        else:
            real = "dense" if mode == "dense-chroma" else mode
            rank = lambda text, m=real: [h.paper.title for h in assistant.retrieve(text, settings=settings, k=10, mode=m).hits]  # noqa: E731
        rows = []
        for q in tqdm(answerable, desc=f"Compare {mode}", disable=not progress):
            rows.append({"kind": q.kind, "ranked10": rank(q.question), "gold_titles": q.gold_titles, "acceptable_titles": q.acceptable_titles,
                         "citations": [], "sources": [], "abstained": False, "faithfulness": None, "llm_faithfulness": None})
        keys = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10")
        table[mode] = {"all": {k: score(rows)[k] for k in keys}}
        for kind in KINDS:
            sub = [r for r in rows if r["kind"] == kind]
            if sub:
                table[mode][kind] = {k: score(sub)[k] for k in keys}
    return table


def run_eval(opts: Options, settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    questions = select_split(load_dataset(opts.dataset), opts.split)
    if opts.limit:
        questions = questions[: opts.limit]
    prepare_out(opts.out, opts.force)
    titles = {p.title for p in corpus_papers(settings)}
    missing = unknown_titles(questions, titles)
    judge_llm = backend_llm("openai", settings) if opts.judge == "llm" else None
    retrieval_modes = [m for m in opts.compare if m in RETRIEVAL_COMPARE]
    backends = [b for b in opts.compare if b not in RETRIEVAL_COMPARE] or [opts.backend]
    unknown = [b for b in backends if b not in (None, "auto", "openai", "local", "extractive")]
    if unknown:
        raise PapersError(f"unknown --compare item(s) {', '.join(unknown)}: use {', '.join(RETRIEVAL_COMPARE)} or a backend name")
    runs: dict[str, Any] = {}
    all_rows: dict[str, list[dict[str, Any]]] = {}
    for backend in backends:
        rows = [run_one(q, settings, backend, judge_llm)
                for q in tqdm(questions, desc=f"Eval {backend or 'default'}", disable=not opts.progress)]
        name = rows[0]["backend"] if rows else (backend or "default")
        all_rows[name] = rows
        runs[name] = {"overall": score(rows), "by_kind": {k: score([r for r in rows if r["kind"] == k]) for k in KINDS
                                                         if any(r["kind"] == k for r in rows)},
                      "cost_speed": cost_and_speed(rows, settings)}
    report = {
        "dataset": _display_path(opts.dataset), "split": opts.split, "questions": len(questions), "judge": opts.judge,
        "unknown_gold_titles": missing,
        "settings": {"retrieval": settings.retrieval.model_dump(), "top_k": settings.retrieval.top_k},
        "runs": runs,
        "retrieval_comparison": compare_retrieval(questions, settings, retrieval_modes, opts.progress) if retrieval_modes else {},
    }
    primary = next(iter(all_rows))
    with open(opts.out / "results.jsonl", "w", encoding="utf-8") as fh:
        for name, rows in all_rows.items():
            for r in rows:
                line = {k: r[k] for k in ("id", "question", "kind", "answer", "abstained", "citations", "sources", "latency_ms", "tokens")}
                line.update({k: r[k] for k in ("status", "facts_recall", "cites_both") if k in r})
                line.update(backend=name, ranked10=r["ranked10"], gold_titles=r["gold_titles"], faithfulness=r["faithfulness"],
                            summary=r.get("summary"))
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    (opts.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    from evals.report import write_markdown, write_plots

    write_plots(report, all_rows[primary], opts.out)
    write_markdown(report, opts.out)
    return report
