"""The question's concepts (runs of consecutive content words) and the worst-matched one."""

from __future__ import annotations

import pytest

from assistant.concepts import concepts, weakest_concept, words


def _named(question: str) -> list[list[str]]:
    tokens = words(question)
    keep, spans = concepts(tokens)
    return [[tokens[keep[i]] for i in span] for span in spans]


def test_stop_words_and_punctuation_split_a_question_into_concepts():
    assert _named("How is test-time scaling applied to speech recognition?") == [
        ["test", "time", "scaling", "applied"], ["speech", "recognition"]]
    assert _named("How are spiking neural networks trained with surrogate gradients?") == [
        ["spiking", "neural", "networks", "trained"], ["surrogate", "gradients"]]


def test_numbers_and_short_words_end_a_concept_and_a_hyphen_does_not():
    assert _named("Which optimizers train very large models in 8-bit precision?") == [
        ["optimizers", "train"], ["large", "models"], ["bit", "precision"]]


def test_question_without_content_words_has_no_concepts_and_counts_as_unmatched():
    assert concepts(words("what is the of and?")) == ([], [])
    assert weakest_concept([], [], []) == 1.0


def test_one_unmatched_concept_weighs_more_than_the_same_misses_spread_over_concepts():
    spans = [[0, 1], [2, 3]]
    weights = [1.0, 1.0, 1.0, 1.0]
    whole_concept_missing = weakest_concept([1.0, 1.0, 0.0, 0.0], weights, spans)
    one_word_per_concept_missing = weakest_concept([1.0, 0.0, 1.0, 0.0], weights, spans)
    assert whole_concept_missing == pytest.approx(0.5) and one_word_per_concept_missing == pytest.approx(0.25)
    assert weakest_concept([1.0] * 4, weights, spans) == 0.0


def test_rare_words_weigh_more_in_a_concept():
    spans = [[0, 1]]
    assert weakest_concept([1.0, 0.0], [1.0, 3.0], spans) > weakest_concept([0.0, 1.0], [1.0, 3.0], spans)
