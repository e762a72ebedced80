"""Faithfulness judges: is each answer sentence supported by the abstract it cites?

Offline judge (default): lexical support, the share of a sentence's content words found in the cited
abstract (threshold 0.5), giving ALCE-style citation recall (sentences supported by their citations)
and citation precision (citations that support their sentence). No NLI model can be downloaded here;
its limits: it cannot see negation or paraphrase, and our own citation checker uses the same measure,
so answers that went through the checker score high by construction. Use it to compare settings and
catch regressions, and the LLM judge for a second opinion.

LLM judge (``--judge llm``, through the openai backend): RAGAS-style faithfulness, asking the model
whether each statement is supported by the cited context and counting supported / all. Malformed judge
output is counted as "unjudged", never as supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.text import citations_in, split_sentences, strip_citations, support

MIN_SUPPORT = 0.5


@dataclass
class Faithfulness:
    sentences: int
    supported: int  # sentences whose citations (together) support them
    citations: int
    supporting_citations: int
    unjudged: int = 0

    @property
    def citation_recall(self) -> float | None:
        return self.supported / self.sentences if self.sentences else None

    @property
    def citation_precision(self) -> float | None:
        return self.supporting_citations / self.citations if self.citations else None


def _pairs(answer: str, cited_texts: dict[int, str]) -> list[tuple[str, list[int]]]:
    return [(strip_citations(s), [n for n in citations_in(s) if n in cited_texts]) for s in split_sentences(answer) if strip_citations(s)]


def offline_faithfulness(answer: str, cited_texts: dict[int, str]) -> Faithfulness:
    """``cited_texts`` maps a citation number to the abstract of that source."""
    f = Faithfulness(0, 0, 0, 0)
    for sentence, numbers in _pairs(answer, cited_texts):
        f.sentences += 1
        joined = " ".join(cited_texts[n] for n in numbers)
        if numbers and support(sentence, joined) >= MIN_SUPPORT:
            f.supported += 1
        for n in numbers:
            f.citations += 1
            f.supporting_citations += support(sentence, cited_texts[n]) >= MIN_SUPPORT
    return f


JUDGE_PROMPT = (
    "Context:\n{context}\n\nStatement: {statement}\n\n"
    "Is the statement fully supported by the context? Reply with one word: yes or no."
)


def parse_verdict(text: str) -> bool | None:
    """yes -> True, no -> False, anything else -> None (unjudged)."""
    words = re.findall(r"[a-z]+", (text or "").lower())
    has_yes = bool({"yes", "supported", "true"} & set(words))
    has_no = bool({"no", "unsupported", "false", "not"} & set(words))
    return has_yes if has_yes != has_no else None


def llm_faithfulness(answer: str, cited_texts: dict[int, str], llm: Any) -> Faithfulness:
    f = Faithfulness(0, 0, 0, 0)
    for sentence, numbers in _pairs(answer, cited_texts):
        f.sentences += 1
        context = "\n".join(cited_texts[n][:2000] for n in numbers) or "(no source cited)"
        try:
            verdict = parse_verdict(str(llm.complete(JUDGE_PROMPT.format(context=context, statement=sentence))))
        except Exception:
            verdict = None
        if verdict is None:
            f.unjudged += 1
        elif verdict:
            f.supported += 1
        f.citations += len(numbers)
        f.supporting_citations += len(numbers) if verdict else 0
    return f
