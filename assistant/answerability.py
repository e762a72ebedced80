"""Does a retrieved paper address the question? A small linear model over evidence from that paper.

Each source gets a probability from a logistic model fitted on the dev split of the eval sets
(``python -m evals.fit_answerability`` writes ``assistant/answerability.json``; scikit-learn is needed only
for the fit, the runtime applies the coefficients). Features are lexical and embedding evidence that stays
stable under small embedder changes: the best chunk's cosine and its gap to the best source, IDF-weighted
coverage of the question by the abstract and by its best sentence, whether the question's most specific
words occur in the paper, the share of question words the corpus never uses, BM25 agreement, rank,
title overlap and the worst-covered concept of the question (``assistant.concepts``); and late-interaction evidence (``assistant.late_interaction``: how well each question word
is matched by some word of the paper). The model is a cascade: a cheap stage without the late-interaction
features judges every source, and only the sources it is unsure about (its probability inside the band
stored with it) are encoded word by word and judged by the full model.
Two thresholds turn probabilities into judgements: ``relevant`` (may be quoted and cited),
``loose`` (listed as "closest papers" when nothing is relevant), ``irrelevant`` (never shown as evidence).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from common.errors import PapersError
from assistant.concepts import concepts, weakest_concept, words as question_tokens
from assistant.late_interaction import LateInteraction
from assistant.text import STOPWORDS, content_words, split_sentences, stem

if TYPE_CHECKING:
    from assistant.extractive import SentencePicker
    from assistant.retrieval import PaperHit

MODEL_PATH = Path(__file__).with_name("answerability.json")
RELEVANT, LOOSE, IRRELEVANT = "relevant", "loose", "irrelevant"
FEATURES = ("dense", "dense_gap", "dense_margin", "coverage", "sentence_coverage", "specific_terms", "missing_specific",
            "phrases", "unknown_words", "bm25", "rank", "title_overlap", "concept")
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)
_ASCII_WORD = re.compile(r"[a-z]+")
_COMPARISON = re.compile(r"\b(compare[sd]?|comparison|contrast|differ|differs|difference|versus|vs\.?)\b", re.IGNORECASE)


@dataclass
class Judgement:
    probability: float
    label: str  # relevant | loose | irrelevant
    features: dict[str, float]


class AnswerabilityModel:
    """Coefficients and thresholds read from JSON; ``judge`` labels every retrieved paper."""

    def __init__(self, picker: SentencePicker, path: Path | None = None, threshold: float | None = None,
                 late: LateInteraction | None = None) -> None:
        self.picker = picker
        path = Path(path or MODEL_PATH)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PapersError(f"cannot read the answerability model {path} ({exc}): point PAPERS_ANSWERABILITY_MODEL at the "
                              "JSON `python -m evals.fit_answerability` writes") from None
        self.full: dict[str, Any] = {k: spec[k] for k in ("features", "coef", "intercept", "mean", "scale")}
        self.features: list[str] = spec["features"]
        self.relevant: float = spec["thresholds"]["relevant"] if threshold is None else threshold
        self.loose: float = min(spec["thresholds"]["loose"], self.relevant)
        self.title_match: float = spec["thresholds"].get("title_match", 0.8)
        # The cascade's first stage: the same model without the late-interaction features. Sources it is sure
        # about (outside ``band``) keep its probability; only the others are encoded word by word.
        self.cheap: dict[str, Any] | None = spec.get("cheap")
        self.late = late or LateInteraction(picker, _onnx_model)

    def probability(self, feats: dict[str, float]) -> float:
        """The full model's probability (every feature of ``self.features`` present in ``feats``)."""
        return _logistic(self.full, feats)

    def probabilities(self, question: str, hits: Sequence[PaperHit]) -> tuple[list[dict[str, float]], list[float]]:
        """Features and probability per hit: the cheap stage for every hit, the full model (late-interaction
        features added) for hits whose cheap probability falls inside the cascade's band."""
        rows = source_features(self.picker, question, hits)
        if self.cheap is None:
            return rows, [self.probability(f) for f in rows]
        probs = [_logistic(self.cheap, f) for f in rows]
        lo, hi = self.cheap["band"]
        unsure = [i for i, p in enumerate(probs) if lo <= p <= hi]
        for i, li in zip(unsure, self.late.features(question, [hits[i] for i in unsure])):
            rows[i].update(li)
            probs[i] = self.probability(rows[i])
        return rows, probs

    def label(self, p: float) -> str:
        return RELEVANT if p >= self.relevant else LOOSE if p >= self.loose else IRRELEVANT

    def judge(self, question: str, hits: Sequence[PaperHit],
              sides: Sequence[tuple[str, Sequence[PaperHit]]] = ()) -> list[Judgement]:
        """A comparison describes each paper in one half: a paper is judged by the half that fits it best.

        ``sides``: for a comparison whose first two hits were picked one per described work
        (``assistant.compare.pick_pair``), each work's description and its own retrieval. Each paper of that
        pair is also judged as the answer to its own description among its own hits, and when one is relevant
        the other needs only to be loosely related: both works were asked about, and a work described in
        half a sentence is matched more loosely than a whole question."""
        out = []
        halves = [self.probabilities(part, hits)[1] for part in comparison_parts(question)]
        rows, probs = self.probabilities(question, hits)
        for i, (feats, p) in enumerate(zip(rows, probs)):
            p = max([p] + [h[i] for h in halves])
            if feats["title_overlap"] >= self.title_match:  # the question is (nearly) the paper's title
                p = max(p, self.relevant)
            out.append(Judgement(probability=p, label=self.label(p), features=feats))
        if len(sides) == 2 and len(hits) >= 2:
            own = [self._own(hits[i], side, context) for i, (side, context) in enumerate(sides)]
            pair = [max(j.probability, o) for j, o in zip(out, own)]
            if max(pair) >= self.relevant and min(pair) >= self.loose:
                pair = [max(p, self.relevant) for p in pair]
            for j, p in zip(out, pair):
                j.probability, j.label = p, self.label(p)
        return out

    def _own(self, hit: PaperHit, side: str, context: Sequence[PaperHit]) -> float:
        """The probability that ``hit`` answers ``side``, among the hits retrieved for that side."""
        ids = [h.paper_id for h in context]
        if hit.paper_id not in ids:
            return 0.0
        return self.probabilities(side, context)[1][ids.index(hit.paper_id)]


def _logistic(spec: dict[str, Any], feats: dict[str, float]) -> float:
    """A scaled logistic model (``features``, ``coef``, ``intercept``, ``mean``, ``scale``) applied to ``feats``."""
    z = spec["intercept"] + sum(c * (feats[f] - m) / s for f, c, m, s in zip(spec["features"], spec["coef"], spec["mean"], spec["scale"]))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _onnx_model() -> Any:
    from ingest.embed import onnx_model

    return onnx_model()


@lru_cache(maxsize=4096)
def _paper_words(title: str, abstract: str) -> tuple[frozenset[str], tuple[frozenset[str], ...], frozenset[str], frozenset[str]]:
    """Content words of the paper, of each abstract sentence, of the title, and adjacent content-word pairs."""
    words = content_words(f"{title} {abstract}")
    sentences = tuple(frozenset(content_words(s)) for s in split_sentences(abstract)) or (frozenset(),)
    return frozenset(words), sentences, frozenset(content_words(title)), frozenset(_pairs(f"{title}. {abstract}"))


def _pairs(text: str) -> set[tuple[str, str]]:
    seq = [stem(w) for w in _ASCII_WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2]
    return set(zip(seq, seq[1:]))


def source_features(picker: SentencePicker, question: str, hits: Sequence[PaperHit]) -> list[dict[str, float]]:
    """One feature dict per hit, in hit order (the same function serves the fit and the runtime)."""
    q = content_words(question)
    idf = {w: picker.idf(w) for w in q}
    top_idf = picker.idf("") or 1.0  # a word no abstract uses
    total = sum(idf.values()) or 1.0
    known = [w for w in q if picker.df.get(w, 0) > 0]
    specific = sorted(known, key=lambda w: (-idf[w], w))[:2]  # ties by word: the same in every process
    unknown = (len(q) - len(known)) / len(q) if q else 1.0
    q_pairs = _pairs(question)
    tokens = question_tokens(question)
    keep, spans = concepts(tokens)
    stems = [stem(tokens[i]) for i in keep]
    weights = [picker.idf(w) for w in stems]
    denses = [h.dense or 0.0 for h in hits]
    best_dense = max(denses, default=0.0)
    best_bm25 = max((h.bm25 or 0.0 for h in hits), default=0.0) or 1.0
    rows = []
    for rank, (hit, dense) in enumerate(zip(hits, denses)):
        words, sentences, title, pairs = _paper_words(hit.paper.title, hit.paper.abstract)
        others = [d for i, d in enumerate(denses) if i != rank]
        rows.append({
            "dense": dense,
            "dense_gap": dense - best_dense,
            "dense_margin": dense - (sum(others) / len(others) if others else 0.0),
            "coverage": sum(idf[w] for w in q & words) / total,
            "sentence_coverage": max(sum(idf[w] for w in q & s) for s in sentences) / total,
            "specific_terms": sum(w in words for w in specific) / len(specific) if specific else 0.0,
            "missing_specific": max((idf[w] for w in q - words), default=0.0) / top_idf,
            "phrases": len(q_pairs & pairs) / len(q_pairs) if q_pairs else 0.0,
            "unknown_words": unknown,
            "bm25": (hit.bm25 or 0.0) / best_bm25,
            "rank": 1.0 / (rank + 1),
            "title_overlap": len(title & q) / len(title) if title else 0.0,
            # the worst-covered concept (run of content words) of the question: its IDF share x its share missing
            "concept": weakest_concept([float(w in words) for w in stems], weights, spans),
        })
    return rows


def comparison_parts(question: str) -> list[str]:
    """The two described works of a comparison question ("how does X differ from Y?", "which works better
    for Z, A or B?"); [] for any other."""
    from assistant.route import is_comparison_of_described_works
    from assistant.sides import split_sides

    return split_sides(question) if _COMPARISON.search(question) or is_comparison_of_described_works(question) else []


def question_problem(question: str, picker: SentencePicker) -> str | None:
    """Why the question cannot be answered from an English corpus at all, or None when it can be tried.

    Only stop-words or punctuation: nothing to search for. Mostly non-Latin script, or Latin words that are
    neither English stop-words nor corpus vocabulary (a question in another language): say so.
    """
    letters = _LETTERS.findall(question.lower())
    ascii_words = [w for w in letters if _ASCII_WORD.fullmatch(w)]
    if letters and len(ascii_words) < len(letters) / 2:
        return "The question does not look like English; the papers are in English: please ask in English."
    if not content_words(question):
        return ("The question has no words to search for (only common words, numbers or punctuation): "
                "name the method, problem or result you are looking for.")
    if len(ascii_words) >= 3:
        english = sum(1 for w in ascii_words if w in STOPWORDS or picker.df.get(stem(w), 0) > 0 or len(w) <= 2)
        if english / len(ascii_words) < 0.3:
            return "The question does not look like English; the papers are in English: please ask in English."
    return None
