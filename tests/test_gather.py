"""Query expansion for summaries: the words the confident papers share, as they write them (no index needed)."""

from __future__ import annotations

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
