"""The extractive backend: no language model, just the sentences of each retrieved abstract that answer.

The quoted sentences are the ones ``assistant.answering`` (a logistic model fitted on dev lookups) finds most
likely to state what the question asks; one of its features is the hand-set score below (``ranked``).
That score is IDF-weighted overlap with the question's content words (as a share of the
question's weight) plus a bonus for the role the question asks for (``assistant.roles``):
  - what / how much / how well / whether / which score -> the *result* ("achieves 65.9%", "we find");
  - how (by what means) -> the *method*;
  - which paper / is there / what is X -> the *contribution* ("we propose X"), then the result.
Background sentences ("Recent advances in ...") rank last when the abstract has a better one.
For the top source, a second sentence is quoted (in abstract order) when the model finds it likely enough
too (the contribution names the work, the number is two sentences later). Deterministic, fast, and
faithful by construction: every sentence is a verbatim quote of the abstract it cites.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from assistant.answering import AnsweringModel, sentence_features
from assistant.roles import finding_score, role
from assistant.text import content_words, numbers

_HOW_WELL = re.compile(r"\bhow (?:much|many|well|often|large|big|fast|accurate|accurately|good|far|effective|"
                       r"significant)\b", re.IGNORECASE)
_HOW = re.compile(r"\bhow\b|\bin what way\b|\bby what means\b|\bwhat (?:technique|mechanism|strategy|procedure)\b",
                  re.IGNORECASE)
_RESULT_Q = re.compile(
    r"\b(?:score|scores|accuracy|rate|rates|percent|percentage|%|how much|how many|how well|count|number of|"
    r"result|results|find|finds|found|findings|show|shows|showed|achieve|achieves|achieved|reach|reaches|"
    r"outperform|outperforms|improve|improves|improvement|gain|gains|speedup|faster|reduce|reduces|reduction|"
    r"better|worse|compare|error|perplexity|f1|bleu|auc|mAP|win rate|success|effect|effects|impact|conclude|"
    r"conclusion|lower|higher|increase|decrease|performance|perform|performs)\b|^\s*(?:does|do|did|is|are|can|"
    r"could|was|were|has|have|whether)\b", re.IGNORECASE)
_IDENTIFY_Q = re.compile(r"\b(?:which|what) (?:paper|papers|work|works|study|studies|article|method|approach|"
                         r"framework|model|system|benchmark|dataset|technique|algorithm)\b|\bis there\b|\bare there\b"
                         r"|^\s*what (?:is|are)\b|\banyone\b|\bany (?:paper|work)\b", re.IGNORECASE)

_QUANTITY = re.compile(
    r"\bhow (?:many|much|few|often|large|big|fast|long|small)\b|\bby what (?:factor|margin|amount)\b|\bwhat "
    r"(?:fraction|share|proportion|percentage|percent|score|scores|accuracy|rate|pass@\w*|f1|bleu|auc|number|"
    r"speedup|gain|improvement|reduction|error|size|win rate|success rate|mean|average|map|\w+ (?:score|rate|accuracy))\b"
    r"|\bwhat \S+(?: \S+)? (?:does|do|did|can|could|is|was)\b.*\b(?:reach|reaches|achieve|achieves|get|gets|obtain|"
    r"obtains|attain|attains|score|scores|hit|hits)\b",
    re.IGNORECASE)
NUMBER_BONUS = 0.3  # a quantity question prefers sentences stating numbers the question does not

# a question of at most this many content words only names something ("What is KOALA++?"): the sentence model
# was fitted on lookups that ask for a detail; a definition is the one sentence the hand-set ranking picks
# (the contribution: "We propose KOALA++, a ...")
NAME_ONLY_WORDS = 2

# bonus (in shares of the question's weight) for each role, by what the question asks for
_ROLE_BONUS = {
    "result": {"result": 0.35, "contribution": 0.12, "method": 0.05, "background": -0.25, "other": -1.0},
    "method": {"result": 0.08, "contribution": 0.15, "method": 0.30, "background": -0.25, "other": -1.0},
    "identify": {"result": 0.10, "contribution": 0.25, "method": 0.08, "background": -0.25, "other": -1.0},
}


def intent(question: str) -> str:
    """What the question asks for: ``result``, ``method`` or ``identify`` (which paper / what is X)."""
    if _HOW_WELL.search(question):
        return "result"
    if _HOW.search(question):
        return "method"
    if _IDENTIFY_Q.search(question) and not re.search(r"\b(?:score|accuracy|rate|percent|how much|how many|"
                                                      r"find|found|achieve|achieves|result|results)\b", question,
                                                      re.IGNORECASE):
        return "identify"
    if _RESULT_Q.search(question):
        return "result"
    return "identify"


class SentencePicker:
    """Holds corpus document frequencies so rare question words count more than common ones."""

    def __init__(self, abstracts: list[str]) -> None:
        df: Counter[str] = Counter()
        for text in abstracts:
            df.update(content_words(text))
        self.n = max(len(abstracts), 1)
        self.df = df
        self._model: AnsweringModel | None = None  # loaded on first use

    def idf(self, word: str) -> float:
        return math.log(1 + self.n / (1 + self.df.get(word, 0)))

    def coverage(self, question: str, texts: list[str]) -> float:
        """IDF-weighted share of the question's content words that the best of ``texts`` contains."""
        q = content_words(question)
        total = sum(self.idf(w) for w in q)
        if not total:
            return 0.0
        return max((sum(self.idf(w) for w in q & content_words(t)) / total for t in texts), default=0.0)

    def _overlap(self, q: set[str], total: float, sentence: str) -> float:
        return sum(self.idf(w) for w in q & content_words(sentence)) / total if total else 0.0

    def ranked(self, question: str, text: str) -> list[tuple[float, int, str, str, float]]:
        """(score, position, sentence, role, overlap) for the abstract's quotable sentences, best first."""
        from assistant.prompts import quotable_sentences  # never quote an instruction-like sentence

        sentences = quotable_sentences(text)
        q = content_words(question)
        total = sum(self.idf(w) for w in q)
        want = intent(question)
        quantity = bool(_QUANTITY.search(question))
        asked_numbers = numbers(question)
        out = []
        for i, s in enumerate(sentences):
            if len(s) <= 30:
                continue
            kind = role(s, i, len(sentences))
            overlap = self._overlap(q, total, s)
            bonus = _ROLE_BONUS[want][kind]
            if want == "result" and kind == "result":
                bonus += 0.15 * finding_score(s, i, len(sentences))
            if quantity and kind != "other" and numbers(s) - asked_numbers:
                bonus += NUMBER_BONUS
            out.append((overlap + bonus - 0.01 * i, i, s, kind, overlap))
        # never background or boilerplate when a sentence that says something about the question exists
        return sorted(out, key=lambda r: (r[3] in ("background", "other") and any(
            o[4] > 0 and o[3] not in ("background", "other") for o in out), -r[0], r[1]))

    @property
    def model(self) -> AnsweringModel:
        """The fitted sentence model (``assistant.answering``), read on first use."""
        if self._model is None:
            self._model = AnsweringModel()
        return self._model

    def answering(self, question: str, text: str) -> list[tuple[float, int, str]]:
        """(probability, position, sentence): how likely each sentence states what the question asks
        (``assistant.answering``, fitted on dev lookups), most likely first."""
        return self.model.rank(sentence_features(self, question, text))

    def best_sentence(self, question: str, text: str) -> str | None:
        if len(content_words(question)) <= NAME_ONLY_WORDS:  # "What is KOALA++?": the contribution says what it is
            return next((r[2] for r in self.ranked(question, text)), None)
        ranked = self.answering(question, text)
        return ranked[0][2] if ranked else None

    def best_sentences(self, question: str, text: str) -> list[str]:
        """The most likely answering sentence and, when the next one is likely enough too (the number two
        sentences after the contribution that names the work, the second half of a two-part question), that
        one, in abstract order."""
        if len(content_words(question)) <= NAME_ONLY_WORDS:
            return [s for s in [self.best_sentence(question, text)] if s]
        ranked = self.answering(question, text)
        if not ranked:
            return []
        picked = ranked[:1] + [r for r in ranked[1:2] if r[0] >= self.model.second_min]
        return [r[2] for r in sorted(picked, key=lambda r: r[1])]

    def compose(self, question: str, texts: list[str], limit: int, dense: list[float | None] | None = None,
                dense_floor: float = 0.0) -> str:
        """The top source's answering sentence(s) and one sentence per other relevant source (at most
        ``limit`` sources), each cited [n].

        The top source is always quoted; a later one only when it is nearly as relevant, by keyword
        coverage (half the top source's) or embedding similarity (85% of the best, and only when the best
        reaches ``dense_floor``: for a bare name like "What is BoxingGym?" similarity says little), so a
        one-paper question is not padded with unrelated quotes.
        """
        from assistant.citations import cite

        dense = dense or [None] * len(texts)
        covers = [self.coverage(question, [t]) for t in texts]
        best_dense = max((d for d in dense if d is not None), default=0.0)
        parts = []
        quoted = 0
        for n, text in enumerate(texts, start=1):
            if quoted >= limit:
                break
            near_dense = best_dense >= dense_floor and (dense[n - 1] or 0.0) >= 0.85 * best_dense > 0
            near = covers[n - 1] >= max(0.3, 0.5 * covers[0]) or near_dense
            if n > 1 and not near:
                continue
            sentences = self.best_sentences(question, text) if n == 1 else [self.best_sentence(question, text)]
            sentences = [s for s in sentences if s]
            if sentences:
                parts.extend(cite(s, [n]) for s in sentences)
                quoted += 1
        return " ".join(parts)
