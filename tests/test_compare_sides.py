"""Comparison questions as users phrase them: a choice ("which works better, A or B?"), the two works after a
colon, a closing "Contrast them.", a split word used inside a description. Each reaches the comparison path
and splits into its two described works."""

from __future__ import annotations

import pytest

import assistant
from assistant.compare import split_sides
from assistant.route import question_kind


@pytest.mark.parametrize("question", [
    "Which works better for picking one of several sampled answers: weighting each answer by the model's own "
    "probability with a majority vote, or scoring each answer by how confident its token distribution is?",
    "For data augmentation, which helps generalization more: learning which image transformations to apply "
    "during training, or shifting feature statistics adversarially?",
    "Learning which image transformations to apply during training or shifting feature statistics "
    "adversarially: which is better?",
])
def test_choice_between_two_described_works_is_routed_as_a_comparison(question):
    assert question_kind(question) == "compare"


@pytest.mark.parametrize("question", [
    "Which is better for small datasets, fine-tuning or prompting?",
    "Which optimizer converged faster in the Kalman paper, Adam or SGD?",
])
def test_choice_between_named_things_stays_a_direct_answer(question):
    assert question_kind(question) == "answer"


def test_choice_splits_at_its_or_not_at_a_with_inside_a_description():
    assert split_sides("Which is more useful for wireless networks, steering the beam of an antenna surface with a "
                       "bandit algorithm or predicting signal strength maps from building data?") == [
        "steering the beam of an antenna surface with a bandit algorithm",
        "predicting signal strength maps from building data"]


def test_choice_clause_after_the_two_works_is_dropped():
    assert split_sides("Learning which image transformations to apply during training or shifting feature statistics "
                       "adversarially: which is better?") == [
        "Learning which image transformations to apply during training", "shifting feature statistics adversarially"]


def test_two_works_described_after_a_colon_are_split_there():
    assert split_sides("How do the two systems that dispatch requests among LLMs differ: the one that guarantees a "
                       "service level at the lowest cost, and the one that routes each prompt with a learned predictor?") == [
        "the one that guarantees a service level at the lowest cost", "the one that routes each prompt with a learned predictor"]


def test_closing_contrast_them_sentence_is_not_part_of_the_second_work():
    assert split_sides("Two ways to cut overthinking: a model that decides per query whether to reason at length, and "
                       "pruning the verification steps of distilled chains of thought. Contrast them.") == [
        "a model that decides per query whether to reason at length",
        "pruning the verification steps of distilled chains of thought"]


def test_split_word_used_twice_splits_where_both_descriptions_keep_their_words():
    # "with" occurs inside the first description and between the two works: the second one leaves two descriptions
    assert split_sides("Contrast fixing over-confidence with groups of similar samples rather than confidence bins "
                       "with keeping an updated classifier from breaking old correct predictions.") == [
        "fixing over-confidence with groups of similar samples rather than confidence bins",
        "keeping an updated classifier from breaking old correct predictions"]


@pytest.mark.slow
def test_choice_question_gets_a_table_citing_both_papers(real_settings):
    answer = assistant.ask("Which is more useful for wireless networks, learning where to point the beam of a programmable "
                           "antenna surface with a bandit algorithm or predicting signal strength maps from building "
                           "and terrain data?", settings=real_settings(), backend="extractive")
    assert answer.kind == "compare" and [r["n"] for r in answer.comparison] == [1, 2]
    assert {"HoloBeam", "Geo2SigMap"} <= {c.title.split(":")[0] for c in answer.citations}


@pytest.mark.slow
def test_colon_form_comparison_cites_both_papers(real_settings):
    answer = assistant.ask("How do the two systems that dispatch requests among many LLMs differ: the one that picks a "
                           "model from a zoo while guaranteeing a service level at minimum cost, and the one that routes "
                           "each user prompt in real time to one of many expert models?",
                           settings=real_settings(), backend="extractive")
    assert answer.kind == "compare" and [r["n"] for r in answer.comparison] == [1, 2]
    assert {"MESS+", "Tryage"} <= {c.title.split(":")[0] for c in answer.citations}


_A = "the optimizer that tracks gradient uncertainty with a Kalman-style update"
_B = "the method that builds cheap surrogate losses in the output space"


@pytest.mark.parametrize("question", [
    f"How is {_A} different from {_B}?",
    f"What distinguishes {_A} from {_B}?",
    f"What sets {_A} apart from {_B}?",
    f"How does {_A} stack up against {_B}?",
    f"Tell me how {_A} and {_B} differ.",
    f"{_A} and {_B}: how do they differ?",
    f"Where do {_A} and {_B} differ?",
])
def test_looser_comparison_wording_between_two_described_works_is_a_comparison(question):
    assert question_kind(question) == "compare" and split_sides(question) == [_A, _B]


@pytest.mark.parametrize("question", [
    f"I'd like a comparison of {_A} and {_B}.",
    f"What are the pros and cons of {_A} versus {_B}?",
    f"Explain the difference between {_A} and {_B}.",
])
def test_request_before_the_first_work_is_not_part_of_it(question):
    assert split_sides(question) == [_A, _B]


def test_and_between_the_works_wins_over_a_with_inside_the_first_one():
    # "how do A and B differ?": A holds "with"; cutting there would leave "a Kalman-style update and B" as one work
    assert split_sides(f"How do {_A} and {_B} differ?") == [_A, _B]


@pytest.mark.parametrize("question", [
    "How is accuracy different from the earlier version?",
    "What distinguishes hard prompts from easy ones in the difficulty benchmark?",
])
def test_looser_comparison_wording_about_one_work_stays_a_direct_answer(question):
    assert question_kind(question) == "answer"


def test_differ_from_wins_over_a_versus_inside_the_second_work():
    assert split_sides("How does exploring without rewards in linear mixture models differ from the study of novelty "
                       "bonuses computed over the whole run versus within one episode?") == [
        "exploring without rewards in linear mixture models",
        "the study of novelty bonuses computed over the whole run versus within one episode"]


def test_comma_and_between_the_works_wins_over_a_with_inside_the_first_one():
    assert split_sides("Bandits whose rewards are only roughly linear with few relevant features, and online learning "
                       "for opening costly boxes: compare their regret guarantees.") == [
        "Bandits whose rewards are only roughly linear with few relevant features",
        "online learning for opening costly boxes"]


def test_setting_before_the_question_and_after_differ_is_left_out_of_the_works():
    assert split_sides("In recommender systems, how does modelling clicks and purchases as stages of one preference "
                       "differ from filtering out each user's noisy interactions?") == [
        "modelling clicks and purchases as stages of one preference", "filtering out each user's noisy interactions"]
    assert split_sides("How do composing hierarchical function decompositions and searching over natural-language plans "
                       "differ for code generation?") == [
        "composing hierarchical function decompositions", "searching over natural-language plans"]


@pytest.mark.parametrize("question", [
    f"Between {_A} and {_B}, which works better?",
    f"{_A} and {_B}: which is more sample-efficient?",
])
def test_choice_between_two_works_joined_by_and_is_a_comparison(question):
    assert question_kind(question) == "compare" and split_sides(question) == [_A, _B]


@pytest.mark.parametrize("question", [
    "What's the trade-off between pruning attention heads by their gradient saliency, and distilling the whole "
    "encoder into a shallower student?",
    "Pros and cons of two views of label noise: a loss that ignores the hardest examples, and a second network "
    "that relabels suspicious training images?",
    "Two ways to shrink a vision transformer: merging similar tokens between layers, and quantizing the weights "
    "to four bits with a learned rounding. When would I use which?",
    "For tabular data, should I boost shallow decision trees on engineered features, or train a transformer over "
    "the raw columns with masked cell prediction?",
    "Does more pretraining data help? Contrast what the study that varies how many epochs each token is seen "
    "found with what the study of scaling laws for small proxy models found.",
    "What separates selecting instruction data by optimal transport from scoring it with a small proxy model?",
    "How is the benchmark for translating text into planning languages different in its scope from the harder "
    "benchmark of reasoning about actions and plans?",
    "For attacking an image model without its data, is the better starting point an objective that corrupts "
    "features at several layers, or a surrogate sampled from a Bayesian posterior over weights?",
])
def test_comparison_wordings_without_a_compare_verb_up_front_are_routed_as_comparisons(question):
    assert question_kind(question) == "compare"
    assert len(split_sides(question)) == 2


def test_two_works_listed_after_a_colon_split_at_the_comma_and_not_at_a_with_inside_one():
    assert split_sides("Two ways to shrink a vision transformer: merging similar tokens between layers, and quantizing "
                       "the weights to four bits with a learned rounding. When would I use which?") == [
        "merging similar tokens between layers", "quantizing the weights to four bits with a learned rounding"]


def test_setting_question_before_a_contrast_sentence_is_not_part_of_the_first_work():
    assert split_sides("Does more pretraining data help? Contrast what the study that varies how many epochs each "
                       "token is seen found with what the study of scaling laws for small proxy models found.") == [
        "what the study that varies how many epochs each token is seen found",
        "what the study of scaling laws for small proxy models found"]


def test_choice_after_a_setting_clause_splits_at_its_or():
    assert split_sides("For tabular data, should I boost shallow decision trees on engineered features, or train a "
                       "transformer over the raw columns with masked cell prediction?") == [
        "boost shallow decision trees on engineered features",
        "train a transformer over the raw columns with masked cell prediction"]


@pytest.mark.parametrize("question", [
    "For image classification, is label smoothing or mixup more effective?",
    "Both of them: how many GPUs did the paper on pipeline parallelism use?",
])
def test_setting_clause_or_both_with_named_things_stays_a_direct_answer(question):
    assert question_kind(question) == "answer"


def test_two_papers_then_one_and_the_other_split_into_their_works():
    question = ("Two papers look at data for instruction tuning. One scores each example's quality and diversity to "
                "pick a subset, the other evolves harder instructions with small models. How do they differ?")
    assert question_kind(question) == "compare"
    assert split_sides(question) == ["scores each example's quality and diversity to pick a subset",
                                     "evolves harder instructions with small models"]


def test_two_papers_listed_as_one_about_and_one_about_split_there():
    question = ("Process rewards come up in two papers here: one about scoring each step by the progress it makes "
                "toward a right answer, one about training an outcome model whose step scores come for free.")
    assert split_sides(question) == ["about scoring each step by the progress it makes toward a right answer",
                                     "about training an outcome model whose step scores come for free"]


def test_quantity_word_inside_a_description_does_not_make_a_comparison_a_lookup():
    question = ("How is the paper on moral decisions as a computational problem different from the one about how "
                "much latitude annotators have when judging which outputs are safer?")
    assert question_kind(question) == "compare"


def test_quantity_asked_up_front_keeps_a_lookup_with_compared_with():
    question = "Theoretically, how much does pretraining on unlabeled data reduce the excess risk compared with supervised learning alone?"
    assert question_kind(question) == "answer"
