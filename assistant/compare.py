"""Comparison questions: find each described work, then set their problem, method and result side by side.

"How does the optimizer that tracks gradient uncertainty with a Kalman filter differ from the data
selection method based on optimal transport?" names no paper; each side is a description. The question
is split into its two descriptions, each is retrieved on its own, and the best paper of each (distinct)
becomes source [1] and [2]; the rest of the question's own retrieval follows. When the question cannot be
split, the two best papers of the whole question are compared.

Each paper gets a row {n, title, problem, method, result}. Cells are cited quotes of the paper's abstract
(sentence roles from ``assistant.roles``); with an LLM backend the model writes each cell in a few words,
and a cell its abstract does not support (``assistant.text.support``) falls back to the quote.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.citations import cite
from assistant.roles import role
from assistant.sides import split_sides
from assistant.text import content_words, split_sentences, strip_citations, support

if TYPE_CHECKING:
    from assistant.answer import Assistant
    from assistant.retrieval import Filters, PaperHit, RetrievalResult

COLUMNS = ("problem", "method", "result")
SIDE_DEPTH = 3  # candidates per described work
WHOLE_WEIGHT = 3.0  # weight of the whole question's retrieval score when choosing each side's paper among its own SIDE_DEPTH best (dev compare questions: 0.5 -> 26 of 28 pairs right, 3.0 -> 28 of 28)
def pick_pair(assistant: Assistant, question: str, k: int | None, mode: str | None,
              filters: Filters | None) -> tuple[RetrievalResult, list[tuple[str, list[PaperHit]]]] | None:
    """Retrieval for a comparison: each side's best paper first ([1], [2]), then the whole question's hits;
    with each described work and its own hits, in the order of [1] and [2] ([] when the question did not split).
    None when two distinct papers cannot be found (the caller answers it as an ordinary question)."""
    whole = assistant.retriever.retrieve(question, k=max(k or 0, SIDE_DEPTH * 2), mode=mode, filters=filters)
    in_whole = {h.paper_id: h for h in whole.hits}
    whole.hits = whole.hits[: k or assistant.settings.retrieval.top_k]
    described = split_sides(question)
    sides = [assistant.retriever.retrieve(side, k=SIDE_DEPTH, mode=mode, filters=filters).hits for side in described]
    chosen: list[PaperHit] = []
    if len(sides) == 2 and sides[0] and sides[1]:
        # each side's best paper, the whole question's ranking breaking near-ties (a pair compared in one
        # question usually shares its theme)
        def fit(h: PaperHit) -> float:
            return h.score + WHOLE_WEIGHT * (in_whole[h.paper_id].score if h.paper_id in in_whole else 0.0)

        pairs = [(a, b) for a in sides[0] for b in sides[1] if a.paper_id != b.paper_id]
        if pairs:
            chosen = list(max(pairs, key=lambda p: fit(p[0]) + fit(p[1])))
    matched = list(zip(described, sides)) if len(chosen) == 2 else []
    # as sources of the whole question, the pair carries the whole question's evidence (not its side's)
    chosen = [in_whole.get(h.paper_id) or replace(h, score=0.0, dense=None, bm25=None) for h in chosen]
    for h in whole.hits:  # unsplittable question, or a side found nothing new
        if len(chosen) >= 2:
            break
        if h.paper_id not in {c.paper_id for c in chosen}:
            chosen.append(h)
    if len(chosen) < 2:
        return None
    assistant.retriever.dense_scores(question, chosen)
    ids = {c.paper_id for c in chosen}
    hits = chosen + [h for h in whole.hits if h.paper_id not in ids]
    hits = hits[: max(len(whole.hits), 2)]
    best = max((h.dense for h in hits if h.dense is not None), default=0.0)
    return type(whole)(hits=hits, mode=whole.mode, best_dense=best, author_matched=whole.author_matched), matched


def _quote_cells(assistant: Assistant, side: str, text: str) -> dict[str, str]:
    """One quoted sentence per column: the contribution (or the best-matching background) states the
    problem, then the best method and result sentences, each used once."""
    sentences = split_sentences(text)
    roles = [role(s, i, len(sentences)) for i, s in enumerate(sentences)]
    words = content_words(side)

    def best(wanted: tuple[str, ...], used: set[int]) -> int | None:
        pool = [i for i, r in enumerate(roles) if r in wanted and i not in used and len(sentences[i]) > 30]
        return max(pool, key=lambda i: (sum(assistant.picker.idf(w) for w in words & content_words(sentences[i])),
                                         -i), default=None)

    used: set[int] = set()
    cells: dict[str, str] = {}
    for column, wanted in (("problem", ("contribution",)), ("result", ("result",)), ("method", ("method",)),
                           ("problem", ("background",))):
        if cells.get(column):
            continue
        i = best(wanted, used)
        if i is not None:
            used.add(i)
            cells[column] = sentences[i]
    return {c: cells.get(c, "") for c in COLUMNS}


_CELL_PROMPT = ("Source:\n{text}\n\nIn at most 15 words each, write three lines about this paper:\n"
                "Problem: <what it addresses>\nMethod: <how>\nResult: <what it found, with numbers>")


def _llm_cells(assistant: Assistant, backend: str, text: str, question: str) -> dict[str, str]:
    from assistant.prompts import SYSTEM_PROMPT

    try:
        reply = assistant.complete(backend, _CELL_PROMPT.format(text=text), system=SYSTEM_PROMPT)
    except Exception:  # a failing server leaves the quotes; the answer itself reports server errors
        return {}
    cells = {}
    for column in COLUMNS:
        m = re.search(rf"^\W*{column}\W*:\s*(.+)$", reply, re.IGNORECASE | re.MULTILINE)
        cell = strip_citations(m.group(1)).strip() if m else ""
        if cell and support(cell, text, question) >= assistant.settings.answer.min_support:
            cells[column] = cell
    return cells


def comparison_rows(assistant: Assistant, question: str, hits: list[PaperHit], texts: list[str],
                    backend: str) -> list[dict[str, Any]]:
    """A row per compared paper (the first two sources): n, title and cited problem/method/result cells."""
    sides = split_sides(question) or [question, question]
    rows = []
    for n, (hit, text, side) in enumerate(zip(hits[:2], texts[:2], sides), start=1):
        cells = _quote_cells(assistant, side, text)
        if backend != "extractive":
            cells.update(_llm_cells(assistant, backend, text, question))
        rows.append({"n": n, "title": hit.paper.title,
                     **{c: cite(cells[c], [n]) if cells.get(c) else "" for c in COLUMNS}})
    return rows


def rows_text(rows: list[dict[str, Any]]) -> str:
    """The extractive answer to a comparison: each paper's problem and result quotes, cited."""
    return " ".join(row[c] for row in rows for c in ("problem", "result") if row.get(c))


def rows_markdown(rows: list[dict[str, Any]]) -> str:
    """The comparison as a Markdown table (pipes in cells escaped)."""
    def cell(text: str) -> str:
        return re.sub(r"\s+", " ", text).replace("|", "\\|")

    lines = ["| paper | problem | method | result |", "|---|---|---|---|"]
    lines += [f"| [{r['n']}] {cell(r['title'])} | " + " | ".join(cell(r[c]) or "—" for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)
