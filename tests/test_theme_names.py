"""Theme names of subfield summaries on the real corpus: distinctive, shared by the theme's papers, whole
noun phrases, distinct within a summary (the checks of ``evals/theme_names.py``)."""

from __future__ import annotations

import pytest

import assistant
from assistant.text import content_words
from evals.dataset import load_dataset
from tests.conftest import REPO

pytestmark = pytest.mark.slow
OVERVIEW = {q.id: q for q in load_dataset(REPO / "evals" / "datasets" / "overview.jsonl")}


def summarize(real_settings, topic: str):
    summary = assistant.summarize(topic, settings=real_settings(), backend="extractive")
    assert not summary.abstained and summary.themes
    return summary


def theme_texts(summary, theme) -> list[str]:
    by_n = {c.n: f"{c.title}. {c.abstract}" for c in summary.citations}
    return [by_n[i.n] for i in theme.items]


def test_theme_names_are_not_phrases_much_of_the_corpus_uses(real_settings):
    # these topics' themes were named "Reward model" (17 of the 266 papers use it), "Large language models"
    # (106) and "Neural networks" (29) while phrases of their own papers that few others use fit them
    from assistant.api import corpus_papers
    from evals.theme_names import GENERIC_SHARE, Corpus

    corpus = Corpus(corpus_papers(real_settings()))
    for topic in ("learning from preference feedback and preference optimization",
                  "verifiers and best-of-N selection for LLM outputs", OVERVIEW["s21-overview-09"].question):
        for theme in summarize(real_settings, topic).themes:
            assert corpus.share(theme.name) <= GENERIC_SHARE, (topic, theme.name)


def test_no_two_themes_of_a_summary_share_their_words(real_settings):
    # "Large reasoning models" beside "Reasoning models" told the reader nothing about either
    for topic in (OVERVIEW["overview-04"].question, "reinforcement learning with verifiable rewards for LLM reasoning"):
        words = [content_words(t.name) for t in summarize(real_settings, topic).themes]
        assert len(words) >= 2
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                assert not (a <= b or b <= a), (topic, a, b)


def test_theme_names_never_end_in_an_adjective(real_settings):
    # "Learning theoretic" and "Graph neural" were names cut inside a noun phrase
    import lemminflect

    for topic in ("learning-augmented algorithms and data-driven algorithm design",
                  "graph neural networks and network analysis"):
        for theme in summarize(real_settings, topic).themes:
            last = theme.name.split()[-1].lower()
            kinds = set(lemminflect.getAllLemmas(last)) if last.isalpha() else set()
            assert not (kinds and kinds <= {"ADJ", "ADV"}), (topic, theme.name)


def test_a_theme_of_several_papers_is_named_by_what_two_of_them_share(real_settings):
    # "Counterfactual explanations" (one title of six papers) named a knowledge-distillation theme, and
    # "Graph-on-Logits Distillation" (one title of four) a model-merging one. (A theme of two or three papers
    # that share no nameable phrase may fall back to its most central paper's phrase: themes.py docstring.)
    for topic in ("knowledge distillation", "model merging and model fusion"):
        summary = summarize(real_settings, topic)
        for theme in (t for t in summary.themes if len(t.items) >= 4):
            words = content_words(theme.name)
            assert sum(words <= content_words(text) for text in theme_texts(summary, theme)) >= 2, (topic, theme.name)


def test_in_a_summary_of_several_themes_no_name_only_repeats_the_topic(real_settings):
    summary = summarize(real_settings, "knowledge distillation")
    assert len(summary.themes) >= 2
    for theme in summary.themes:
        assert not content_words(theme.name) <= content_words("knowledge distillation"), theme.name


def test_a_one_paper_theme_is_named_from_its_title(real_settings):
    summary = summarize(real_settings, "learning from preference feedback and preference optimization")
    single = [t for t in summary.themes if len(t.items) == 1]
    assert single
    for theme in single:
        assert content_words(theme.name) <= content_words(theme.items[0].title), theme.name


@pytest.mark.parametrize("name, fragment", [("Graph neural", True), ("Learning theoretic", True),
                                            ("Highlights the importance", True), ("Catastrophic forgetting", False),
                                            ("Chain of Thought", False), ("GPT-4 evaluation", False)])
def test_the_name_metric_tells_a_cut_noun_phrase_or_clause_from_a_name(name, fragment):
    from evals.theme_names import is_fragment

    assert is_fragment(name) is fragment
