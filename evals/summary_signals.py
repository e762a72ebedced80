"""New ordering signals for the summary bar, each added to its five, measured on dev only (session 22).

Run: .venv/bin/python -m evals.summary_signals
The bar's losses are in the order of the candidates (`evals.summary_headroom`), so each signal below is added
to ``Candidate.features()`` and the bar refitted by leave-one-question-out cross-validation on the dev questions
of `evals.calibrate_summary` (fit and floor chosen without the held-out question, as there). Printed per
variant: that cross-validated recall / precision, and the out-of-fold curve's recall at mean precision
>= ``--min-precision`` (one floor swept over the held-out probabilities). Signals, for the topic core:
- ``concept``: the worst-matched concept of the core (`assistant.concepts`: runs of content words), its IDF
  share times how badly the paper's title + abstract match it, lexically (``concept_lex``) and by
  late-interaction MaxSim (``concept_li``, `assistant.late_interaction`); and the mean over concepts of how
  badly each is matched (``concept_lex_mean``, ``concept_li_mean``): a paper matching one concept of two
  ("synthesis recipe" in a circuits paper for "data selection for instruction tuning") is incidental;
  ``andor_lex`` / ``andor_li``: the same with the core's structure: concepts separated only by commas, "and",
  "or" (and articles) are alternatives ("self-training, self-play or self-editing"), the others all needed
  ("data selection" | "instruction tuning"): 1 - the worst needed group's best alternative's match; and
  ``andor_lex_mean`` / ``andor_li_mean``: 1 - the mean over needed groups of their best alternative's match;
- ``title_z``: cosine of the core's embedding to the embedding of the paper's title alone, z-scored against
  every title of the corpus (like ``z``, which reads the best chunk);
- density: how much of the abstract is on the topic: the share of abstract sentences whose MiniLM vector
  (pooled in its passage, `assistant.late_interaction`) has cosine >= a level to the core's vector
  (``dense_share@L``), the mean of the two best sentences (``dense_top2``), and the share of sentences that
  cover at least half the core's IDF-weighted words (``lex_share``);
- ``answerability``: the answers' per-source probability (`assistant.answerability`, its cascade) for the
  core as the question, the candidates in the bar's order as the hits.
Test questions are never read. Prints; changes nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from assistant.api import get_assistant, summary_candidates
from assistant.concepts import concepts, weakest_concept, words as concept_words
from assistant.gather import Candidate, _zscores, topic_core
from assistant.text import content_words, split_sentences, stem
from common.settings import Settings
from evals.calibrate_summary import Row, leave_one_out, questions, recall_precision

DENSITY_LEVELS = (0.3, 0.4, 0.5)
BASE = ("z", "title_coverage", "prf", "bm25", "bm25_expanded")
_OR = {",", "and", "or", "/"}
_ARTICLES = {"the", "a", "an", "its", "their"}


def mean_miss(scores: list[float], weights: list[float], spans: list[list[int]]) -> float:
    """Mean over concepts of (1 - the concept's IDF-weighted mean score); 1 with no concept."""
    misses = []
    for span in spans:
        w = sum(weights[i] for i in span)
        if w > 0:
            misses.append(1.0 - sum(scores[i] * weights[i] for i in span) / w)
    return float(np.mean(misses)) if misses else 1.0


def needed_groups(tokens: list[str], keep: list[int], spans: list[list[int]]) -> list[list[list[int]]]:
    """The concepts grouped into alternatives: a concept joins the previous group when only commas, "and",
    "or" (and articles) separate them."""
    out: list[list[list[int]]] = []
    for k, span in enumerate(spans):
        between = tokens[keep[spans[k - 1][-1]] + 1 : keep[span[0]]] if k else []
        if k and any(t in _OR for t in between) and all(t in _OR | _ARTICLES for t in between):
            out[-1].append(span)
        else:
            out.append([span])
    return out


def andor_miss(scores: list[float], weights: list[float], groups: list[list[list[int]]]) -> tuple[float, float]:
    """(1 - the worst needed group's match, 1 - the mean needed group's match); a group matches as its best
    alternative, a concept as the IDF-weighted mean of its words' scores."""
    def match(span: list[int]) -> float:
        return sum(scores[i] * weights[i] for i in span) / max(sum(weights[i] for i in span), 1e-9)
    best = [max(match(span) for span in group) for group in groups] or [0.0]
    return 1.0 - min(best), 1.0 - float(np.mean(best))


class TitleVectors:
    """Every paper's title embedded once (the experiment's stand-in for a per-index cache)."""

    def __init__(self, assistant) -> None:
        retriever = assistant.retriever
        self.ids = sorted(retriever.papers)
        start = time.perf_counter()
        m = np.asarray(retriever.encoder.encode([retriever.papers[p].title for p in self.ids]), dtype=np.float32)
        self.seconds = time.perf_counter() - start
        self.matrix = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)

    def zscores(self, query_vector: list[float]) -> dict[str, float]:
        q = np.asarray(query_vector, dtype=np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-9)
        return _zscores(dict(zip(self.ids, (self.matrix @ q).tolist())))


def add_signals(assistant, titles: TitleVectors, topic: str, found: list[Candidate]) -> None:
    """Sets ``c.extra`` (signal name -> value) on every candidate of one topic."""
    picker, late = assistant.picker, assistant.answerability.late
    core = topic_core(topic)
    tokens = concept_words(core)
    keep, spans = concepts(tokens)
    groups = needed_groups(tokens, keep, spans)
    stems = [stem(tokens[i]) for i in keep]
    weights = [picker.idf(w) for w in stems]
    title_z = titles.zscores(assistant.retriever.query_embedding(core))
    hits = [c.hit for c in found]
    qv, idf, pooled, li_spans = late.question(core)
    vectors = late.paper_vectors(hits)
    _, probs = assistant.answerability.probabilities(core, hits)
    for c, (paper_words, sentences), p in zip(found, vectors, probs):
        paper = c.hit.paper
        have = content_words(f"{paper.title} {paper.abstract}")
        lex = [float(w in have) for w in stems]
        best = (qv @ paper_words.T).max(axis=1).tolist() if len(idf) and len(paper_words) else [0.0] * len(idf)
        li_w = idf.tolist()
        sims = sentences @ pooled if len(sentences) else np.zeros(1)
        top2 = np.sort(sims)[::-1][:2]
        abstract_sentences = split_sentences(paper.abstract) or [paper.abstract]
        li_words = (best + [0.0] * len(weights))[: len(weights)]  # the tokenizer splits words as concepts.words does
        c.extra = {
            "concept_lex": weakest_concept(lex, weights, spans),
            "concept_lex_mean": mean_miss(lex, weights, spans),
            "concept_li": weakest_concept(best, li_w, li_spans) if len(idf) else 1.0,
            "concept_li_mean": mean_miss(best, li_w, li_spans) if len(idf) else 1.0,
            **dict(zip(("andor_lex", "andor_lex_mean"), andor_miss(lex, weights, groups))),
            **dict(zip(("andor_li", "andor_li_mean"), andor_miss(li_words, weights, groups))),
            "title_z": title_z.get(c.hit.paper_id, 0.0),
            "dense_top2": float(top2.mean()),
            "lex_share": float(np.mean([picker.coverage(core, [s]) >= 0.5 for s in abstract_sentences])),
            "answerability": p,
            **{f"dense_share@{lv}": float((sims >= lv).mean()) for lv in DENSITY_LEVELS},
        }


def feature_fn(names: tuple[str, ...]):
    def features(c: Candidate) -> list[float]:
        return c.features() + [c.extra[n] for n in names]
    return features


def loqo(rows: list[Row], names: tuple[str, ...], min_precision: float) -> tuple[float, float, float, float]:
    """(CV recall, CV precision, out-of-fold recall at ``min_precision``, its precision) with ``names`` added."""
    cv, oof = leave_one_out(rows, min_precision, feature_fn(names))
    curve = [recall_precision(rows, oof, f) for f in [x / 200 for x in range(2, 121)]]
    ok = [r for r in curve if r[1] >= min_precision] or curve
    best = max(ok)
    return float(cv[0]), float(cv[1]), best[0], best[1]


VARIANTS: list[tuple[str, ...]] = [
    (), ("concept_lex",), ("concept_li",), ("concept_lex_mean",), ("concept_li_mean",),
    ("concept_lex", "concept_li"), ("concept_lex", "concept_lex_mean", "concept_li", "concept_li_mean"),
    ("andor_lex",), ("andor_li",), ("andor_lex_mean",), ("andor_li_mean",), ("andor_lex_mean", "andor_li_mean"),
    ("title_z",), ("dense_top2",), ("lex_share",), *[(f"dense_share@{lv}",) for lv in DENSITY_LEVELS],
    ("answerability",), ("concept_li_mean", "answerability"), ("concept_lex", "dense_top2", "answerability"),
    ("concept_li_mean", "dense_top2", "answerability", "title_z", "andor_li"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-precision", type=float, default=0.70)
    parser.add_argument("--combine", nargs="*", default=[], help="extra variant: these signals together")
    args = parser.parse_args()
    settings = Settings()
    assistant = get_assistant(settings)
    titles = TitleVectors(assistant)
    rows = [(q, summary_candidates(topic, settings=settings)) for q, topic in questions() if q.split == "dev"]
    start = time.perf_counter()
    for (q, found), (_, topic) in zip(rows, [qt for qt in questions() if qt[0].split == "dev"]):
        add_signals(assistant, titles, topic, found)
    print(f"dev, {len(rows)} questions; titles embedded in {titles.seconds:.2f} s ({len(titles.ids)} papers), "
          f"signals in {time.perf_counter() - start:.1f} s")
    variants = VARIANTS + ([tuple(args.combine)] if args.combine else [])
    for names in variants:
        rec, prec, oof_rec, oof_prec = loqo(rows, names, args.min_precision)
        print(f"  {' + '.join(BASE + names) if not names else '+ ' + ' + '.join(names):60s} "
              f"LOQO {rec:.3f} / {prec:.3f}   out-of-fold recall at >= {args.min_precision}: {oof_rec:.3f} / {oof_prec:.3f}")


if __name__ == "__main__":
    main()
