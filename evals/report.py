"""Readable outputs of an eval run: report.md with the tables, and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

METRICS = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10", "citation_validity", "citation_precision",
           "citation_recall", "abstain_accuracy", "abstain_generic", "abstain_in_domain", "not_covered", "false_abstention",
           "facts_recall", "compare_cites_both", "faithfulness_sentence_support",
           "faithfulness_citation_precision", "llm_faithfulness", "summary_recall", "summary_precision",
           "summary_finding_bullets", "summary_theme_names_in_papers", "summary_abstained_3plus")


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return out


def write_markdown(report: dict[str, Any], out: Path) -> None:
    lines = ["# Eval report", "", f"Dataset: `{report['dataset']}` ({report['questions']} questions); judge: {report['judge']}.", ""]
    if report["unknown_gold_titles"]:
        lines += ["**Warning:** gold titles not in the index (scored as misses, listed here):", ""]
        lines += [f"- {qid}: {', '.join(t)}" for qid, t in report["unknown_gold_titles"].items()] + [""]
    for name, run in report["runs"].items():
        kinds = list(run["by_kind"])
        lines += [f"## Backend: {name}", ""]
        present = [m for m in METRICS if run["overall"].get(m) is not None or any(run["by_kind"][k].get(m) is not None for k in kinds)]
        lines += _table(["metric", "all"] + kinds, [[m, run["overall"].get(m)] + [run["by_kind"][k].get(m) for k in kinds] for m in present])
        cs = run["cost_speed"]
        lines += ["", "| stage | p50 ms | p95 ms |", "|---|---|---|"]
        lines += [f"| {s} | {_fmt(v['p50_ms'])} | {_fmt(v['p95_ms'])} |" for s, v in cs["latency"].items()]
        lines += ["", f"Tokens: {cs['prompt_tokens']} prompt, {cs['completion_tokens']} completion; estimated "
                  f"${cs['usd_per_1k_questions']} per 1k questions at ${cs['price_table']['input_per_1m']}/"
                  f"${cs['price_table']['output_per_1m']} per 1M input/output tokens.", ""]
    if report["retrieval_comparison"]:
        comp = report["retrieval_comparison"]
        lines += ["## Retrieval comparison (same questions)", "",
                  "`dense` is the plain llama-index quickstart (VectorStoreIndex, same embedder, default top-k=2); "
                  "`bm25` and `hybrid` are this project's retrievers.", ""]
        keys = ("hit@1", "hit@5", "recall@5", "recall@10", "mrr@10", "ndcg@10")
        lines += _table(["mode"] + list(keys), [[mode] + [comp[mode]["all"][k] for k in keys] for mode in comp])
        lines += ["", "![comparison](compare.png)", ""]
    lines += ["![metrics by kind](metrics_by_kind.png)", "", "![latency](latency.png)", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def write_plots(report: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = next(iter(report["runs"].values()))
    kinds = list(run["by_kind"])
    shown = ("recall@5", "mrr@10", "citation_precision", "abstain_accuracy")
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(shown)
    for i, m in enumerate(shown):
        vals = [run["by_kind"][k].get(m) or 0.0 for k in kinds]
        ax.bar([x + i * width for x in range(len(kinds))], vals, width, label=m)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(kinds))], kinds)
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics by question kind")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "metrics_by_kind.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([r["latency_ms"] for r in rows], bins=30)
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency distribution")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=100)
    plt.close(fig)

    comp = report["retrieval_comparison"]
    if comp:
        modes = list(comp)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for i, m in enumerate(("recall@5", "mrr@10")):
            ax.bar([x + i * 0.4 for x in range(len(modes))], [comp[mode]["all"][m] for mode in modes], 0.4, label=m)
        ax.set_xticks([x + 0.2 for x in range(len(modes))], modes)
        ax.set_ylim(0, 1.05)
        ax.set_title("Retrieval: baselines vs hybrid")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "compare.png", dpi=100)
        plt.close(fig)
