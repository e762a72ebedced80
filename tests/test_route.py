"""Routing: overview questions become summaries, comparisons get their table, everything else a direct answer."""

from __future__ import annotations

import pytest

import assistant
from assistant.compare import rows_markdown, split_sides
from assistant.render import answer_markdown
from assistant.route import overview_topic, question_kind


@pytest.mark.parametrize("question, kind", [
    ("Which papers in the collection deal with picking training data for instruction tuning?", "summary"),
    ("What work do we have on spending more compute at inference time?", "summary"),
    ("Is there research here on routing user requests to language models?", "summary"),
    ("Give me an overview of process reward models", "summary"),
    ("Compare selecting instruction data by difficulty with selecting it by information gain.", "compare"),
    ("How do the explanation of entropy collapse and the fix that keeps rare tokens alive differ?", "compare"),
    ("Which paper explains adversarial examples through logit differences?", "answer"),
    ("How accurate is GPT-4 at decoding a cipher when the answer is likely versus unlikely?", "answer"),
    ("What is KOALA++?", "answer"),
    # one finding of one work, though worded near a request or a comparison
    ("Is there a paper that measures how often coins land on the side they started?", "answer"),
    ("Any idea how much faster adaptive draft lengths make speculative decoding?", "answer"),
    ("How can I merge fine-tuned copies by keeping only a sparse part of each weight difference?", "answer"),
])
def test_question_kind_from_wording(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize("question", [
    "Got anything on curriculum learning?",
    "Do you have any papers about model merging?",
    "has anybody looked at jailbreaking web agents?",
    "I need some reading on process reward models",
    "papers about diffusion models?",
    "point me to work on bandit regret",
    "Hi, is there anything here about tool use?",
    "What's out there on knowledge distillation for LLMs?",
    "I'm searching for studies on exploration in RL",
    "tool use by LLMs: what do you have?",
    "I'm new to model merging. What should I read here?",
    "Give me the landscape of work on jailbreaking web agents",
    "I'm after papers on curriculum learning",
    "Has anyone here applied bandits to hyperparameter tuning?",
    "Has anything here been applied to drug discovery?",
    "Where do I start with reward modelling?",
    "papers where they evaluate LLM agents in real web browsers?",
    "Which works train verifiers for math reasoning?",
])
def test_plain_chat_request_for_literature_is_routed_as_a_summary(question):
    assert question_kind(question) == "summary"


@pytest.mark.parametrize("question, topic", [
    ("Anything in the library on curriculum learning?", "curriculum learning"),
    ("I'm looking for work on exploration when training agents", "exploration when training agents"),
    ("has anyone here looked at jailbreaking web agents?", "jailbreaking web agents"),
    ("tool use by LLMs: what's in the collection?", "tool use by LLMs"),
    ("I'm new to model merging. What should I read here?", "model merging"),
    ("Give me the landscape of work on jailbreaking web agents", "jailbreaking web agents"),
    ("I'm after papers on curriculum learning", "curriculum learning"),
    ("Which papers here work on optimal transport?", "optimal transport"),
    ("Has anything here been applied to drug discovery?", "drug discovery"),
    ("Where do I start with reward modelling?", "reward modelling"),
])
def test_plain_chat_request_keeps_only_its_topic(question, topic):
    assert overview_topic(question) == topic


def test_overview_topic_drops_the_chat_preamble():
    assert overview_topic("Which papers in the collection deal with picking training data for instruction tuning?") == \
        "picking training data for instruction tuning"


def test_comparison_splits_into_its_two_described_works():
    assert split_sides("Compare the benchmark for translating text into PDDL with the harder benchmark of reasoning "
                       "about actions: what did each find?") == ["the benchmark for translating text into PDDL",
                                                                  "the harder benchmark of reasoning about actions"]


def test_comparison_splits_at_differ_from_before_a_with_inside_one_description():
    assert split_sides("How does the optimizer that tracks uncertainty with a Kalman-style update differ from the "
                       "approach that builds surrogate losses?") == [
        "the optimizer that tracks uncertainty with a Kalman-style update", "the approach that builds surrogate losses"]


@pytest.mark.slow
def test_overview_question_in_chat_is_answered_as_a_summary(real_settings):
    chat = assistant.chat_session(settings=real_settings(), backend="extractive")
    answer = chat.ask("Which papers in the collection deal with picking training data for instruction tuning?")
    assert answer.kind == "summary" and answer.summary is not None and not answer.abstained
    assert len(answer.citations) >= 2 and answer.citations == answer.summary.citations
    assert any("Data Selection" in c.title for c in answer.citations)
    assert chat.turns[-1].answer is answer  # the summary is a turn of the conversation like any answer


@pytest.mark.slow
def test_forced_kind_overrides_detection(real_settings):
    answer = assistant.ask("Which papers in the collection deal with picking training data for instruction tuning?",
                           settings=real_settings(), backend="extractive", kind="answer")
    assert answer.kind == "answer" and answer.summary is None


@pytest.mark.slow
def test_comparison_renders_a_table_citing_both_papers(real_settings):
    answer = assistant.ask("How does the Kalman-filter optimizer differ from the optimal transport data selection method?",
                           settings=real_settings(), backend="extractive")
    assert answer.kind == "compare" and [r["n"] for r in answer.comparison] == [1, 2]
    assert {"KOALA++", "TAROT"} <= {c.title.split(":")[0] for c in answer.citations}
    for row in answer.comparison:  # every filled cell is a quote of that row's paper, cited with its number
        abstract = next(c.abstract for c in answer.citations if c.n == row["n"])
        for column in ("problem", "method", "result"):
            if row[column]:
                assert row[column].endswith(f"[{row['n']}].") and row[column][:40] in abstract
    table = rows_markdown(answer.comparison)
    assert table.startswith("| paper | problem | method | result |") and table in answer_markdown(answer)


@pytest.mark.slow
def test_comparison_cites_both_works_when_one_is_described_loosely(real_settings):
    # the second work ("the fix that keeps rare but valuable tokens alive") shares few words with its abstract:
    # it is matched to its own best paper and kept beside the first, not replaced by a neighbour
    answer = assistant.ask("Compare the account of why policy entropy collapses when reasoning models are trained with RL "
                           "against the fix that keeps rare but valuable tokens alive.", settings=real_settings(), backend="extractive")
    assert answer.kind == "compare" and answer.status == "answered"
    assert [c.title.split(":")[0] for c in answer.citations[:2]] == [
        "The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models",
        "Low-probability Tokens Sustain Exploration in Reinforcement Learning with Verifiable Reward"]
    assert [r["n"] for r in answer.comparison] == [1, 2]


@pytest.mark.slow
def test_comparison_with_one_work_missing_from_the_collection_says_which(real_settings):
    answer = assistant.ask("How does keeping an updated image classifier from breaking predictions the old model got right "
                           "differ from forecasting wheat yields from satellite images with recurrent networks?",
                           settings=real_settings(), backend="extractive")
    assert answer.kind == "compare" and len(answer.comparison) == 1
    assert any("only one of the two works" in n and "forecasting wheat yields" in n for n in answer.notices)
    assert "only one of the two works" in answer_markdown(answer)
