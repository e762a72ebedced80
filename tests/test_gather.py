"""Query expansion for summaries: the words the confident papers share, as they write them (no index needed)."""

from __future__ import annotations

import pytest

from assistant.extractive import SentencePicker
from assistant.gather import expansion_terms

SEEDS = [
    "Program synthesis with language models: we study code generation from docstrings on Python benchmarks.",
    "CodeRL improves code generation by reinforcement learning with unit tests; Python programs pass more tests.",
    "A survey of code generation: compilers, Python and unit tests, and a new benchmark.",
]
OTHERS = [
    "We propose a diffusion model for images.", "Reinforcement learning for robots with sparse rewards.",
    "A benchmark for question answering.", "Language models hallucinate; we measure how often.",
]


def test_expansion_adds_words_the_confident_papers_share_as_they_write_them():
    picker = SentencePicker(SEEDS + OTHERS)
    terms = expansion_terms(picker, "getting language models to write programs", SEEDS, n=5)
    assert {"code", "generation", "python"} <= set(terms)  # shared by all three seeds, written out (not stems)
    assert len(terms) <= 5
    assert not {"language", "models", "programs", "program"} & set(terms)  # already in the topic


def test_expansion_ignores_words_only_one_confident_paper_uses():
    picker = SentencePicker(SEEDS + OTHERS)
    terms = expansion_terms(picker, "code generation", SEEDS)
    assert "docstrings" not in terms and "compilers" not in terms
    assert expansion_terms(picker, "code generation", SEEDS[:1]) == []  # one paper alone expands nothing


def test_topic_core_drops_which_papers_with_two_verbs():
    from assistant.gather import topic_core

    question = "Which papers build or study LLM-based agents that act in environments like the web or games?"
    assert topic_core(question) == "LLM-based agents that act in environments the web or games"
    assert topic_core("Which papers propose and evaluate benchmarks for reasoning?") == "benchmarks for reasoning"


def test_topic_core_drops_survey_as_a_request_but_keeps_survey_papers_as_the_topic():
    from assistant.gather import topic_core

    assert topic_core("Can you survey the work on model merging?") == "model merging"
    assert topic_core("Give me a survey of reward hacking") == "reward hacking"
    assert "survey or tutorial papers" in topic_core("Are there any survey or tutorial papers I could start from?")


def _found(cosine: float, coverage: float, relevances: list[float]):
    """Candidates most relevant first, each with the best-chunk cosine and keyword coverage given."""
    from assistant.gather import Candidate
    from assistant.retrieval import PaperHit
    from ingest.records import Paper

    out = []
    for i, rel in enumerate(relevances):
        hit = PaperHit(paper=Paper(title=f"Paper {i}", abstract="An abstract."), paper_id=f"p{i}", score=rel,
                       dense=cosine, bm25=None)
        out.append(Candidate(hit=hit, cosine=cosine, z=2.0, coverage=coverage, title_coverage=coverage, bm25=0.0,
                             relevance=rel))
    return out


def test_keywords_speak_for_a_topic_the_embedding_finds_near():
    from assistant.gather import on_topic

    # a cosine near the gate: the topic's keyword coverage decides
    assert on_topic(_found(0.33, 1.0, [0.9, 0.5, 0.2]))  # "optimal transport": a paper's own words
    assert not on_topic(_found(0.33, 0.30, [0.9, 0.5, 0.2]))


def test_topic_far_from_every_paper_abstains_whatever_its_keywords_cover():
    from assistant.gather import on_topic

    # "What are the common side effects of ibuprofen?": "side effects" covers much of it, no paper is near it
    assert not on_topic(_found(0.12, 0.61, [0.98, 0.95, 0.93]))


def test_topic_head_is_what_comes_before_an_explanation_or_a_list():
    from assistant.gather import topic_head

    assert topic_head("calibration, whether a model's confidence matches how often it's right") == "calibration"
    assert topic_head("online shopping, e-commerce or advertising") == "online shopping"
    assert topic_head("optimal transport") is None


@pytest.mark.slow
def test_topic_with_an_explanatory_clause_is_not_turned_away(real_settings):
    import assistant

    summary = assistant.summarize("calibration, i.e. whether a model's confidence matches how often it's right",
                                  settings=real_settings(), backend="extractive")
    assert not summary.abstained and len(summary.citations) >= 2
