"""Gather every paper a summary should cover, for short topics and long chat-style overview questions alike.

1. The topic's core: the question without its scaffolding ("which papers here deal with ...", "give me an
   overview of ...", "and what do they find?"), so a long question is not diluted by words about asking.
2. Candidates: the core's nearest papers by embedding and by BM25, ``GATHER_DEPTH`` deep. Signals per candidate, each
   normalised for the query so long and short questions land on one scale:
   - ``z``: embedding similarity (best chunk) to the core, as a z-score against every paper of the corpus;
   - ``title_coverage``: IDF-weighted share of the core's content words in the title;
   - ``bm25``: the BM25 score relative to the best paper's (dense and keywords must agree);
   - ``prf``: similarity to the centroid of the three strongest candidates, as a z-score (pseudo-relevance
     feedback: papers central to a topic resemble each other, a paper matching on incidental words does not).
3. Query expansion from the confident core (RM3-style keyword feedback): a first pass over those four signals
   (``FIRST_WEIGHTS``) finds the papers surely on the topic; the words most of them share (weighted by IDF, as
   they are written there) are added to the core and BM25 is asked again. ``bm25_expanded`` is each paper's
   score for that longer query relative to the best; papers only it finds join the candidates. A paper in the
   topic's own vocabulary ("teacher", "student", "logits" for "knowledge distillation") now agrees with it.
4. The bar: a logistic model over the five signals gives each paper a relevance probability (``WEIGHTS``,
   fitted on the dev overview questions only by ``python -m evals.calibrate_summary``, the floor chosen by
   leave-one-question-out cross-validation on dev); a paper is kept when the probability reaches
   ``summary_min_relevance`` and ``summary_relative_to_top`` of the best paper's. ``breadth`` (narrow /
   normal / wide) moves both; ``min_relevance`` replaces the first.
5. Never abstain when papers are clearly on the topic: when the corpus is relevant at all (``on_topic``: the
   best embedding similarity and the best keyword coverage together clear ``TOPIC_GATE``, for the topic or
   for its head before an explanation or a list, ``topic_head``), at least the
   ``MIN_KEEP`` best papers are kept, as long as each is at least ``PAD_RELATIVE`` as relevant as the best.
"""

from __future__ import annotations

import math
import re
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.retrieval import PaperHit
from assistant.text import STOPWORDS, content_words, stem
from common.errors import PapersError

GATHER_DEPTH = 60
MIN_KEEP = 3  # never abstain on a topic with this many clearly relevant papers
# ... but pad up to MIN_KEEP only with papers at least this share of the best paper's relevance: "shortcut
# learning" kept a third paper at 0.09 beside two at 0.35 (dev leave-one-question-out, python -m
# evals.calibrate_summary: recall 0.758 -> 0.755, precision 0.706 -> 0.726; flat from 0.25 to 0.7)
PAD_RELATIVE = 0.5
PRF_SEEDS = 3
# The on-topic gate: (1 - a) x the best cosine + a x the best keyword coverage among the ten best candidates must
# reach the bar. A topic far from every paper is turned away whatever a few of its words cover ("side effects
# of ibuprofen" covers 0.61 of its words at cosine 0.12), and a topic named by a paper's own words passes at a
# modest cosine ("optimal transport": cosine 0.33, coverage 1.0). Fitted on dev (python -m evals.calibrate_summary):
# a from the widest margin between the generic off-topic questions and the summary topics, the bar with the
# fewest errors over those and the abstain questions worded as overview requests ("Which papers use graph
# networks for global weather forecasting?": 0.375), the higher bar on a tie.
TOPIC_GATE = (0.35, 0.3838)
EXPANSION_SEEDS = 5  # at most this many confident papers feed the query expansion
EXPANSION_TERMS = 8  # words added to the core (each shared by at least two of the seeds)
CONFIDENT = 0.5  # first-pass relevance of a seed (the two best papers seed it when none reach this)
# First pass, over (z, title_coverage, prf, bm25): finds the confident core the expansion reads.
FIRST_WEIGHTS = (0.988, 2.374, 0.529, 4.189)
FIRST_INTERCEPT = -7.435
# The bar, over (z, title_coverage, prf, bm25, bm25_expanded), and its intercept: fitted on the dev split of
# evals/datasets/overview.jsonl, gold.jsonl subfield and hard.jsonl overview questions (python -m evals.calibrate_summary).
WEIGHTS = (1.261, 2.454, 0.221, 3.216, 1.732)
INTERCEPT = -7.245
# breadth -> (multiplier of summary_min_relevance, summary_relative_to_top override or None)
BREADTHS = {"narrow": (3.0, 0.3), "normal": (1.0, None), "wide": (0.4, 0.0)}

# Ways of asking for an overview that say nothing about the topic itself (removed before embedding).
_SCAFFOLD = [
    r"i'?m (?:looking for|writing|interested in|trying to (?:find|understand))(?: (?:a|the|some))?(?: related[- ]work section| work| papers| research)?(?: on| about)?",
    r"(?:can|could) you (?:please )?(?:give me|provide|write)?",
    r"(?:give|show|tell) me",
    r"(?:please )?(?:summari[sz]e|overview of|an overview of|a summary of|(?:an? )?survey(?! (?:or|and|papers?|articles?|works?)\b)(?: of| on)?)",  # "survey papers" is a topic
    r"what (?:does|do|did) (?:the|this) (?:corpus|collection|literature|research|work|papers?)(?: in this collection| here)? (?:say|tell us|know) about",
    r"what (?:have|has) (?:people|researchers|papers|the papers|work)(?: in this collection| here)? (?:found|shown|learned|done)(?: about| on)?",
    r"what (?:work|papers|research|approaches|methods)(?: here| in this collection)? (?:exists? )?(?:on|about|to|for)?",
    r"which (?:papers|works|articles|studies)(?: here| in (?:this|the) (?:collection|corpus))?(?: (?:deal|work|are concerned) with| _VERB(?: (?:or|and) _VERB)?| on| about)?",
    r"(?:the|all the) (?:papers|work|research|literature)(?: here| in this collection)? (?:on|about)",
    r"(?:in|of) (?:this|the) (?:collection|corpus)",
    r"and (?:what|how) (?:do|did|does) (?:they|it) (?:find|found|measure|do|use them for|show)",
    r"and what do they use them for",
    r"and how",
    r"for example|such as|like",
    r"(?:is|are) covered",
]
# What papers do, in "which papers <verb> [or <verb>] X" ("which papers build or study LLM agents ...").
_VERB = r"(?:study|studies|address|cover|discuss|propose|use|apply|improve|introduce|build|develop|design|evaluate|analy[sz]e|are about|focus on|look at)"
_SCAFFOLD_RX = re.compile(r"\b(?:" + "|".join(_SCAFFOLD).replace("_VERB", _VERB) + r")\b|\b(?:e\.g|i\.e)\.", re.IGNORECASE)


def topic_core(question: str) -> str:
    """The question without overview scaffolding: what the papers must be about."""
    core = _SCAFFOLD_RX.sub(" ", question)
    core = re.sub(r"[?!:;]+|(?<!\w)\.|\.(?!\w)", " ", core)
    core = re.sub(r"\s*,\s*", ", ", core)
    core = re.sub(r"\s+", " ", core).strip(" ,")
    return core if content_words(core) else question


@dataclass
class Candidate:
    hit: PaperHit
    cosine: float  # similarity of the paper's best chunk to the topic core
    z: float  # that similarity as a z-score against every paper of the corpus
    coverage: float  # IDF-weighted share of the core's words in title + abstract
    title_coverage: float  # ... in the title alone
    bm25: float  # keyword score relative to the best candidate's (0 when BM25 did not retrieve it)
    prf: float = 0.0  # similarity to the strongest candidates' centroid, z-scored against the corpus
    bm25_expanded: float = 0.0  # keyword score for the core plus the confident papers' shared words, relative
    relevance: float = 0.0  # probability that the paper is central to the topic (the logistic bar)

    def features(self) -> list[float]:
        """The bar's inputs, in ``WEIGHTS`` order (the calibration fits on exactly these)."""
        return [self.z, self.title_coverage, self.prf, self.bm25, self.bm25_expanded]


class CorpusVectors:
    """Every chunk vector of the index, normalised, and each paper's mean vector: one product scores the corpus."""

    def __init__(self, retriever: Any) -> None:
        got = retriever.collection.get(include=["embeddings", "metadatas"])
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        self.chunks = _normalise(matrix)
        self.chunk_papers = [m["paper_id"] for m in got["metadatas"]]
        self.paper_ids = sorted(set(self.chunk_papers))
        self.row = {pid: i for i, pid in enumerate(self.paper_ids)}
        sums = np.zeros((len(self.paper_ids), matrix.shape[1]), dtype=np.float32)
        for vec, pid in zip(self.chunks, self.chunk_papers):
            sums[self.row[pid]] += vec
        self.papers = _normalise(sums)

    def best_chunk_cosines(self, query_vector: list[float]) -> dict[str, float]:
        q = _normalise(np.asarray(query_vector, dtype=np.float32)[None, :])[0]
        best: dict[str, float] = {}
        for pid, s in zip(self.chunk_papers, (self.chunks @ q).tolist()):
            if s > best.get(pid, -2.0):
                best[pid] = s
        return best

    def centroid_zscores(self, seeds: list[str]) -> dict[str, float]:
        centroid = _normalise(self.papers[[self.row[p] for p in seeds if p in self.row]].mean(axis=0)[None, :])[0]
        return _zscores(dict(zip(self.paper_ids, (self.papers @ centroid).tolist())))


def _normalise(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)


def _zscores(values: dict[str, float]) -> dict[str, float]:
    """Each value as a z-score against all of them: similarity relative to the whole corpus for this query."""
    if not values:
        return {}
    mean = sum(values.values()) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values)) or 1.0
    return {k: (v - mean) / std for k, v in values.items()}


_VECTORS: "weakref.WeakKeyDictionary[Any, CorpusVectors]" = weakref.WeakKeyDictionary()


def corpus_vectors(retriever: Any) -> CorpusVectors:
    if retriever not in _VECTORS:
        _VECTORS[retriever] = CorpusVectors(retriever)
    return _VECTORS[retriever]


def _logistic(weights: tuple[float, ...], intercept: float, values: list[float]) -> float:
    x = intercept + sum(w * v for w, v in zip(weights, values))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def first_pass(c: Candidate) -> float:
    return _logistic(FIRST_WEIGHTS, FIRST_INTERCEPT, c.features()[:4])


def relevance(c: Candidate) -> float:
    return _logistic(WEIGHTS, INTERCEPT, c.features())


_SURFACE = re.compile(r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]")


def expansion_terms(picker: Any, core: str, texts: list[str], n: int = EXPANSION_TERMS) -> list[str]:
    """Up to ``n`` words that at least two of ``texts`` share and the core lacks, rarest-in-corpus first (by
    count x IDF), each written as the texts most often write it (BM25 stems on its own)."""
    have = content_words(core)
    seen: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        words = {}
        for w in _SURFACE.findall(text):
            low = w.lower()
            if low in STOPWORDS or len(low) <= 2 or "-" in low:
                continue
            key = stem(low)
            if key not in have:
                words.setdefault(key, Counter())[low] += 1
        for key, counts in words.items():
            seen[key] += 1
            forms.setdefault(key, Counter()).update(counts)
    scored = sorted(((count * picker.idf(key), key) for key, count in seen.items() if count >= 2), reverse=True)
    return [forms[key].most_common(1)[0][0] for _, key in scored[:n]]


def _bm25_scores(retriever: Any, text: str, depth: int) -> dict[str, float]:
    """Each paper's best BM25 chunk score among the ``depth`` best chunks (keywords only: no embedding call)."""
    best: dict[str, float] = {}
    for node in retriever.keyword_nodes(text, depth):
        pid = node.metadata.get("paper_id")
        if pid in retriever.papers:
            best[pid] = max(best.get(pid, 0.0), float(node.score or 0.0))
    return best


def candidates(assistant: Any, topic: str) -> list[Candidate]:
    """The papers a summary considers (the ``GATHER_DEPTH`` most similar by embedding, those BM25 finds in its
    ``2 x GATHER_DEPTH`` best chunks for the core and for the expanded core, and papers by an author named in
    the topic), most relevant first, with the signals and the relevance the bar uses. One query embedding
    scores the whole corpus."""
    retriever = assistant.retriever
    core = topic_core(topic)
    vectors = corpus_vectors(retriever)
    cosines = vectors.best_chunk_cosines(retriever.query_embedding(core))  # shares the retriever's per-question cache
    zs = _zscores(cosines)
    bm25 = _bm25_scores(retriever, core, 2 * GATHER_DEPTH)
    authors = retriever.authors_in(topic)
    pool = sorted(cosines, key=lambda pid: -cosines[pid])[:GATHER_DEPTH]
    pool += [pid for pid in list(bm25) + sorted(authors) if pid not in set(pool)]
    top_bm25 = max(bm25.values(), default=0.0) or 1.0

    def candidate(pid: str) -> Candidate:
        paper = retriever.papers[pid]
        hit = PaperHit(paper=paper, paper_id=pid, score=0.0, dense=cosines.get(pid), bm25=bm25.get(pid),
                       author_match=pid in authors, texts=[paper.abstract])
        return Candidate(
            hit=hit, cosine=cosines.get(pid, 0.0), z=zs.get(pid, 0.0),
            coverage=assistant.picker.coverage(core, [f"{paper.title} {paper.abstract}"]),
            title_coverage=assistant.picker.coverage(core, [paper.title]), bm25=bm25.get(pid, 0.0) / top_bm25)

    out = [candidate(pid) for pid in dict.fromkeys(pool)]
    seeds = sorted(out, key=lambda c: -(c.z + 2 * c.coverage))[:PRF_SEEDS]
    prf = vectors.centroid_zscores([c.hit.paper_id for c in seeds]) if seeds else {}
    for c in out:
        c.prf = prf.get(c.hit.paper_id, 0.0)
    _expand(assistant, core, out, candidate, prf)
    for c in out:
        c.relevance = c.hit.score = relevance(c)
    return sorted(out, key=lambda c: -c.relevance)


def _expand(assistant: Any, core: str, out: list[Candidate], candidate: Any, prf: dict[str, float]) -> None:
    """Keyword feedback from the confident core: sets ``bm25_expanded`` on every candidate and appends the
    papers only the expanded query finds (in place)."""
    first = sorted(out, key=lambda c: -first_pass(c))
    confident = [c for c in first if first_pass(c) >= CONFIDENT][:EXPANSION_SEEDS] or first[:2]
    terms = expansion_terms(assistant.picker, core, [f"{c.hit.paper.title}. {c.hit.paper.abstract}" for c in confident])
    if not terms:
        for c in out:
            c.bm25_expanded = c.bm25
        return
    expanded = _bm25_scores(assistant.retriever, f"{core} {' '.join(terms)}", 2 * GATHER_DEPTH)
    top = max(expanded.values(), default=0.0) or 1.0
    known = {c.hit.paper_id for c in out}
    for pid in expanded:
        if pid not in known:
            c = candidate(pid)
            c.prf = prf.get(pid, 0.0)
            out.append(c)
    for c in out:
        c.bm25_expanded = expanded.get(c.hit.paper_id, 0.0) / top


def topic_score(found: list[Candidate], coverage_weight: float) -> float:
    """(1 - w) x the best cosine + w x the best keyword coverage among the ten best candidates."""
    top = found[:10]
    return ((1.0 - coverage_weight) * max((c.cosine for c in top), default=0.0)
            + coverage_weight * max((c.coverage for c in top), default=0.0))


def on_topic(found: list[Candidate], gate: tuple[float, float] = TOPIC_GATE, head: list[Candidate] | None = None) -> bool:
    """Is the corpus on this topic at all (``found`` most relevant first)? A paper by a named author among the
    ten best candidates, or a ``topic_score`` over the gate's bar (``TOPIC_GATE``: coverage weight, bar), of
    the topic or of its head (``head``: the candidates of ``topic_head``)."""
    if any(c.hit.author_match for c in found[:10]):
        return True
    return max(topic_score(found, gate[0]), topic_score(head, gate[0]) if head else 0.0) >= gate[1]


def topic_head(core: str) -> str | None:
    """The topic's head before an explanation or a list ("calibration, whether a model's confidence matches
    how often it's right" -> "calibration"; "online shopping, e-commerce or advertising" -> "online
    shopping"): one to four content words, fewer than the whole topic's; None when there is no such head."""
    head = re.split(r"\s*[,;:(]\s*|\s+-\s+", core, maxsplit=1)[0].strip()
    n = len(content_words(head))
    return head if head != core and 1 <= n <= 4 and n < len(content_words(core)) else None


def thresholds(assistant: Any, breadth: str, min_relevance: float | None) -> tuple[float, float]:
    """(least relevance probability, least share of the best paper's) for this breadth."""
    if breadth not in BREADTHS:
        raise PapersError(f"unknown breadth {breadth!r}: use one of {', '.join(BREADTHS)}")
    if min_relevance is not None and not 0.0 <= min_relevance <= 1.0:
        raise PapersError(f"--min-relevance must be between 0 and 1, got {min_relevance}")
    cfg = assistant.settings.summary
    scale, relative = BREADTHS[breadth]
    floor = min_relevance if min_relevance is not None else min(1.0, cfg.summary_min_relevance * scale)
    return floor, cfg.summary_relative_to_top if relative is None else relative


def select(assistant: Any, found: list[Candidate], breadth: str = "normal",
           min_relevance: float | None = None, head: list[Candidate] | None = None) -> list[Candidate]:
    """The candidates that clear the bar, most relevant first; at least ``MIN_KEEP`` when the corpus covers
    the topic (or its head: ``head``, the head's candidates) at all; none when it does not."""
    floor, relative = thresholds(assistant, breadth, min_relevance)
    if not on_topic(found, head=head):
        return []
    ranked = sorted(found, key=lambda c: (not c.hit.author_match, -c.relevance))
    top = ranked[0].relevance if ranked else 0.0
    kept = [c for c in ranked if c.hit.author_match or (c.relevance >= floor and c.relevance >= relative * top)]
    return kept if len(kept) >= MIN_KEEP else [c for c in ranked[:MIN_KEEP] if c in kept or c.relevance >= PAD_RELATIVE * top]


def gather(assistant: Any, topic: str, max_papers: int, breadth: str = "normal",
           min_relevance: float | None = None) -> tuple[list[PaperHit], int, bool]:
    """Relevant papers best first, how many were considered, and whether the cap cut some off."""
    found = candidates(assistant, topic)
    head = topic_head(topic_core(topic)) if not on_topic(found) else None  # only to rescue a topic the gate turns away
    kept = select(assistant, found, breadth, min_relevance, candidates(assistant, head) if head else None)
    return [c.hit for c in kept[:max_papers]], len(found), len(kept) > max_papers
