"""The LLM side of a summary, map-reduce so a small window suffices; every sentence is citation-checked.

Map: one sentence per paper of a theme on what it contributes, in batches that fit the backend's window,
checked against the batch's own abstracts. Reduce: one sentence per theme on what its papers do in common,
written from the themes' bullets and checked against the cited papers' abstracts.
"""

from __future__ import annotations

from typing import Any, Iterator

from assistant.citations import check_citations, cite
from assistant.retrieval import PaperHit
from assistant.text import citations_in, split_sentences, strip_citations

MAP_ABSTRACT_CHARS = 900  # per paper in a map prompt: the contribution is in the first sentences


def _map_prompt(topic: str, batch: list[tuple[int, PaperHit]]) -> str:
    from assistant.prompts import redact_instructions

    sources = "\n".join(f'<source id="{n}" title="{h.paper.title}">\n{redact_instructions(h.paper.abstract)[0][:MAP_ABSTRACT_CHARS]}\n</source>'
                        for n, h in batch)
    return (f"Sources:\n{sources}\n\nTopic: {topic}\nFor each source, write one sentence on what it contributes "
            "or finds (not its background), with its main number if it reports one, ending with its citation [n].")


def _budget(assistant: Any, backend: str) -> int:
    from assistant.llm import answer_tokens, context_window
    from assistant.prompts import SYSTEM_PROMPT
    from ingest.tokens import count_tokens

    return context_window(assistant.settings, backend) - answer_tokens(assistant.settings, backend) - 64 - count_tokens(SYSTEM_PROMPT)


def batches(assistant: Any, backend: str, topic: str, items: list[tuple[int, PaperHit]]) -> Iterator[list[tuple[int, PaperHit]]]:
    """Split a theme's papers so each map prompt fits the backend's window (small for the local model)."""
    from ingest.tokens import count_tokens

    budget = _budget(assistant, backend)
    batch: list[tuple[int, PaperHit]] = []
    for item in items:
        if batch and count_tokens(_map_prompt(topic, batch + [item])) > budget:
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def generate_sentences(assistant: Any, backend: str, topic: str, batch: list[tuple[int, PaperHit]]) -> dict[int, str]:
    """One LLM call for a batch; sentences are citation-checked against the batch's own abstracts."""
    from assistant.prompts import SYSTEM_PROMPT

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


def write_overview(assistant: Any, backend: str, topic: str, themes: list[Any], abstracts: dict[int, str]) -> list[str]:
    """Reduce: one checked sentence per theme on what its papers do in common ('' where none survived)."""
    from assistant.prompts import SYSTEM_PROMPT

    listing = "\n\n".join(f"Theme {i}: {t.name}\n" + "\n".join(f"- {it.sentence}" for it in t.items)
                          for i, t in enumerate(themes, start=1))
    prompt = (f"Topic: {topic}\n\n{listing}\n\nFor each theme, in order, write one sentence saying what its papers "
              "do in common, citing them with their [n]. One line per theme, starting with 'Theme i:'.")
    text = assistant.complete(backend, prompt, system=SYSTEM_PROMPT)
    sources = [abstracts.get(n, "") for n in range(1, max(abstracts, default=0) + 1)]
    out = []
    lines = {}
    for line in text.splitlines():
        head, _, body = line.partition(":")
        if head.strip().lower().startswith("theme") and head.strip()[5:].strip().isdigit():
            lines[int(head.strip()[5:].strip())] = body.strip()
    for i, t in enumerate(themes, start=1):
        own = {it.n for it in t.items}
        checked = check_citations(lines.get(i, ""), sources, assistant.settings.answer.min_support) if lines.get(i) else None
        good = [s for s in split_sentences(checked.text)] if checked else []
        good = [s for s in good if set(citations_in(s)) <= own]
        out.append(good[0] if good else "")
    return out
