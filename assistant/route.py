"""What kind of answer a question wants: a direct answer, a side-by-side comparison, or a subfield summary.

Detected from the wording alone (deterministic, microseconds), so the CLI, the UI, the HTTP API and the
evals route the same way; the caller can force a kind (``kind=`` on ``ask``/``stream``/``ChatSession``).
  ``summary``  "which papers in the collection deal with X?", "what work is there on X?", "give me an
               overview of X", "summarize the research on X", "list the papers about X".
  ``compare``  "compare A and B", "how does A differ from B?", "A versus B", "what do A and B have in
               common?", where A and B describe two works.
  ``answer``   everything else.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

KINDS = ("auto", "answer", "compare", "summary")

_OVERVIEW = re.compile(
    r"^\s*(?:please\s+)?(?:can you\s+|could you\s+)?(?:"
    r"(?:which|what)\s+(?:other\s+)?(?:papers|works|articles|studies|publications|research)\b(?!\s+(?:paper|work)\b)"
    r"|(?:give|show)\s+(?:me\s+)?(?:an?\s+)?(?:overview|survey|summary|list|rundown)\b"
    r"|(?:summari[sz]e|survey|overview)\b"
    r"|list\s+(?:all\s+)?(?:the\s+)?(?:papers|works|studies)\b"
    r"|(?:is|are)\s+there\s+(?:any\s+)?(?:other\s+)?(?:papers|works|studies)\b"
    r"|(?:what|how much)\s+(?:research|work)\s+(?:is there|exists|has been done)\b"
    r"|(?:what|which)\s+(?:does|do)\s+the\s+(?:collection|corpus)\s+(?:have|hold|contain)\b"
    r"|how many\s+papers\b"
    r"|(?:find|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:papers|work)\b)",
    re.IGNORECASE,
)
# "which papers ..." that ask for one finding of one work are not overviews
_SINGULAR = re.compile(r"\b(?:which|what)\s+(?:paper|work|article|study|method)\b", re.IGNORECASE)
_COMPARE = re.compile(
    r"\b(?:compare|compared|comparing|comparison|contrast|contrasting|versus|vs\.?|differ|differs|difference|"
    r"differences|distinguish|in common|similarities|similar to each other|relate to each other|both)\b",
    re.IGNORECASE,
)
_TOPIC_PREFIX = re.compile(
    r"^\s*(?:please\s+)?(?:can you\s+|could you\s+)?(?:"
    r"(?:which|what)\s+(?:other\s+)?(?:papers|works|articles|studies|publications|research)"
    r"(?:\s+(?:in|from)\s+(?:the|this|your)\s+(?:collection|corpus|library|index))?"
    r"(?:\s+(?:do you have|are there|is there|exist|exists))?"
    r"(?:\s+(?:deal|deals|dealing|are|is|work|works|focus|focuses|look|looks)\s+(?:with|on|about|at|into))?"
    r"(?:\s+(?:study|studies|address|addresses|discuss|discusses|cover|covers|investigate|investigates|"
    r"explore|explores|propose|proposes|tackle|tackles|examine|examines|concern|concerns|use|uses|apply|applies))?"
    r"|(?:give|show)\s+(?:me\s+)?(?:an?\s+)?(?:overview|survey|summary|list|rundown)\s+(?:of|on|about)"
    r"(?:\s+(?:the\s+)?(?:papers|work|research)\s+(?:on|about|in))?"
    r"|(?:summari[sz]e|survey|overview)(?:\s+(?:the|all)?\s*(?:papers|work|research|literature)\s+(?:on|about|in))?"
    r"|list\s+(?:all\s+)?(?:the\s+)?(?:papers|works|studies)\s+(?:on|about|that|which)"
    r"|(?:is|are)\s+there\s+(?:any\s+)?(?:other\s+)?(?:papers|works|studies)\s+(?:on|about|that|which)"
    r"|(?:what|how much)\s+(?:research|work)\s+(?:is there|exists|has been done)\s+(?:on|about|in)"
    r"|how many\s+papers\s+(?:are\s+)?(?:there\s+)?(?:on|about|deal with|study)"
    r"|(?:find|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:papers|work)\s+(?:on|about|that))\s*",
    re.IGNORECASE,
)


def question_kind(question: str) -> str:
    """``summary``, ``compare`` or ``answer`` for a question, from its wording."""
    if _COMPARE.search(question) and not _OVERVIEW.search(question):
        return "compare"
    if _OVERVIEW.search(question) and not _SINGULAR.search(question):
        return "summary"
    return "answer"


def overview_topic(question: str) -> str:
    """The topic of an overview question: "Which papers in the collection deal with X?" -> "X"."""
    topic = _TOPIC_PREFIX.sub("", question, count=1).strip().rstrip("?.! ")
    topic = re.sub(r"\s+(?:in|from)\s+(?:the|this|your)\s+(?:collection|corpus|library|index)$", "", topic,
                   flags=re.IGNORECASE)
    return topic if len(topic) >= 3 else question.strip()


def resolve_kind(question: str, kind: str | None) -> str:
    """The kind to answer with: the caller's forced kind, or the detected one for ``auto``/None."""
    if kind in (None, "", "auto"):
        return question_kind(question)
    if kind not in KINDS:
        from common.errors import PapersError

        raise PapersError(f"unknown answer kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind


def summary_steps(assistant: Any, question: str, query: str, backend: str) -> Iterator[str | Any]:
    """An overview question answered by the subfield-summary pipeline, as an answer stream: the summary's
    Markdown pieces as deltas, then an ``Answer`` of kind ``summary`` (``.summary`` holds the Summary;
    its citations and every paper it considered relevant are the answer's citations and sources)."""
    from assistant.answer import Answer
    from assistant.summary import summarize_stream

    stream = summarize_stream(assistant, overview_topic(query), backend=backend)
    yield from stream
    summary = stream.summary
    text = summary.overview if summary.abstained else "\n".join(
        [summary.overview] + [i.sentence for t in summary.themes for i in t.items])
    papers = sorted(summary.citations + summary.also_relevant, key=lambda c: c.n)
    sources = [{"n": c.n, "title": c.title, "paper_id": c.paper_id, "authors": c.authors, "date": c.date,
                "score": None, "dense": None, "author_match": False, "judgement": "relevant"} for c in papers]
    yield Answer(question=question, answer=text, abstained=summary.abstained, citations=list(summary.citations),
                 sources=sources, backend=summary.backend, mode="hybrid", notices=list(summary.notices),
                 timings_ms=dict(summary.timings_ms), kind="summary", summary=summary)
