"""A comparison question's two described works: "how does A differ from B?" -> [A, B].

Users phrase a comparison many ways; each form has a cue that says where the first work ends:
  "compare A with B", "A versus B", "how does A differ from / is A different from B?"   (a split phrase)
  "how do A and B differ?", "the difference between A and B", "what do A and B have in common?"  ("and")
  "what distinguishes A from B?", "what sets A apart from B?"                           ("from")
  "which works better for Z: A, or B?", "A or B: which is better?", "should I use A or B?"  (a choice: "or";
  "between A and B, which is better?", "A and B: which works better?": "and")
  "How do the two ... differ: the one that A, and the one that B?", "... A, and B. Contrast them."  (after a colon)
  "Two papers use X. One A, the other B.", "two theory papers: one about A, one about B"  ("one ... the other")
  "Is the better starting point A, or B?", "A, or B: which is more useful?"                (a choice)
When a split word occurs more than once ("fixing X with groups of Y with keeping Z"), the cut that leaves the
shorter description longest is taken. Splitting is pure wording (microseconds); ``assistant.compare`` retrieves
each side and ``assistant.route`` uses it to tell a comparison of two described works from a lookup.
"""

from __future__ import annotations

import re

from assistant.text import content_words

# the request before the first work: "compare", "how do", "the difference between", "I'd like a comparison of"
_HEAD = re.compile(
    r"^\s*(?:(?:in|for|on|within|among|regarding)\s+[^,:?]{3,60},\s*)?(?:please\s+)?(?:can you\s+|could you\s+)?(?:"
    r"(?:compare|contrast)(?:\s+and\s+(?:compare|contrast))?"
    r"|(?:tell me|explain|describe)\s+how|(?:how|where)\s+(?:does|do|did|is|are)|what\s+(?:do|does)|(?:do|does)"
    r"|in what ways?\s+(?:does|do|is|are)|what distinguishes|what sets|what separates|how would you compare"
    r"|[^,:?]*?\b(?:differences?|similarities|comparison|contrast|pros and cons|trade-?offs?)\s+(?:between|of))\s+", re.IGNORECASE)
# the request after the second work: ": what did each find?", "differ?", "have in common?", "apart?"
_TAIL = re.compile(r"\s*:[^:]*$|\s+(?:differ|compare|relate|contrast|similar|apart)(?:\s+(?:in|on|for|when|at) [^?]*)?[?.!]*\s*$"
                   r"|\s+have in common[?.!]*\s*$|\s*[?.!]+\s*$", re.IGNORECASE)
_STRONG = (  # "how does A differ from B?" and "A versus B" weighed together (either may sit inside a description)
    (re.compile(r"\s+(?:versus|vs\.?)\s+", re.IGNORECASE),
     re.compile(r"\s+(?:differ(?:s)? from|(?:is\s+|are\s+)?different(?:\s+(?:in|on|as\s+to)\s+[^,?]{0,60}?)?\s+from|"
                r"compared? (?:to|with)|as opposed to|stacks? up against)\s+", re.IGNORECASE)),
    # a comma before "and the ..." closes the first description: "the one that A with B, and the one that C"
    (re.compile(r",\s+and\s+(?=(?:the|a|an|one|that|those|this)\b)", re.IGNORECASE), re.compile(r",\s+or\s+", re.IGNORECASE)),
)
# weak split words, weighed together: "compare A with B" (A may hold "and"), "how do A and B differ" (A may hold "with")
_WEAK = (re.compile(r"\s+(?:against|relative to|with)\s+", re.IGNORECASE),
         re.compile(r"\s+and\s+(?=(?:the|a|an|one|that|those|this)\b)|,\s+and\s+", re.IGNORECASE))
_LAST = (re.compile(r"\s+and\s+", re.IGNORECASE),)
_FROM = (re.compile(r"\s+(?:apart\s+)?from\s+", re.IGNORECASE),)
_DISTINGUISH = re.compile(r"^\s*(?:please\s+)?what\s+(?:distinguishes|sets|separates)\b", re.IGNORECASE)
# "which works better for Z: A, or B?", "For Z, which helps more: A or B?", "A or B: which is better?"
_CHOICE = re.compile(r"\b(?:which|what)\b[^:?]*?\b(?:better|best|more|worse|preferable|stronger|superior|faster|"
                     r"cheaper|wins?|should|recommend|prefer|pick|choose)\b[^:,?]*(?:[:,]|$|\?)", re.IGNORECASE)
# "should I use A or B for Z?", "is A or B more effective for Z?", after a setting: "For Z, should I A, or B?"
_CHOICE_LEAD = re.compile(r"^\s*(?:[^,:?]{3,120},\s*)?(?:(?:should|would|could|can)\s+(?:i|we|you|one)(?:\s+(?:use|pick|choose|prefer|go\s+with|try))?"
                          r"|(?:is|are))\s+", re.IGNORECASE)
_CHOICE_END = re.compile(r"\s+(?:more|better|less|worse|faster|cheaper|preferable)\b[^,:]*$", re.IGNORECASE)
_OR = (re.compile(r",\s+or\s+", re.IGNORECASE), re.compile(r"\s+or\s+", re.IGNORECASE))
# a closing sentence that only asks for the comparison: "... . Contrast them.", "... . How do they differ?"
_CLOSER = re.compile(r"(?<=[.?!])\s+(?:please\s+)?(?:(?:contrast|compare)\s+(?:them|the two|both|these|those)\b"
                     r"|how\s+do\s+(?:they|the two|these|those)\s+(?:differ|compare)\b"
                     r"|what\s+(?:are|is)\s+the\s+(?:main\s+|key\s+)?differences?\b"
                     r"|when\s+(?:would|should|do)\s+(?:i|we|you|one)\s+(?:use|pick|choose|prefer)\s+(?:which|each|one)\b"
                     r"|(?:what|which|how)\b[^.?!]{0,40}\beach\b)[^.?!]*[.?!]*\s*$", re.IGNORECASE)
# "Two ways to Z: A, and B.": the two works listed after a colon, the comma before "and" (or "or") between them
_TWO = re.compile(r"^\s*(?:[^:?.]{0,60}\b)?(?:two|both)\b[^:?.]{0,100}:\s*", re.IGNORECASE)
_LIST = (re.compile(r",\s+(?:and|or)\s+", re.IGNORECASE),)
# "Is the better starting point A, or B?": a choice asked by naming the better one
_CHOICE_THE = re.compile(r"(?:^|(?<=[.?!])\s+)(?:is|would)\s+the\s+(?:better|best|right|stronger|preferable|safer|cheaper|smarter)\s+",
                         re.IGNORECASE)
# "Two papers use small models ... One reproduces A, the other fits B.", "... in two theory papers: one about A, one about B."
_TWO_WORKS = re.compile(r"\b(?:two|both)\b", re.IGNORECASE)
_ONE = re.compile(r"(?:^|[.:;]\s+)(?:the\s+)?one\s+(?=\w)", re.IGNORECASE)
_OTHER = re.compile(r"[,;]\s+(?:and\s+|while\s+|whereas\s+)?(?:the\s+other(?:\s+one)?|another|one)\s+", re.IGNORECASE)
# a sentence that asks for the comparison after a setting: "Does Z help? Contrast A with B."
_IMPERATIVE = re.compile(r"(?<=[.?!])\s+(?=(?:please\s+)?(?:compare|contrast)\s)", re.IGNORECASE)


def _cuts(body: str, patterns: tuple[re.Pattern[str], ...]) -> list[tuple[str, str]]:
    cuts = [(body[: m.start()].strip(" ,;"), body[m.end():].strip(" ,;")) for p in patterns for m in p.finditer(body)]
    return [c for c in cuts if all(len(content_words(s)) >= 2 for s in c)]


def _split_at(body: str, *groups: tuple[re.Pattern[str], ...]) -> list[str]:
    """``body`` cut at the first group of split words that leaves two descriptions (two content words each);
    among that group's cuts, the one that leaves the shorter description longest."""
    for group in groups:
        cuts = _cuts(body, group)
        if cuts:
            return list(max(cuts, key=lambda c: min(len(content_words(s)) for s in c)))
    return []


def choice_sides(question: str) -> list[str]:
    """The two works of a choice ("which is better for Z, A or B?", "A or B: which is better?", "should I use A
    or B?", "is A or B more effective?", "between A and B, which works better?"), else []."""
    q = _CLOSER.sub("", question.strip())
    has_or = re.search(r"\bor\b", q, re.IGNORECASE) is not None
    m = _CHOICE.search(q)
    named = _CHOICE_THE.search(q) if m is None and has_or else None
    if m is not None and m.end() < len(q.rstrip("?.! ")) and (not has_or or re.search(r"\bor\b", q[m.end():], re.IGNORECASE)):
        body = q[m.end():]
    elif m is not None and ":" in q[: m.start()]:  # "A, or B: which is more useful, and what did each show?"
        body = re.split(r"(?<=[.?!])\s+", q[: q.index(":")])[-1]
    elif m is not None:
        body = q[: m.start()]
    elif named is not None:
        body = q[named.end():]
    elif has_or and (lead := _CHOICE_LEAD.match(q)) is not None:
        body = q[lead.end():].rstrip("?.! ")
        if lead.group(0).strip().lower() in ("is", "are"):  # "is A or B more effective ...": the choice ends at "more"
            end = _CHOICE_END.search(body)
            if end is None:
                return []
            body = body[: end.start()]
    else:
        return []
    body = re.sub(r"^(?:between|of)\s+", "", body.strip().rstrip("?.! ").strip(" ,;:"), flags=re.IGNORECASE)
    return _split_at(body, _OR) if has_or else _split_at(body, _WEAK[1:], _LAST)


def split_sides(question: str) -> list[str]:
    """The two described works of a comparison question, or [] when it does not split into two.

    A choice splits at its "or"; otherwise the question before a colon ("Compare A with B: what did each
    find?") and then the part after it ("How do the two ... differ: the one that A, and the one that B?")."""
    choice = choice_sides(question)
    if choice:
        return choice
    q = _CLOSER.sub("", question.strip())
    listed = _listed(q) or _one_other(q)
    if listed:
        return listed
    q = _IMPERATIVE.split(q)[-1]
    groups = ((_FROM,) if _DISTINGUISH.match(q) else ()) + _STRONG + (_WEAK, _LAST)
    bodies = [_TAIL.sub("", _HEAD.sub("", q, count=1))]
    if ":" in q:
        bodies.append(_TAIL.sub("", _HEAD.sub("", q[q.index(":") + 1:].strip(), count=1)))
    for body in bodies:
        sides = _split_at(body, *groups)
        if sides:
            return sides
    return []


def _listed(q: str) -> list[str]:
    """The two works of "Two ways to Z: A, and B" (closing sentence already dropped), else []."""
    head = _TWO.match(q)
    return _split_at(q[head.end():].rstrip("?.! "), _LIST) if head is not None else []


def _one_other(q: str) -> list[str]:
    """The two works of "Two papers ... One A, the other B." or "... two papers: one about A, one about B", else []."""
    if not _TWO_WORKS.search(q) or (one := _ONE.search(q)) is None:
        return []
    rest = q[one.end():]
    other = _OTHER.search(rest)
    if other is None:
        return []
    sides = [rest[: other.start()].strip(" ,;"), re.split(r"(?<=[.?!])\s+", rest[other.end():])[0].strip(" ,;?.!")]
    return sides if all(len(content_words(s)) >= 2 for s in sides) else []


def two_works_listed(question: str) -> bool:
    """"Two ways to Z: A, and B." (or "Both ...: A, and B"), or "Two papers ... One A, the other B": two works
    listed one after the other."""
    q = _CLOSER.sub("", question.strip())
    return bool(_listed(q) or _one_other(q))


def described_works(question: str) -> bool:
    """Whether the question splits into two works that are each described (three content words or more), not
    named ("Adam or SGD?" is a question about one finding)."""
    sides = split_sides(question)
    return len(sides) == 2 and all(len(content_words(s)) >= 3 for s in sides)
