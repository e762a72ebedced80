"""Cited summaries of a whole subfield: gather every relevant paper, group them into themes, summarize.

1. Gather: hybrid retrieval wide (``GATHER_DEPTH`` papers), then keep papers above a relevance bar
   (dense cosine or keyword coverage, calibrated on the gold set's subfield questions), capped at
   ``max_papers`` by rank (and the summary says so).
2. Group: k-means over the papers' stored Chroma embeddings (k grows with the square root of the
   count, at most 5), named from each group's most distinctive title words (IDF-weighted).
3. Write, map-reduce so a small window suffices: each theme is written on its own (map: one key
   sentence per paper, quoted for the extractive backend, generated and citation-checked for LLM
   backends), then a short overview is composed from the themes (reduce) citing their papers.
Every sentence cites; citations are numbered over the gathered papers; kept papers a theme did not
mention are listed as "also relevant".
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from assistant.answer import Assistant, Citation, ResultStream, _citation
from assistant.citations import check_citations, cite
from common.errors import PapersError
from assistant.retrieval import PaperHit
from assistant.text import content_words

GATHER_DEPTH = 60
MAX_THEMES = 5
PER_THEME = 10
MAP_ABSTRACT_CHARS = 900  # per paper in a map prompt: the contribution is in the first sentences


@dataclass
class ThemeItem:
    n: int
    title: str
    sentence: str


@dataclass
class Theme:
    name: str
    items: list[ThemeItem]


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

    def markdown(self) -> str:
        lines = ["## Overview", "", self.overview, ""]
        for theme in self.themes:
            lines += [f"## {theme.name}", ""] + [f"- {i.sentence}" for i in theme.items] + [""]
        if self.citations:
            lines += ["## Cited papers", ""] + [f"[{c.n}] {c.title}" for c in self.citations] + [""]
        if self.also_relevant:
            lines += ["## Also relevant", ""] + [f"[{c.n}] {c.title}" for c in self.also_relevant] + [""]
        lines += [f"note: {n}" for n in self.notices]
        return "\n".join(lines).strip()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for c in data["citations"] + data["also_relevant"]:
            c.pop("abstract", None)
        return data


class SummaryStream(ResultStream):
    """Markdown pieces as they are written; ``.summary`` is set at the end."""

    @property
    def summary(self) -> Summary | None:
        return self.value


def candidates(assistant: Assistant, topic: str) -> list[tuple[PaperHit, float]]:
    """The papers a summary considers, in rank order, each with its keyword coverage of the topic
    (``hit.dense`` holds its embedding similarity): the signals the relevance bar is calibrated on."""
    result = assistant.retriever.retrieve_wide(topic, k=GATHER_DEPTH)
    assistant.retriever.dense_scores(topic, result.hits)
    return [(h, assistant.picker.coverage(topic, [f"{h.paper.title} {h.paper.abstract}"])) for h in result.hits]


def gather(assistant: Assistant, topic: str, max_papers: int) -> tuple[list[PaperHit], int, bool]:
    """Relevant papers in rank order, how many were considered, and whether the cap cut some off."""
    cfg = assistant.settings.answer
    considered = candidates(assistant, topic)
    kept = [h for h, cov in considered
            if h.author_match or (h.dense or 0.0) >= cfg.summary_min_relevance or cov >= cfg.summary_min_coverage]
    return kept[:max_papers], len(considered), len(kept) > max_papers


def _kmeans(vectors: list[list[float]], k: int, rounds: int = 20) -> list[int]:
    """Deterministic k-means (farthest-point initialisation) on normalised vectors."""
    def dist(a: list[float], b: list[float]) -> float:
        return sum((x - y) ** 2 for x, y in zip(a, b))

    centers = [vectors[0]]
    while len(centers) < k:
        centers.append(max(vectors, key=lambda v: min(dist(v, c) for c in centers)))
    labels = [0] * len(vectors)
    for _ in range(rounds):
        new = [min(range(k), key=lambda c: dist(v, centers[c])) for v in vectors]
        if new == labels and _ > 0:
            break
        labels = new
        for c in range(k):
            members = [v for v, lab in zip(vectors, labels) if lab == c]
            if members:
                centers[c] = [sum(col) / len(members) for col in zip(*members)]
    return labels


def group(assistant: Assistant, hits: list[PaperHit], topic: str) -> list[tuple[str, list[PaperHit]]]:
    if not hits:
        return []
    k = max(1, min(MAX_THEMES, round(math.sqrt(len(hits) / 2))))
    chunks = assistant.retriever.paper_vectors([h.paper_id for h in hits])
    dim = len(next(iter(chunks.values()))[0]) if chunks else 0
    vecs = [[sum(col) / len(chunks[h.paper_id]) for col in zip(*chunks[h.paper_id])] if h.paper_id in chunks else [0.0] * dim
            for h in hits]
    labels = _kmeans(vecs, k) if k > 1 else [0] * len(hits)
    groups: dict[int, list[PaperHit]] = {}
    for h, lab in zip(hits, labels):
        groups.setdefault(lab, []).append(h)
    ordered = sorted(groups.values(), key=lambda g: hits.index(g[0]))  # themes in order of their best paper
    return [(theme_name(assistant, g, topic), g) for g in ordered]


def theme_name(assistant: Assistant, papers: list[PaperHit], topic: str) -> str:
    """The group's distinctive words: in many of its papers, rare in the corpus, not the topic's own words.

    A group of one or two papers is named after its best paper's short title instead (too few papers
    for word statistics to mean anything).
    """
    import re

    if len(papers) <= 2:
        title = papers[0].paper.title
        return title.split(":")[0].strip() if ":" in title else " ".join(title.split()[:6])

    from assistant.text import STOPWORDS, stem

    skip = content_words(topic)
    in_papers: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    for h in papers:
        seen = set()
        for word in re.findall(r"[A-Za-z]{4,}", f"{h.paper.title} {h.paper.abstract}"):
            low = word.lower()
            if low in STOPWORDS:
                continue
            st = stem(low)
            if st in skip:
                continue
            surface.setdefault(st, Counter())[low if not word.isupper() else word] += 1
            seen.add(st)
        in_papers.update(seen)
    need = min(2, len(papers))
    ranked = sorted((w for w in in_papers if in_papers[w] >= need),
                    key=lambda w: (-(in_papers[w] / len(papers)) * assistant.picker.idf(w), w))
    words = [surface[w].most_common(1)[0][0] for w in ranked[:3]]
    return (" · ".join(words) or "other work").capitalize()


def _map_prompt(topic: str, batch: list[tuple[int, PaperHit]]) -> str:
    from assistant.prompts import redact_instructions

    sources = "\n".join(f'<source id="{n}" title="{h.paper.title}">\n{redact_instructions(h.paper.abstract)[0][:MAP_ABSTRACT_CHARS]}\n</source>'
                        for n, h in batch)
    return (f"Sources:\n{sources}\n\nTopic: {topic}\nFor each source, write one sentence on what it contributes "
            "to the topic, ending with its citation [n].")


def _batches(assistant: Assistant, backend: str, topic: str, items: list[tuple[int, PaperHit]]) -> Iterator[list[tuple[int, PaperHit]]]:
    """Split a theme's papers so each map prompt fits the backend's window (small for the local model)."""
    from assistant.llm import answer_tokens, context_window
    from assistant.prompts import SYSTEM_PROMPT
    from ingest.chunk import count_tokens

    budget = context_window(assistant.settings, backend) - answer_tokens(assistant.settings, backend) - 64 - count_tokens(SYSTEM_PROMPT)
    batch: list[tuple[int, PaperHit]] = []
    for item in items:
        if batch and count_tokens(_map_prompt(topic, batch + [item])) > budget:
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def _generate_sentences(assistant: Assistant, backend: str, topic: str, batch: list[tuple[int, PaperHit]]) -> dict[int, str]:
    """One LLM call for a batch; sentences are citation-checked against the batch's own abstracts."""
    from assistant.prompts import SYSTEM_PROMPT
    from assistant.text import citations_in, split_sentences, strip_citations

    text = assistant.complete(backend, _map_prompt(topic, batch), system=SYSTEM_PROMPT)
    # the model cites with the global numbers it was shown; map them onto positions 1..m for the checker
    numbers = [n for n, _ in batch]
    local_text = text
    for pos, n in enumerate(numbers, start=1):
        local_text = local_text.replace(f"[{n}]", f"[#{pos}]")
    local_text = local_text.replace("[#", "[")
    checked = check_citations(local_text, [h.paper.abstract for _, h in batch], assistant.settings.answer.min_support)
    out: dict[int, str] = {}
    for sentence in split_sentences(checked.text):
        cited = citations_in(sentence)
        if cited:
            n = numbers[cited[0] - 1]
            out.setdefault(n, cite(strip_citations(sentence), [n]))
    return out


def _write_theme(assistant: Assistant, backend: str, topic: str, items: list[tuple[int, PaperHit]]) -> list[ThemeItem]:
    """Map step: one cited sentence per paper of one theme (generated for LLM backends, else quoted)."""
    sentences: dict[int, str] = {}
    if backend != "extractive":
        for batch in _batches(assistant, backend, topic, items):
            sentences.update(_generate_sentences(assistant, backend, topic, batch))
    out: list[ThemeItem] = []
    for n, h in items:
        if n not in sentences:  # extractive, or the model skipped this paper: quote its key sentence
            best = assistant.picker.best_sentence(topic, h.paper.abstract)
            if best:
                sentences[n] = cite(best, [n])
        if n in sentences:
            out.append(ThemeItem(n=n, title=h.paper.title, sentence=sentences[n]))
    return out


def _overview(topic: str, themes: list[Theme], kept: int) -> str:
    """Reduce step: one paragraph naming each theme with the papers it cites."""
    parts = []
    for t in themes:
        refs = "".join(f"[{i.n}]" for i in t.items)
        parts.append(f"{t.name.lower()} {refs}")
    plural = "theme" if len(themes) == 1 else "themes"
    return f"The corpus holds {kept} paper{'s' if kept != 1 else ''} on {topic.rstrip('?.')}, in {len(themes)} {plural}: " + "; ".join(parts) + "."


def summarize_stream(assistant: Assistant, topic: str, backend: str | None = None, max_papers: int | None = None,
                     on_done: Callable[[Summary], None] | None = None) -> SummaryStream:
    topic = assistant.check_question(topic)
    backend = assistant.resolve(backend)
    max_papers = assistant.settings.answer.summary_max_papers if max_papers is None else max_papers
    if max_papers < 1:
        raise PapersError("--max-papers must be at least 1")

    def steps() -> Iterator[str | Summary]:
        t0 = time.perf_counter()
        hits, considered, capped = gather(assistant, topic, max_papers)
        if not hits:
            text = "The corpus has no papers on this topic: nothing relevant enough to summarize."
            yield text
            yield Summary(topic=topic, abstained=True, overview=text, themes=[], citations=[], also_relevant=[],
                          considered=considered, kept=0, capped=False, backend=backend,
                          timings_ms={"total": (time.perf_counter() - t0) * 1000})
            return
        numbered = {h.paper_id: n for n, h in enumerate(hits, start=1)}
        themes: list[Theme] = []
        also: list[PaperHit] = []
        notices = [f"{considered} papers considered, {len(hits)} kept as relevant"]
        if capped:
            notices.append(f"capped at {max_papers} papers (--max-papers); more in the corpus match this topic")
        for name, members in group(assistant, hits, topic):
            shown, rest = members[:PER_THEME], members[PER_THEME:]
            also.extend(rest)
            items = _write_theme(assistant, backend, topic, [(numbered[h.paper_id], h) for h in shown])
            also.extend(h for h in shown if numbered[h.paper_id] not in {i.n for i in items})
            theme = Theme(name=name, items=items)
            if items:
                themes.append(theme)
                yield f"## {name}\n\n" + "\n".join(f"- {i.sentence}" for i in items) + "\n\n"
        overview = _overview(topic, themes, len(hits))
        yield f"## Overview\n\n{overview}\n\n"
        by_id = {h.paper_id: h for h in hits}
        cited_ns = sorted({i.n for t in themes for i in t.items})
        inv = {n: pid for pid, n in numbered.items()}
        summary = Summary(
            topic=topic, abstained=False, overview=overview, themes=themes,
            citations=[_citation(n, by_id[inv[n]]) for n in cited_ns],
            also_relevant=[_citation(numbered[h.paper_id], h) for h in also if numbered[h.paper_id] not in cited_ns],
            considered=considered, kept=len(hits), capped=capped, backend=backend, notices=notices,
            timings_ms={"total": (time.perf_counter() - t0) * 1000},
        )
        yield summary

    return SummaryStream(steps(), on_done)
