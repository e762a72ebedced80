"""What kind of answer a question wants: a direct answer, a side-by-side comparison, or a subfield summary.

Detected from the wording alone (deterministic, microseconds), so the CLI, the UI, the HTTP API and the
evals route the same way; the caller can force a kind (``kind=`` on ``ask``/``stream``/``ChatSession``).
  ``summary``  "which papers in the collection deal with X?", "what work is there on X?", "give me an
               overview of X", "summarize the research on X", "list the papers about X", and the plain-chat
               requests for literature: "anything in the library on X?", "what's out there about X?", "I'm
               looking for work on X", "give me the papers about X", "has anyone here looked at X?",
               "show me what you have on X", "any research in here on X?", "X: what's in the collection?".
  ``compare``  "compare A and B", "how does A differ from B?", "A versus B", "what do A and B have in
               common?", "which works better for Z, A or B?", where A and B describe two works.
  ``answer``   everything else.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

KINDS = ("auto", "answer", "compare", "summary")

_WORKS = r"(?:papers|works|articles|studies|publications|research|literature|work)"
_HERE = r"(?:in|from)\s+(?:the|this|your|our)\s+(?:collection|corpus|library|index|database)|\bhere\b|\b(?:we|you)\s+have\b"
_OVERVIEW = re.compile(
    r"^\s*(?:please\s+)?(?:can you\s+|could you\s+)?(?:"
    r"(?:which|what)\s+(?:other\s+)?(?:papers|articles|studies|publications)\b"
    r"|(?:which|what)\s+(?:research|works|work)\b(?!\s+(?:best|well|better)\b)(?=.*(?:" + _HERE + r"|\b(?:on|about)\b))"
    r"|which\s+works\s+(?!(?:best|well|better|worse|most|for|on|in|with|when|if)\b)[a-z]+"
    r"|(?:give|show)\s+(?:me\s+)?(?:an?\s+|the\s+)?(?:overview|survey|summary|list|rundown|landscape|lay of the land|big picture)\b"
    r"|(?:summari[sz]e|survey|overview)\b"
    r"|list\s+(?:all\s+)?(?:the\s+)?" + _WORKS + r"\b"
    r"|(?:is|are)\s+there\s+(?:any\s+)?(?:other\s+)?" + _WORKS + r"\b"
    r"|what(?:'s|\s+is|\s+has|\s+have)\s+been\s+(?:done|published|written|proposed|studied)\b"
    r"|what(?:'s|\s+is)\s+(?:there\s+)?(?:in|on)\s+(?:the|this|your|our)\s+(?:collection|corpus|library)\b"
    r"|what\s+(?:do|does)\s+(?:we|you|the\s+(?:collection|corpus|library))\s+(?:have|hold|contain)\b"
    r"|how\s+many\s+(?:papers|works|studies)\b"
    r"|what\s+(?:does|do)\s+(?:this|the|your|our)\s+(?:collection|corpus|library)\s+(?:say|tell|know)\b"
    r"|.*\b(?:are|is)\s+covered\b"
    r"|(?:find|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:papers|work)\b)",
    re.IGNORECASE,
)
# Plain-chat requests for literature: a request head (asking for works, for "anything", for what the
# collection holds, for whether anyone studied something) followed by the topic. Each head is a form of
# asking for a set of works, not wording of any one question; none can start a question about one finding.
_ANY_WORKS = r"(?:the\s+|some\s+|all\s+(?:the\s+)?|any\s+|a\s+few\s+|relevant\s+|good\s+)?" + _WORKS
_REQUEST = re.compile(
    r"^\s*(?:(?:hi|hey|hello|ok|okay|so)\b[,!.]?\s*)?(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:"
    r"(?:is\s+there\s+|do\s+(?:we|you)\s+have\s+|(?:have\s+)?(?:you|we)?\s*got\s+)?(?:anything|something)\b(?=.*\b(?:on|about|regarding|concerning|related\s+to)\b)"
    r"|what(?:'s|\s+is)\s+out\s+there\b"
    r"|(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:(?:looking|searching)\s+for|after)\s+(?:" + _ANY_WORKS + r"|anything|something|references|reading)\b"
    r"|(?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:new\s+to|getting\s+into)\b"
    r"|(?:i|we)\s+(?:need|want|would\s+like|'d\s+like)\s+(?:to\s+(?:see|read|find)\s+)?(?:" + _ANY_WORKS + r"|(?:some\s+|more\s+)?(?:references|reading))\b"
    r"|(?:give|show|find|get|send|point)\s+(?:me\s+)?(?:to\s+)?" + _ANY_WORKS + r"\b"
    r"|(?:show|tell)\s+me\s+(?:what|everything|anything)\s+(?:you|we)\s+(?:have|know|got)\b"
    r"|(?:do|does)\s+(?:you|we|the\s+(?:collection|corpus|library))\s+have\s+(?:anything|" + _ANY_WORKS + r")\b"
    r"|who(?:'s|\s+has|\s+have)\s+(?:looked|worked|written|studied|published)\b"
    r"|has\s+any(?:one|body)\s+(?:here\s+|in\s+(?:the\s+)?(?:collection|corpus|library)\s+)?"
    r"(?:looked|worked|written|studied|published|investigated|tackled|done\s+anything|used|applied|tried|explored|addressed)\b"
    r"|(?:any|some)\s+" + _WORKS + r"\b"
    r"|" + _WORKS + r"\s+(?:on|about|regarding|concerning|where|whose|that|in\s+which)\b"
    r"|(?:has|have)\s+(?:anything|something)\s+(?:here\s+|in\s+(?:the\s+)?(?:collection|corpus|library)\s+)?been\s+"
    r"(?:done|applied|used|tried|written|published|proposed)(?:\s+(?:to|on|for|in|with)\b)?"
    r"|where\s+(?:do|should|can|would)\s+(?:i|we|one)\s+start\s+(?:with|on|reading\s+about)\b|where\s+to\s+start\s+(?:with|on)\b"
    r"|tell\s+me\s+about\b(?=.*(?:" + _HERE + r"))"
    r")"
    r"|\bwhat(?:'s|\s+is)\s+(?:there\s+)?in\s+(?:the|this|your|our)\s+(?:collection|corpus|library|index)\s*\??\s*$"
    r"|\bwhat\s+(?:do|does)\s+(?:we|you|the\s+(?:collection|corpus|library))\s+have\s*\??\s*$"
    r"|\b(?:what|which\s+papers?)\s+should\s+(?:i|we)\s+read\b|\breading\s+list\b",
    re.IGNORECASE,
)
# "which papers ..." that ask for one finding of one work are not overviews
_SINGULAR = re.compile(r"^\s*(?:which|what)\s+(?:paper|work|article|study|method)\b", re.IGNORECASE)
_COMPARE = re.compile(
    r"\b(?:compare|compared|comparing|comparison|contrast|contrasting|versus|vs\.?|differ from|differs from|"
    r"differences? between|distinguish(?:es)? between|in common|similarities between|relate to each other|"
    r"trade-?offs? between|pros and cons|when (?:would|should|do) (?:i|we|you|one) (?:use|pick|choose|prefer) (?:which|each))\b"
    r"|^\s*(?:how|in what ways?|what)\b.*\b(?:differ|(?:the|any|main|key)\s+differences?)\b",
    re.IGNORECASE,
)
# cues that make a comparison only when the question splits into two described works (assistant.sides)
_LOOSE_COMPARE = re.compile(
    r"\bdifferent(?:\s+(?:in|on|as\s+to)\s+[^,?]{0,60}?)?\s+from\b|\b(?:distinguish(?:es)?|separates?)\b.*\bfrom\b"
    r"|\bwhat\s+separates\b|\bsets?\b.*\bapart\s+from\b|\bstacks?\s+up\s+against\b"
    r"|\b(?:how|where|in what ways?)\b.*\b(?:differ|relate|similar)\b|^\s*(?:do|does)\b.*\bdiffer\b"
    r"|\b(?:how|where)\s+do\s+(?:they|the two|these|both)\s+(?:differ|compare|contrast)\b"
    r"|\bwhat\s+(?:are|is)\s+the\s+(?:main\s+|key\s+)?differences?\b",
    re.IGNORECASE)
# a sentence that starts by asking for the comparison ("Does Z help? Contrast A with B."): a comparison even
# when a description holds a quantity word ("the study that varies how often ...")
_IMPERATIVE = re.compile(r"(?:^|[.?!]\s+)(?:please\s+)?(?:compare|contrast)\s+(?!them\b|the two\b|both\b)", re.IGNORECASE)
_TOPIC_PREFIX = re.compile(
    r"^\s*(?:please\s+)?(?:can you\s+|could you\s+)?(?:"
    r"(?:which|what)\s+(?:other\s+)?" + _WORKS + r"(?![\w'])|(?:give|show)\s+(?:me\s+)?(?:an?\s+|the\s+)?(?:overview|survey|summary|"
    r"list|rundown|landscape|lay of the land|big picture)\s+(?:of|on|about)(?:\s+(?:the\s+)?" + _WORKS + r")?|(?:summari[sz]e|survey|overview)(?:\s+(?:the|all)?\s*"
    + _WORKS + r")?|list\s+(?:all\s+)?(?:the\s+)?" + _WORKS + r"|(?:is|are)\s+there\s+(?:any\s+)?(?:other\s+)?" + _WORKS
    + r"|what(?:'s|\s+is|\s+has|\s+have)\s+been\s+(?:done|published|written|proposed|studied)"
    r"|what(?:'s|\s+is)\s+(?:there\s+)?(?:in|on)\s+(?:the|this|your|our)\s+(?:collection|corpus|library)"
    r"|what\s+(?:do|does)\s+(?:we|you|the\s+(?:collection|corpus|library))\s+(?:have|hold|contain)"
    r"|how\s+many\s+(?:papers|works|studies)"
    r"|what\s+(?:does|do)\s+(?:this|the|your|our)\s+(?:collection|corpus|library)\s+(?:say|tell|know)"
    r"|(?:find|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:papers|work))"
    # what follows the head up to the topic: "in the collection", "do we have", "deal with", "on", ...
    r"(?:\s+(?:" + _HERE + r"|is there|are there|exist|exists|do (?:we|you) have|(?:we|you) have|deal|deals|"
    r"dealing|are|is|focus|focuses|look|looks|looking|work|works|working|with|on|about|at|into|in|of|that|which|study|studies|address|"
    r"addresses|discuss|discusses|cover|covers|investigate|investigates|explore|explores|propose|proposes|tackle|"
    r"tackles|examine|examines|concern|concerns|the|any|approaches|methods)(?![\w']))*\s*",
    re.IGNORECASE,
)


def question_kind(question: str) -> str:
    """``summary``, ``compare`` or ``answer`` for a question, from its wording. A question asking for one
    quantity ("how accurate is X on A versus B?") is a lookup, not a comparison of two works."""
    if is_comparison_of_described_works(question) and not _OVERVIEW.search(question) and not _REQUEST.search(question):
        return "compare"
    if _COMPARE.search(question) and not _OVERVIEW.search(question) and not _REQUEST.search(question) and not _SINGULAR.match(question) and (
            _IMPERATIVE.search(question) or not (_asks_quantity(question) or re.search(r"\bhow accurate|\bwith what\b", question, re.IGNORECASE))):
        return "compare"
    if (_OVERVIEW.search(question) or _REQUEST.search(question)) and (
            not _SINGULAR.match(question) or re.search(_HERE, question, re.IGNORECASE)):
        return "summary"
    return "answer"


def is_comparison_of_described_works(question: str) -> bool:
    """A choice ("which works better for Z, A or B?") or a looser comparison cue ("how is A different from B?",
    "what distinguishes A from B?", "tell me how A and B differ") whose two sides each describe a work (three
    content words or more: "Adam or SGD?" stays a question about one finding)."""
    from assistant.sides import choice_sides, described_works, two_works_listed

    if choice_sides(question):
        return described_works(question)
    if two_works_listed(question):  # "Two ways to Z: A, and B." (a description may hold "how many")
        return described_works(question)
    return bool(_LOOSE_COMPARE.search(question)) and not _asks_quantity(question) and described_works(question)


def _asks_quantity(question: str) -> bool:
    """A quantity word ("how many", "what accuracy") that the question asks (among its first words, or anywhere
    when it does not split into two works), not one inside a description of one of two works ("... from the one
    about how much latitude annotators have")."""
    from assistant.extractive import _QUANTITY
    from assistant.sides import split_sides

    if not _QUANTITY.search(question):
        return False
    lead = re.match(r"^[^,?:]{0,80},\s*", question)  # "Theoretically, how much ...", "In RL with X, how many ..."
    head = " ".join(question[lead.end() if lead else 0:].split()[:6])
    return bool(_QUANTITY.search(head)) or len(split_sides(question)) != 2


def overview_topic(question: str) -> str:
    """The topic of an overview question: "Which papers in the collection deal with X?" -> "X"."""
    topic = _TOPIC_PREFIX.sub("", question, count=1)
    if topic == question:
        topic = _request_topic(question)
    topic = topic.strip().rstrip("?.! ")
    topic = re.sub(r"\s+(?:(?:in|from)\s+(?:the|this|your)\s+(?:collection|corpus|library|index)|(?:are|is)\s+covered|"
                   r"(?:do|does)\s+(?:we|you)\s+have)$", "", topic, flags=re.IGNORECASE)
    return topic if len(topic) >= 3 else question.strip()


_TOPIC_START = re.compile(r"\b(?:on|about|regarding|concerning|related\s+to|at|into|for)\s+", re.IGNORECASE)
_TRAILING_ASK = re.compile(r"[\s:;,-]*\bwhat(?:'s|\s+is|\s+do|\s+does)\s+(?:there\s+)?(?:in\s+)?(?:the|this|your|our|we|you)\b.*$"
                           r"|[\s.:;,?-]*\b(?:what|which\s+papers?)\s+should\s+(?:i|we)\s+read\b.*$"
                           r"|\s+(?:in\s+here|here)\b.*$", re.IGNORECASE)


def _request_topic(question: str) -> str:
    """The topic of a plain-chat request: "Anything in the library on X?" -> "X"; "X: what's in the
    collection?" -> "X"; the question itself when no request head is found."""
    head = _REQUEST.search(question)
    if head is None:
        return question
    if head.start() > 0:  # the request comes last: "X: what's in the collection?"
        return question[: head.start()].rstrip(" :;,-")
    rest = question[head.end():]
    start = _TOPIC_START.search(rest)
    topic = rest[start.end():] if start else rest
    if start and re.fullmatch(r"\s*(?:in\s+here|here|(?:in|from)\s+(?:the|this|your|our)\s+(?:collection|corpus|library|index))?\s*",
                              rest[: start.start()], re.IGNORECASE) is None and not start.group(0).lower().startswith(("on", "about")):
        topic = rest
    return _TRAILING_ASK.sub("", topic)


def resolve_kind(question: str, kind: str | None) -> str:
    """The kind to answer with: the caller's forced kind, or the detected one for ``auto``/None."""
    if kind in (None, "", "auto"):
        return question_kind(question)
    if kind not in KINDS:
        from common.errors import PapersError

        raise PapersError(f"unknown answer kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind


def summary_steps(assistant: Any, question: str, query: str, backend: str, breadth: str | None = None) -> Iterator[str | Any]:
    """An overview question answered by the subfield-summary pipeline, as an answer stream: the summary's
    Markdown pieces as deltas, then an ``Answer`` of kind ``summary`` (``.summary`` holds the Summary;
    its citations and every paper it considered relevant are the answer's citations and sources)."""
    from assistant.answer import Answer
    from assistant.summary import summarize_stream

    stream = summarize_stream(assistant, overview_topic(query), backend=backend, breadth=breadth)
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
