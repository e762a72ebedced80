"""Which abstract sentences answer the question: a small logistic model over (question, sentence) features.

A lookup question usually describes the paper ("In RL with huge action spaces, ...") and then asks for one
detail ("how many queries were perturbed", "which perturbation algorithm", "from which field"). The sentence
that restates the description matches the question's words best but says nothing new; the answer is the
sentence that carries what is asked: a number the question does not state, a name ("we propose GAAP"), a
reporting verb ("we find"), words of the asking clause. Each sentence of an abstract gets:

  - ``overlap`` / ``ask_overlap``: IDF-weighted share of the question's (the asking clause's) content words
    it contains, also relative to the abstract's best sentence (``*_gap``, ``*_top``);
  - ``novelty``: the share of its content words the question does not use (restating scores low);
  - ``new_number``, ``names`` and their products with a quantity / a which-name question;
  - its role (``assistant.roles``), crossed with what the question asks for (``extractive.intent``),
    ``finding`` (``roles.finding_score``), cue phrases (``propose``, ``find``), position and length;
  - ``heuristic``: the earlier hand-set score (``SentencePicker.ranked``) and its gap to the abstract's best.

Coefficients are fitted on the dev split only (``python -m evals.fit_answering``: label = the sentence states
one of a dev lookup's ``facts``; 5-fold cross-validation grouped by question picks the regularisation and the
bar for quoting a second sentence) and shipped in ``assistant/answering.json``; the runtime needs no
scikit-learn. Deterministic, microseconds per sentence.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from assistant.roles import finding_score, role
from assistant.text import content_words, numbers

if TYPE_CHECKING:
    from assistant.extractive import SentencePicker

MODEL_PATH = Path(__file__).with_name("answering.json")

_NAME = re.compile(r"(?<![\w-])(?:[A-Z][a-z]*[A-Z0-9][\w-]*|[A-Z]{2,}[\w-]*|[A-Z][a-z]+(?:[- ][A-Z][a-z]+)+)")
_NAME_Q = re.compile(r"\b(?:which|what)\b(?! (?:is|are|does|do|did)\b)|\bcalled\b|\bnamed\b|\bname\b", re.IGNORECASE)
_PROPOSE = re.compile(r"\b(?:we|paper|work) (?:first |also |then |further )?(?:propose|introduce|present|develop|"
                      r"design|call|name|term|dub)\w*|\b(?:called|named|dubbed|termed)\b", re.IGNORECASE)
_FIND = re.compile(r"\b(?:we|results?|experiments?|analysis) (?:\w+ )?(?:find|found|show|shows|reveal|reveals|"
                   r"demonstrate|demonstrates|observe|prove)\b", re.IGNORECASE)
_WH = re.compile(r"\b(?:what|which|how|whom|who|where|when|why|whether)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[,;:?]|\band\b(?= (?:what|which|how|by how))", re.IGNORECASE)
_ROLES = ("background", "contribution", "method", "result", "other")
_CROSSED = [(w, r) for w in ("result", "method", "identify") for r in ("result", "contribution", "method")]

FEATURES = (["overlap", "overlap_gap", "overlap_top", "new_number", "quantity_x_number", "has_name",
             "name_q_x_name", "names", "novelty", "position", "first", "finding", "length", "propose",
             "name_q_x_propose", "find", "result_q_x_find", "ask_overlap", "ask_gap", "ask_top", "heuristic",
             "heuristic_gap", "heuristic_top"] + [f"role_{r}" for r in _ROLES] + [f"{w}_q_x_{r}" for w, r in _CROSSED])


def ask_words(question: str) -> set[str]:
    """Content words of the clause(s) holding the question word: the thing asked for, not the description."""
    out: set[str] = set()
    for clause in _CLAUSE.split(question):
        m = _WH.search(clause)
        if m:
            out |= content_words(clause[m.start():])
    return out or content_words(question)


def sentence_features(picker: SentencePicker, question: str, text: str) -> list[tuple[int, str, dict[str, float]]]:
    """(position, sentence, features) for each quotable sentence of the abstract ``text`` longer than 30 characters."""
    from assistant.extractive import _QUANTITY, intent
    from assistant.prompts import quotable_sentences  # never quote an instruction-like sentence

    sentences = quotable_sentences(text)
    n = len(sentences)
    kept = [(i, s) for i, s in enumerate(sentences) if len(s) > 30]
    if not kept:
        return []
    want = intent(question)
    quantity, name_q = bool(_QUANTITY.search(question)), bool(_NAME_Q.search(question))
    asked_numbers, asked_names = numbers(question), set(_NAME.findall(question))
    q, ask = content_words(question), ask_words(question)
    total = sum(picker.idf(w) for w in q) or 1.0
    ask_total = sum(picker.idf(w) for w in ask) or 1.0
    overlap = {i: sum(picker.idf(w) for w in q & content_words(s)) / total for i, s in kept}
    asked = {i: sum(picker.idf(w) for w in ask & content_words(s)) / ask_total for i, s in kept}
    heuristic = {r[1]: r[0] for r in picker.ranked(question, text)}
    top_o, top_a, top_h = max(overlap.values()), max(asked.values()), max(heuristic.values(), default=0.0)
    out = []
    for i, s in kept:
        kind = role(s, i, n)
        words = content_words(s)
        new_number = float(bool(numbers(s) - asked_numbers))
        names = set(_NAME.findall(s)) - asked_names
        propose, find = float(bool(_PROPOSE.search(s))), float(bool(_FIND.search(s)))
        h = heuristic.get(i, -1.0)
        f = {"overlap": overlap[i], "overlap_gap": overlap[i] - top_o, "overlap_top": float(overlap[i] == top_o),
             "new_number": new_number, "quantity_x_number": quantity * new_number, "has_name": float(bool(names)),
             "name_q_x_name": name_q * float(bool(names)), "names": min(len(names), 4) / 4,
             "novelty": len(words - q) / max(len(words), 1), "position": i / max(n - 1, 1), "first": float(i == 0),
             "finding": finding_score(s, i, n), "length": math.log(len(s.split()) + 1) / 4, "propose": propose,
             "name_q_x_propose": name_q * propose, "find": find, "result_q_x_find": (want == "result") * find,
             "ask_overlap": asked[i], "ask_gap": asked[i] - top_a, "ask_top": float(asked[i] == top_a and top_a > 0),
             "heuristic": h, "heuristic_gap": h - top_h, "heuristic_top": float(h == top_h)}
        f.update({f"role_{r}": float(kind == r) for r in _ROLES})
        f.update({f"{w}_q_x_{r}": float(want == w and kind == r) for w, r in _CROSSED})
        out.append((i, s, f))
    return out


class AnsweringModel:
    """The fitted coefficients (``assistant/answering.json``): the probability that a sentence states what is asked."""

    def __init__(self, path: Path | None = None) -> None:
        spec = json.loads(Path(path or MODEL_PATH).read_text(encoding="utf-8"))
        self.features: list[str] = spec["features"]
        self.coef: list[float] = spec["coef"]
        self.intercept: float = spec["intercept"]
        self.mean: list[float] = spec["mean"]
        self.scale: list[float] = spec["scale"]
        self.second_min: float = spec["second_min"]  # probability a second sentence of the top source needs

    def probability(self, f: dict[str, float]) -> float:
        z = self.intercept + sum(c * (f[name] - m) / s for name, c, m, s in zip(self.features, self.coef, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-z))

    def rank(self, rows: Sequence[tuple[int, str, dict[str, float]]]) -> list[tuple[float, int, str]]:
        """(probability, position, sentence), most likely to answer first (earlier sentence on ties)."""
        return sorted(((self.probability(f), i, s) for i, s, f in rows), key=lambda r: (-r[0], r[1]))
