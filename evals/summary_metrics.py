"""Summary-specific checks for ``subfield`` questions, reported by `papers eval`.

- papers covered (every paper the summary lists: cited in a theme or "also relevant") against gold:
  recall of gold titles, precision against gold + acceptable titles;
- share of bullets that state a contribution or result: each bullet's quoted or generated sentences are
  classified by ``assistant.roles`` (background / contribution / method / result; cue phrases, numbers and
  position in the abstract, see that module) where they stand in the cited abstract; a bullet counts when
  one of its sentences is a contribution or a result;
- share of theme names that occur as a phrase (case-insensitive) in their papers' titles or abstracts;
- abstentions on questions with at least three gold papers (should be none).
"""

from __future__ import annotations

from typing import Any

from assistant.findings import is_finding
from assistant.text import citations_in, split_sentences
from assistant.themes import name_in_papers


def summary_checks(summary: Any) -> dict[str, Any]:
    """Per-summary counts the eval aggregates (see the module docstring)."""
    abstracts = {c.n: c.abstract for c in summary.citations}
    titles = {c.n: c.title for c in summary.citations}
    bullets = finding = names_ok = 0
    for theme in summary.themes:
        bullets += len(theme.items)
        finding += sum(1 for item in theme.items
                       if any(is_finding(s, abstracts.get(item.n, "")) for s in split_sentences(item.sentence)))
        texts = [f"{titles[n]}. {abstracts[n]}" for n in {i.n for i in theme.items} if n in abstracts]
        names_ok += 1 if name_in_papers(theme.name, texts) else 0
    return {"covered": [c.title for c in summary.citations] + [c.title for c in summary.also_relevant],
            "bullets": bullets, "finding_bullets": finding, "themes": len(summary.themes), "names_in_papers": names_ok,
            "overview_cites": bool(citations_in(summary.overview))}


def score_summaries(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate ``summary_checks`` over result rows (only rows that carry one)."""
    rows = [r for r in rows if r.get("summary")]
    if not rows:
        return {}

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    recall, precision = [], []
    for r in rows:
        covered, gold = set(r["summary"]["covered"]), set(r["gold_titles"])
        ok = gold | set(r["acceptable_titles"])
        recall.append(len(covered & gold) / len(gold) if gold else 0.0)
        precision.append(len(covered & ok) / len(covered) if covered else 0.0)
    bullets = sum(r["summary"]["bullets"] for r in rows)
    themes = sum(r["summary"]["themes"] for r in rows)
    big = [r for r in rows if len(r["gold_titles"]) >= 3]
    return {
        "summary_recall": mean(recall), "summary_precision": mean(precision),
        "summary_finding_bullets": sum(r["summary"]["finding_bullets"] for r in rows) / bullets if bullets else None,
        "summary_theme_names_in_papers": sum(r["summary"]["names_in_papers"] for r in rows) / themes if themes else None,
        "summary_abstained_3plus": mean([1.0 if r["abstained"] else 0.0 for r in big]),
    }
