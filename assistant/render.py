"""Plain-text/Markdown rendering of answers, shared by the CLI, chat export and the UI's export."""

from __future__ import annotations

from assistant.answer import Answer, Citation


def short_authors(authors: list[str], most: int = 4) -> str:
    return ", ".join(authors[:most]) + (" et al." if len(authors) > most else "")


def byline(c: Citation) -> str:
    """Authors, date and the paper's link (when the corpus gave one) of a cited paper."""
    return " · ".join(x for x in (short_authors(c.authors), c.date or "", c.url or "") if x)


def answer_markdown(answer: Answer) -> str:
    """The answer as Markdown: a summary renders as its themes, a comparison adds its table."""
    if getattr(answer, "kind", "answer") == "summary" and answer.summary is not None:
        return answer.summary.markdown()
    lines = [answer.answer]
    gap = getattr(answer, "gap", None)
    if gap:  # a caution line of its own under the answer (the terms are letters, digits and hyphens: no markup)
        lines += ["", f"> caution: {gap}."]
    if getattr(answer, "comparison", None):
        from assistant.compare import rows_markdown

        lines += ["", rows_markdown(answer.comparison)]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            extra = byline(c)
            lines.append(f"[{c.n}] {c.title}" + (f" — {extra}" if extra else ""))
    for notice in answer.notices:
        if notice != gap:
            lines.append(f"note: {notice}")
    return "\n".join(lines)


def answer_with_sources(answer: Answer) -> str:
    """The answer with its [n] markers, ending with a Markdown "Sources" list (for chat clients and agents
    that show only text)."""
    if not answer.citations:
        return answer.answer
    lines = [answer.answer, "", "**Sources**", ""]
    for c in answer.citations:
        extra = byline(c)
        lines.append(f"- [{c.n}] {c.title}" + (f" — {extra}" if extra else ""))
    return "\n".join(lines)
