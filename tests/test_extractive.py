"""The extractive backend quotes the sentence that answers: the finding for what-questions, the method for how."""

from __future__ import annotations

import pytest

import assistant
from assistant.extractive import SentencePicker, intent

ABSTRACT = (
    "Accurately detecting rice flowering time is crucial for timely pollination in hybrid rice seed production. "
    "To address this, this study proposes a rice spikelet flowering recognition method based on an improved YOLOv8 model. "
    "First, a Bidirectional Feature Pyramid Network replaces the original PANet structure to enhance feature fusion. "
    "Experimental results show that the improved model achieves an mAP@0.5 of 65.9% and a precision of 67.6%."
)
OTHERS = ["We propose TAROT, a targeted data selection framework.", "KOALA++ is a Kalman-based optimizer."] * 20


def test_what_score_question_gets_the_result_sentence():
    picker = SentencePicker([ABSTRACT, *OTHERS])
    quoted = picker.best_sentences("What score does the rice spikelet flowering detector reach?", ABSTRACT)
    assert any("65.9%" in s for s in quoted)
    assert not any(s.startswith("Accurately detecting") for s in quoted)  # never the background sentence


def test_how_question_gets_the_method_sentence():
    picker = SentencePicker([ABSTRACT, *OTHERS])
    best = picker.best_sentence("How does the rice flowering detector improve feature fusion?", ABSTRACT)
    assert best.startswith("First, a Bidirectional Feature Pyramid Network")


@pytest.mark.parametrize("question, wanted", [
    ("How much faster is the new optimizer?", "result"),
    ("Does data selection with optimal transport beat random sampling?", "result"),
    ("How does TAROT weight the features?", "method"),
    ("Which paper proposes a Kalman-based optimizer?", "identify"),
])
def test_question_intent(question, wanted):
    assert intent(question) == wanted


@pytest.mark.slow
def test_extractive_answer_on_the_real_index_states_the_asked_for_number(real_settings):
    answer = assistant.ask("What mAP does the improved detector of rice spikelet flowering reach?", settings=real_settings(),
                           backend="extractive")
    assert "65.9%" in answer.answer and "YOLOv8" in answer.citations[0].title
