"""Plain-text/Markdown rendering of answers, shared by the CLI, chat export and the UI's export."""

from __future__ import annotations

from assistant.answer import Answer, Citation


def byline(c: Citation) -> str:
    authors = ", ".join(c.authors[:4]) + (" et al." if len(c.authors) > 4 else "")
    return " · ".join(x for x in (authors, c.date or "") if x)


def answer_markdown(answer: Answer) -> str:
    lines = [answer.answer]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            extra = byline(c)
            lines.append(f"[{c.n}] {c.title}" + (f" — {extra}" if extra else ""))
    for notice in answer.notices:
        lines.append(f"note: {notice}")
    return "\n".join(lines)
