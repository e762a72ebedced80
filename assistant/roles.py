"""What an abstract sentence does: sets the scene, states the contribution, explains the method, or reports a result.

Deterministic cue phrases and surface features (numbers, percentages, reporting verbs, position in the
abstract); no model, no download, microseconds per sentence. Used by the extractive backend to quote
the finding instead of the background, and by summaries to pick contribution sentences.

Roles (``ROLES``):
  ``background``    context and motivation: "Recent advances in ...", "X has been widely used", "remains
                    challenging", "However, existing methods ...".
  ``contribution``  what the paper puts forward: "We propose/introduce/present X", "In this paper, we ...",
                    "This work studies ...".
  ``method``        how it works or how it was evaluated: "X uses/leverages ...", "we train ... on ...",
                    "To address this, ...", "We evaluate X on ...".
  ``result``        what was found: numbers and percentages, "we find/show/observe", "achieves",
                    "outperforms", "improves ... by", "results show", "state-of-the-art".
  ``other``         boilerplate: "Code is available at https://...", URLs.

Stable API (other modules depend on it; extend, do not change):
  ``role(sentence, position=0, n_sentences=1) -> str``            one of ``ROLES``.
  ``role_scores(sentence, position=0, n_sentences=1) -> dict``    raw cue score per role (ties break by
                                                                   ``ROLES`` order after result).
  ``finding_score(sentence, position=0, n_sentences=1) -> float`` in [0, 1]: how strongly the sentence states
                                                                   what the paper found or contributes
                                                                   (result > contribution > method >
                                                                   background/other).
  ``classify(text) -> list[tuple[str, str]]``                     (sentence, role) for each sentence of an abstract.
``position`` is the sentence's 0-based index in its abstract and ``n_sentences`` the abstract's length.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.text import split_sentences

ROLES = ("background", "contribution", "method", "result", "other")


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# (pattern, weight) per role; a sentence's score for a role is the sum of the weights of the cues it matches.
_CUES: dict[str, list[tuple[re.Pattern[str], float]]] = {
    "result": [
        (_rx(r"\d+(?:\.\d+)?\s*(?:%|percent|x\b|×|times\b|-fold|fold\b|pp\b|points?\b)"), 2.0),
        (_rx(r"\b\d+\.\d+\b", r"\b\d{2,}(?:,\d{3})*\b(?!\s*(?:\)|[a-z]*\s*(?:datasets?|tasks|benchmarks)))"), 0.8),
        (_rx(r"\bwe (?:also |further |\w+ly )?(?:find|found|show|demonstrate|observe|"
             r"confirm|verify|establish|prove|report|achieve|obtain|reveal|discover|identify|note)\b"), 1.6),
        (_rx(r"\b(?:results?|experiments?|evaluations?|analys[ie]s|findings|empirical(?:ly)?|extensive)\b[^.]{0,60}?"
             r"\b(?:show|shows|demonstrate|demonstrates|indicate|indicates|reveal|reveals|suggest|suggests|"
             r"confirm|confirms|highlight)\b"), 1.8),
        (_rx(r"(?<!to )\b(?:achiev|outperform|surpass|exceed|reduc|boost|increas|decreas|match|yield|attain|"
             r"beat|rival|lower|speed)(?:es|s|ed|ing)?\b", r"(?<!to )\bimprov(?:es|ing)\b", r"\bimproved by\b"), 1.2),
        (_rx(r"\b(?:show|shows|reveal|reveals|demonstrate|demonstrates|indicate|indicates|suggest|suggests|"
             r"confirm|confirms) that\b"), 1.0),
        (_rx(r"\bstate[- ]of[- ]the[- ]art\b", r"\bsota\b", r"\bsignificant(?:ly)?\b", r"\bsubstantial(?:ly)?\b",
             r"\bconsistent(?:ly)?\b", r"\bcompetitive\b", r"\bgains?\b", r"\baccuracy\b", r"\bspeedup\b",
             r"\bcompared (?:to|with)\b", r"\bbaselines?\b", r"\bleads? to\b", r"\bresult(?:s|ing)? in\b"), 0.6),
        (_rx(r"\b(?:our|these|the) (?:findings|results|experiments|analysis)\b", r"\bsurprising(?:ly)?\b",
             r"\bcan (?:still )?(?:degrade|harm|hurt|improve|enhance)\b"), 0.8),
    ],
    "contribution": [
        (_rx(r"\bwe (?:first |also |then )?(?:propose|introduce|present|develop|design|release|build|"
             r"create|construct|contribute|put forward|curate)\b"), 2.0),
        (_rx(r"\b(?:this|the present|our) (?:paper|work|study|article|note) (?:proposes|introduces|presents|"
             r"develops|designs|releases|builds|offers)\b"), 1.8),
        (_rx(r"\b(?:in )?(?:this|the present|our) (?:paper|work|study|article|note)\b",
             r"\bhere,? we\b"), 1.2),
        (_rx(r"\bwe (?:investigate|study|explore|examine|analy[sz]e|address|tackle|revisit|consider|"
             r"formulate|characteri[sz]e)\b"), 1.1),
        (_rx(r"\b(?:called|named|dubbed|termed)\b", r"\ba (?:novel|new|simple|general|unified|scalable)\b",
             r"\bnovel\b", r"\bframework\b", r"\bbenchmark\b"), 0.5),
    ],
    "method": [
        (_rx(r"\bwe (?:use|train|fine-tune|finetune|leverage|employ|apply|adopt|model|derive|combine|"
             r"incorporate|optimi[sz]e|compute|estimate|sample|collect|augment|replace|evaluate|test|"
             r"benchmark|compare|measure|conduct|perform)\b"), 1.4),
        (_rx(r"\b(?:uses|leverages|employs|incorporates|relies on|consists of|comprises|combines|utili[sz]es|"
             r"builds on|is based on|is trained|are trained|operates|encodes|decodes|maps|learns)\b"), 1.1),
        (_rx(r"\bto (?:this end|address|overcome|tackle|mitigate|solve|bridge|alleviate|remedy)\b",
             r"\bspecifically\b", r"\bby (?:using|leveraging|combining|introducing|learning|training|"
             r"exploiting|modeling|modelling|decomposing|treating|casting|adding|replacing)\b",
             r"\bbuilding on\b", r"\binstead of\b", r"\bunlike\b"), 0.9),
        (_rx(r"\b(?:module|objective|loss|architecture|encoder|decoder|algorithm|procedure|pipeline|"
             r"mechanism|regulari[sz]\w*|estimator|policy|reward|layer|attention|tokens?|datasets?|"
             r"benchmarks?|tasks?)\b"), 0.3),
    ],
    "background": [
        (_rx(r"\brecent(?:ly)?\b", r"\bin recent years\b", r"\badvance(?:s|ments)\b", r"\bhas become\b",
             r"\bhave become\b", r"\bhas been (?:widely|extensively|increasingly)\b",
             r"\bhave been (?:widely|extensively|increasingly)\b", r"\b(?:has|have) (?:attracted|gained|drawn|garnered|received)\b",
             r"\bgrowing\b", r"\bincreasingly\b", r"\bpopular\b", r"\bwidely\b"), 1.2),
        (_rx(r"\bremains? (?:a |an )?(?:challenging|challenge|difficult|open|unclear|elusive|limited|unknown|"
             r"underexplored|poorly)\b", r"\b(?:is|are) (?:still )?(?:lacking|limited|unclear|costly|"
             r"expensive|challenging|difficult)\b", r"\bstruggle\b", r"\black(?:s|ing)?\b",
             r"\bchalleng(?:e|es|ing)\b", r"\blimitations?\b", r"\bbottleneck\b", r"\bsuffer\b"), 1.0),
        (_rx(r"\b(?:existing|previous|prior|traditional|conventional|current|standard|most|many)\b "
             r"(?:\w+ ){0,3}?(?:methods?|approaches|works?|models?|techniques|systems|studies|research|"
             r"literature)\b", r"^\s*(?:however|despite|although|while|yet)\b"), 1.1),
        (_rx(r"\b(?:is|are|plays?) (?:a |an )?(?:fundamental|key|critical|crucial|central|important|"
             r"essential|core|promising|powerful)\b", r"\bis (?:a|an) (?:\w+ ){0,2}(?:problem|task|"
             r"paradigm|approach)\b", r"\bhave shown\b", r"\bhas shown\b", r"\bhave demonstrated\b",
             r"\bhas demonstrated\b"), 0.9),
    ],
    "other": [
        (_rx(r"https?://", r"\bgithub\b", r"\b(?:code|data|datasets?|models?|checkpoints?|implementation)"
             r"(?:,? (?:and|&) [\w, ]+)? (?:is|are|will be) (?:publicly |freely |made )?(?:available|released)\b",
             r"\bavailable at\b", r"\bproject page\b"), 3.0),
    ],
}

_TIE_ORDER = ("result", "contribution", "method", "background", "other")


def role_scores(sentence: str, position: int = 0, n_sentences: int = 1) -> dict[str, float]:
    """Sum of matched cue weights per role, plus a small position prior (first sentence leans background,
    the last ones lean result)."""
    return dict(_role_scores(sentence, position, n_sentences))  # a new dict each call: callers may change theirs


@lru_cache(maxsize=16384)
def _role_scores(sentence: str, position: int, n_sentences: int) -> tuple[tuple[str, float], ...]:
    """The same abstract sentences are scored for every question that retrieves them: match the cues once."""
    scores = {r: sum(w for rx, w in _CUES[r] if rx.search(sentence)) for r in ROLES}
    n = max(n_sentences, 1)
    relative = position / max(n - 1, 1)
    if position == 0 and n > 2:
        scores["background"] += 0.4
    if relative >= 0.6 and n > 2:
        scores["result"] += 0.3
    # "We show that X" reports a finding; "we show how to" describes a method.
    if re.search(r"\bwe show how\b", sentence, re.IGNORECASE):
        scores["result"] -= 1.6
        scores["method"] += 1.0
    return tuple(scores.items())


def role(sentence: str, position: int = 0, n_sentences: int = 1) -> str:
    """The sentence's role, one of ``ROLES``. A sentence with no cue at all is ``method`` in the middle
    of an abstract and ``background`` at its start."""
    scores = role_scores(sentence, position, n_sentences)
    best = max(_TIE_ORDER, key=lambda r: scores[r])
    if scores[best] <= 0.4:
        return "background" if position == 0 and n_sentences > 1 else "method"
    return best


_FINDING_BASE = {"result": 0.7, "contribution": 0.45, "method": 0.25, "background": 0.05, "other": 0.0}


def finding_score(sentence: str, position: int = 0, n_sentences: int = 1) -> float:
    """In [0, 1]: how strongly the sentence states what the paper found (results highest, then the
    contribution, then method; background and boilerplate near 0). Within a role, more result cues
    (numbers, reporting verbs) score higher."""
    scores = role_scores(sentence, position, n_sentences)
    kind = role(sentence, position, n_sentences)
    extra = 0.3 * min(max(scores["result"] - scores["background"], 0.0), 4.0) / 4.0
    return round(min(1.0, _FINDING_BASE[kind] + extra), 4)


def classify(text: str) -> list[tuple[str, str]]:
    """(sentence, role) for each sentence of an abstract, in order."""
    sentences = split_sentences(text)
    return [(s, role(s, i, len(sentences))) for i, s in enumerate(sentences)]
