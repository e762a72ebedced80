"""Cited summaries of a whole subfield: gather every relevant paper, group them into named themes, summarize.

1. Gather (``assistant/gather.py``): a relevance bar fitted on dev overview questions, for short topics and
   long chat-style questions alike; ``breadth`` widens or narrows it; capped at ``max_papers`` (and says so).
2. Group and name (``assistant/themes.py``): k-means over the stored embeddings, each theme named by a 2-4
   word phrase from its own papers (class-based TF-IDF + an embedding check).
3. Write, map-reduce so a small window suffices: one line per paper on what it contributes or finds
   (``assistant/findings.py``: quoted for the extractive backend; generated and citation-checked for LLM
   backends, ``assistant/summary_llm.py``), then the overview: the count of papers and themes and one
   sentence per theme on what its papers do in common, with their citations (built from the contribution
   sentences offline, written by the LLM otherwise; every sentence citation-checked). Themes of up to
   ``TABLE_MAX`` papers get a side-by-side table (paper, problem, method, key result) of shortened quotes.
Citations are numbered over the gathered papers; kept papers a theme did not mention are "also relevant".
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from assistant.answer import Assistant, Citation, ResultStream, _citation
from assistant.citations import check_citations, cite
from assistant.findings import Finding, cell, find
from assistant.gather import candidates, gather, thresholds, topic_core  # noqa: F401  (candidates: evals and API)
from assistant.retrieval import PaperHit
from assistant.text import STOPWORDS, content_words
from assistant.themes import group
from common.errors import PapersError

PER_THEME = 10
TABLE_MAX = 8
_COUNT = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]


@dataclass
class ThemeItem:
    n: int
    title: str
    sentence: str


@dataclass
class TableRow:
    n: int
    title: str
    problem: str
    method: str
    result: str


@dataclass
class Theme:
    name: str
    items: list[ThemeItem]
    summary: str = ""  # one cited sentence on what the theme's papers do in common
    table: list[TableRow] = field(default_factory=list)  # side by side, for themes of up to TABLE_MAX papers

    def table_markdown(self) -> str:
        if not self.table:
            return ""
        esc = lambda s: s.replace("|", "\\|")  # noqa: E731
        rows = ["| paper | problem | method | key result |", "|---|---|---|---|"]
        rows += [f"| [{r.n}] {esc(r.title)} | {esc(r.problem)} | {esc(r.method)} | {esc(r.result)} |" for r in self.table]
        return "\n".join(rows)


@dataclass
class Summary:
    topic: str
    abstained: bool
    overview: str
    themes: list[Theme]
    citations: list[Citation]
    also_relevant: list[Citation]
    considered: int
    kept: int
    capped: bool
    backend: str
    notices: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    breadth: str = "normal"

    def markdown(self) -> str:
        lines = ["## Overview", "", self.overview, ""]
        for theme in self.themes:
            lines += theme_markdown(theme)
        if self.citations:
            lines += ["## Cited papers", ""] + [_listed(c) for c in self.citations] + [""]
        if self.also_relevant:
            lines += ["## Also relevant", ""] + [_listed(c) for c in self.also_relevant] + [""]
        lines += [f"note: {n}" for n in self.notices]
        return "\n".join(lines).strip()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for c in data["citations"] + data["also_relevant"]:
            c.pop("abstract", None)
        return data


def _listed(c: Citation) -> str:
    return f"[{c.n}] {c.title}" + (f" — {c.url}" if c.url else "")


def theme_markdown(theme: Theme) -> list[str]:
    lines = [f"## {theme.name}", ""] + [f"- {i.sentence}" for i in theme.items] + [""]
    if theme.table:
        lines += [theme.table_markdown(), ""]
    return lines


class SummaryStream(ResultStream):
    """Markdown pieces as they are written; ``.summary`` is set at the end."""

    @property
    def summary(self) -> Summary | None:
        return self.value


def _quote(sentences: list[str], n: int) -> str:
    return " ".join(cite(s, [n]) for s in sentences)


def _write_theme(assistant: Assistant, backend: str, topic: str, items: list[tuple[int, PaperHit]],
                 findings: dict[int, Finding]) -> list[ThemeItem]:
    """Map step: one cited line per paper (generated for LLM backends when the model states a finding, else quoted)."""
    from assistant.findings import is_finding

    generated: dict[int, str] = {}
    if backend != "extractive":
        from assistant.summary_llm import batches, generate_sentences

        for batch in batches(assistant, backend, topic, items):
            generated.update(generate_sentences(assistant, backend, topic, batch))
    out: list[ThemeItem] = []
    for n, h in items:
        sentence = generated.get(n)
        if sentence and not is_finding(sentence, h.paper.abstract) and findings[n].contribution:
            sentence = None  # the model paraphrased background; quote the contribution instead
        sentence = sentence or _quote(findings[n].line(), n)
        if sentence:
            out.append(ThemeItem(n=n, title=h.paper.title, sentence=sentence))
    return out


def _table(items: list[tuple[int, PaperHit]], findings: dict[int, Finding]) -> list[TableRow]:
    return [TableRow(n=n, title=h.paper.title, problem=cell(findings[n].problem),
                     method=cell(findings[n].contribution or findings[n].method), result=cell(findings[n].result))
            for n, h in items]


_VERBS = {"propose": "propose", "introduce": "propose", "present": "propose", "develop": "propose", "design": "propose",
          "study": "study", "investigate": "study", "explore": "study", "analyze": "study", "analyse": "study",
          "examine": "study", "revisit": "study", "show": "report findings on", "find": "report findings on"}
_PHRASES = {"propose": ("propose methods for", "proposes a method for"), "study": ("study", "studies"),
            "report findings on": ("report findings on", "reports findings on"), "work on": ("work on", "works on")}


def _common_sentence(theme: Theme, findings: dict[int, Finding], abstracts: dict[int, str]) -> str:
    """Extractive reduce: what the theme's papers do in common, built from their contribution sentences: the
    verb most of them use, the theme's name and a phrase their contributions share. Only papers whose
    abstracts support the claim are counted and cited (the citation check)."""
    from assistant.text import support

    name = theme.name if theme.name.split()[0].isupper() else theme.name[:1].lower() + theme.name[1:]
    ns = [i.n for i in theme.items if support(name, abstracts[i.n]) >= 0.5] or [theme.items[0].n]
    sentences = [findings[n].contribution or findings[n].result or "" for n in ns]
    verbs = Counter(v for s in sentences for w, v in _VERBS.items() if re.search(rf"\bwe (?:\w+ )?{w}", s, re.IGNORECASE))
    verb = _PHRASES[verbs.most_common(1)[0][0] if verbs else "work on"][0 if len(ns) > 1 else 1]
    shared = _shared_phrase(sentences, theme.name)
    count = _COUNT[len(ns)] if len(ns) < len(_COUNT) else str(len(ns))
    body = f"{count} paper{'s' if len(ns) != 1 else ''} {verb} {name}" + (f", several via {shared}" if shared else "")
    sources = [abstracts.get(n, "") for n in range(1, max(abstracts) + 1)]
    checked = check_citations(cite(f"{name} {shared}", ns), sources, 0.5)
    from assistant.text import citations_in

    return cite(body, citations_in(checked.text) or ns[:1])


def _shared_phrase(sentences: list[str], name: str) -> str:
    """A 2-3 word phrase that at least two contribution sentences share (beyond the theme name)."""
    if len(sentences) < 2:
        return ""
    grams: Counter[str] = Counter()
    forms: dict[str, str] = {}
    for s in sentences:
        words = re.findall(r"[A-Za-z][\w-]*", s)  # prose words only: a phrase with a capital is a name, not a shared idea
        seen = set()
        for size in (3, 2):
            for i in range(len(words) - size + 1):
                gram = words[i:i + size]
                low = " ".join(w.lower() for w in gram)
                if any(w.lower() in STOPWORDS for w in gram) or low in seen or low != " ".join(gram):
                    continue
                seen.add(low)
                forms.setdefault(low, " ".join(gram))
        grams.update(seen)
    taken = content_words(name)
    for low, c in grams.most_common():
        if c < 2:
            break
        if not content_words(low) <= taken and len(content_words(low)) >= 2:
            return forms[low]
    return ""


def overview_text(topic: str, themes: list[Theme], kept: int) -> str:
    head = (f"The corpus holds {kept} paper{'s' if kept != 1 else ''} on {topic_core(topic).rstrip('?.')}, "
            f"in {len(themes)} theme{'s' if len(themes) != 1 else ''}.")
    return " ".join([head] + [t.summary for t in themes if t.summary])


def summarize_stream(assistant: Assistant, topic: str, backend: str | None = None, max_papers: int | None = None,
                     on_done: Callable[[Summary], None] | None = None, breadth: str | None = None,
                     min_relevance: float | None = None) -> SummaryStream:
    topic = assistant.check_question(topic)
    backend = assistant.resolve(backend)
    max_papers = assistant.settings.answer.summary_max_papers if max_papers is None else max_papers
    breadth = breadth or assistant.settings.summary.summary_breadth
    if max_papers < 1:
        raise PapersError("--max-papers must be at least 1")
    thresholds(assistant, breadth, min_relevance)  # bad breadth or min-relevance: one clear error, before any work

    def steps() -> Iterator[str | Summary]:
        t0 = time.perf_counter()
        hits, considered, capped = gather(assistant, topic, max_papers, breadth, min_relevance)
        t_gather = time.perf_counter()
        if not hits:
            text = "The corpus has no papers on this topic: nothing relevant enough to summarize."
            yield text
            yield Summary(topic=topic, abstained=True, overview=text, themes=[], citations=[], also_relevant=[],
                          considered=considered, kept=0, capped=False, backend=backend, breadth=breadth,
                          timings_ms={"total": (time.perf_counter() - t0) * 1000})
            return
        numbered = {h.paper_id: n for n, h in enumerate(hits, start=1)}
        abstracts = {numbered[h.paper_id]: h.paper.abstract for h in hits}
        findings = {numbered[h.paper_id]: find(assistant, topic_core(topic), h.paper.abstract) for h in hits}
        themes: list[Theme] = []
        also: list[PaperHit] = []
        notices = [f"{considered} papers considered, {len(hits)} kept as relevant ({breadth} breadth)"]
        if capped:
            notices.append(f"capped at {max_papers} papers (--max-papers); more in the corpus match this topic")
        grouped = group(assistant, hits, topic_core(topic))
        t_group = time.perf_counter()
        for name, members in grouped:
            shown, rest = members[:PER_THEME], members[PER_THEME:]
            also.extend(rest)
            pairs = [(numbered[h.paper_id], h) for h in shown]
            items = _write_theme(assistant, backend, topic, pairs, findings)
            also.extend(h for h in shown if numbered[h.paper_id] not in {i.n for i in items})
            if not items:
                continue
            theme = Theme(name=name, items=items, table=_table(pairs, findings) if len(pairs) <= TABLE_MAX else [])
            theme.summary = _common_sentence(theme, findings, abstracts)
            themes.append(theme)
            yield "\n".join(theme_markdown(theme)) + "\n"
        if backend != "extractive" and themes:
            from assistant.summary_llm import write_overview

            for theme, sentence in zip(themes, write_overview(assistant, backend, topic, themes, abstracts)):
                theme.summary = sentence or theme.summary
        overview = overview_text(topic, themes, len(hits))
        yield f"## Overview\n\n{overview}\n\n"
        by_id = {h.paper_id: h for h in hits}
        cited_ns = sorted({i.n for t in themes for i in t.items})
        inv = {n: pid for pid, n in numbered.items()}
        end = time.perf_counter()
        summary = Summary(
            topic=topic, abstained=False, overview=overview, themes=themes,
            citations=[_citation(n, by_id[inv[n]]) for n in cited_ns],
            also_relevant=[_citation(numbered[h.paper_id], h) for h in also if numbered[h.paper_id] not in cited_ns],
            considered=considered, kept=len(hits), capped=capped, backend=backend, notices=notices, breadth=breadth,
            timings_ms={"gather": (t_gather - t0) * 1000, "group": (t_group - t_gather) * 1000,
                        "write": (end - t_group) * 1000, "total": (end - t0) * 1000},
        )
        yield summary

    return SummaryStream(steps(), on_done)


__all__ = ["Summary", "SummaryStream", "TableRow", "Theme", "ThemeItem", "candidates", "summarize_stream"]
