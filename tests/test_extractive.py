"""The extractive backend quotes the sentence that answers: the finding for what-questions, the method for how."""

from __future__ import annotations

import pytest

import assistant
from assistant.answering import FEATURES, AnsweringModel, ask_words
from assistant.extractive import SentencePicker, intent
from assistant.text import content_words

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


# A lookup that describes the paper and asks for one detail: the sentence restating the description matches
# the question's words best, the answer is elsewhere.
PERTURB = (
    "Hallucination remains one of the most critical challenges in deploying large language models. "
    "We present QueryGuard, a model that estimates whether a query will make a model hallucinate before any generation. "
    "The training procedure perturbs 412,305 queries several times and samples an output from each perturbed query. "
    "QueryGuard reaches 74.2% test F1 on detecting hallucination-prone queries."
)
HYPOTHESES = (
    "Large language models show promise in generating scientific hypotheses, yet existing work yields coarse ones. "
    "We define the task of fine-grained hypothesis discovery from coarse research directions. "
    "We propose a hierarchical search that adds details to the hypothesis step by step. "
    "Evaluations on a new benchmark of expert-annotated hypotheses from recent astronomy literature show that our "
    "method outperforms strong baselines."
)


UQ = (
    "Large language models need reliable uncertainty quantification for their deployment. "
    "We propose a probabilistic framework that quantifies the uncertainty of an answer by evaluating the diversity "
    "of the inputs that lead to a given output through perturbations. "
    "The framework supports various uncertainty measures, embeddings and perturbation strategies. "
    "We also propose GAPS, a perturbation algorithm based on genetic search, which enhances the diversity of sampled inputs. "
    "Experiments show that the framework outperforms existing uncertainty methods."
)


@pytest.mark.parametrize("abstract, question, fact", [
    (PERTURB, "How many queries were perturbed to train a model that predicts, before generation, whether a query "
              "makes an LLM hallucinate?", "412,305"),
    (HYPOTHESES, "From which scientific field does the expert-annotated benchmark for turning a coarse research "
                 "direction into a fine-grained hypothesis come?", "astronomy"),
    (UQ, "Along with a probabilistic uncertainty measure for LLM answers based on how varied the inputs leading to an "
         "output are, which perturbation algorithm was introduced?", "GAPS"),
], ids=["how-many", "which-field", "which-algorithm"])
def test_lookup_answer_states_the_asked_for_detail_not_only_the_sentence_restating_the_question(abstract, question, fact):
    picker = SentencePicker([PERTURB, HYPOTHESES, UQ, ABSTRACT, *OTHERS])
    quoted = picker.best_sentences(question, abstract)
    assert fact in " ".join(quoted)
    assert abstract.split(". ")[0] not in quoted[0]  # never the background sentence that opens the abstract


def test_the_asked_for_part_of_a_question_is_its_question_clause_not_the_description():
    assert ask_words("In RL with huge action spaces, how many queries were perturbed?") == content_words(
        "how many queries were perturbed")


def test_the_shipped_sentence_model_covers_every_feature_the_runtime_computes():
    assert AnsweringModel().features == FEATURES
