"""Citations that cannot lie: every [n] is checked against the retrieved sources and their text.

For each answer sentence: citations outside 1..n are removed and counted; cited sources that do not
support the sentence lose the citation; a sentence left with no citation gets the best-supporting source
attached (small models often forget to cite) or, if no source supports it, is dropped and counted.
Support counts only the words a sentence adds to the question: restating the question proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.text import citations_in, split_sentences, strip_citations, support

MIN_SUPPORT = 0.5  # share of a sentence's content words its source must contain


@dataclass
class CheckedAnswer:
    text: str
    cited: list[int]  # source numbers, in order of first citation
    removed_citations: int = 0  # pointed outside the retrieved set
    unsupported_citations: int = 0  # pointed at a source that does not back the sentence
    attached_citations: int = 0  # added after generation
    dropped_sentences: list[str] = field(default_factory=list)


def check_citations(answer: str, sources: list[str], min_support: float = MIN_SUPPORT,
                    question: str | None = None) -> CheckedAnswer:
    """``sources[i]`` is the text of source number i+1 as the model saw it. With ``question``, support
    counts only a sentence's words beyond the question's own (``assistant.text.support``), so a sentence
    that restates the question is dropped however well its words match a source."""
    kept: list[str] = []
    cited: list[int] = []
    result = CheckedAnswer(text="", cited=cited)
    for sentence in split_sentences(answer):
        body = strip_citations(sentence)
        if not body:
            continue
        numbers = list(dict.fromkeys(citations_in(sentence)))
        valid = [n for n in numbers if 1 <= n <= len(sources)]
        result.removed_citations += len(numbers) - len(valid)
        backed = [n for n in valid if support(body, sources[n - 1], question) >= min_support]
        result.unsupported_citations += len(valid) - len(backed)
        if not backed:
            scores = [support(body, s, question) for s in sources]
            best = max(range(len(sources)), key=scores.__getitem__, default=None)
            if best is None or scores[best] < min_support:
                result.dropped_sentences.append(body)
                continue
            backed = [best + 1]
            result.attached_citations += 1
        for n in backed:
            if n not in cited:
                cited.append(n)
        kept.append(cite(body, backed))
    result.text = " ".join(kept)
    return result


def cite(sentence: str, numbers: list[int]) -> str:
    """``claim.`` + [1, 3] -> ``claim [1][3].`` (citations before the closing punctuation)."""
    stop = sentence[-1] if sentence[-1] in ".!?" else "."
    body = sentence[:-1] if sentence[-1] in ".!?" else sentence
    return f"{body.rstrip()} {''.join(f'[{n}]' for n in numbers)}{stop}"
