"""The gap notice on the real corpus index: what the cited papers (or the collection) never mention."""

from __future__ import annotations

import pytest

import assistant
from assistant.render import answer_markdown

pytestmark = pytest.mark.slow  # the session index uses the real MiniLM model

# No corpus paper mentions microcontrollers; the mixed-precision quantization paper (HAWQ) matches the rest
NEAR_MISS = "How is mixed-precision quantization used to fit networks onto microcontrollers?"


def test_near_miss_answer_names_the_term_no_cited_paper_mentions(real_settings):
    answer = assistant.ask(NEAR_MISS, settings=real_settings(), backend="extractive")
    assert not answer.abstained and answer.citations
    assert answer.missing_terms == ["microcontrollers"]
    assert 'None of the cited papers mention "microcontrollers"' in answer.notices


def test_gap_is_a_caution_line_of_its_own_in_markdown(real_settings):
    answer = assistant.ask(NEAR_MISS, settings=real_settings(), backend="extractive")
    lines = answer_markdown(answer).splitlines()
    assert '> caution: None of the cited papers mention "microcontrollers".' in lines
    assert not any(line.startswith("note:") and "microcontrollers" in line for line in lines)
    assert "microcontrollers" not in answer.answer


def test_right_answer_to_a_plainly_answerable_question_has_no_gap_notice(real_settings):
    answer = assistant.ask("How can data be selected for instruction tuning?", settings=real_settings(), backend="extractive")
    assert not answer.abstained and any("Data Selection" in c.title for c in answer.citations)
    assert answer.missing_terms == []
    assert not any("mention" in n for n in answer.notices)


def test_abstention_names_the_term_no_paper_in_the_collection_mentions(real_settings):
    answer = assistant.ask("What are the side effects of ibuprofen in children?", settings=real_settings(), backend="extractive")
    assert answer.abstained
    assert answer.missing_terms == ["ibuprofen"]
    assert 'No paper in the collection mentions "ibuprofen"' in answer.notices


def test_markup_typed_around_a_term_never_reaches_the_notice(real_settings):
    answer = assistant.ask("How does <b>QLoRA</b> fine-tune *huge* models?", settings=real_settings(), backend="extractive")
    assert answer.missing_terms == ["QLoRA"]
    assert not any(c in n for n in answer.notices for c in "<>*")


def test_follow_up_resolved_from_history_gets_no_gap_notice(real_settings):
    chat = assistant.chat_session(settings=real_settings(), backend="extractive")
    chat.ask("Which papers select training data for instruction tuning?")
    answer = chat.ask("and which of those run on microcontrollers?")
    assert answer.missing_terms == []


# No corpus paper mentions QLoRA; the quantization and low-rank adaptation papers match the rest of the question
UNKNOWN_NAME = "How does QLoRA combine 4-bit quantization with low-rank adapters to fine-tune large models?"


def test_question_naming_what_no_paper_mentions_is_not_answered_from_other_papers(real_settings):
    answer = assistant.ask(UNKNOWN_NAME, settings=real_settings(), backend="extractive")
    assert answer.abstained and answer.status in ("not_covered", "abstained")
    assert answer.citations == []
    assert 'No paper in the collection mentions "QLoRA"' in answer.notices


def test_unknown_name_lists_the_closest_papers_as_loosely_related(real_settings):
    answer = assistant.ask(UNKNOWN_NAME, settings=real_settings(), backend="extractive")
    assert answer.status == "not_covered"
    assert answer.sources and all(s["judgement"] != "relevant" for s in answer.sources)


def test_unknown_names_rule_can_be_switched_off(real_settings):
    answer = assistant.ask(UNKNOWN_NAME, settings=real_settings(PAPERS_UNKNOWN_NAMES="false"), backend="extractive")
    assert answer.status == "answered" and answer.missing_terms == ["QLoRA"]


def test_name_the_collection_uses_keeps_the_answer(real_settings):
    answer = assistant.ask("How does Quiet-STaR teach a language model to think before speaking?",
                           settings=real_settings(), backend="extractive")
    assert not answer.abstained and any("Quiet-STaR" in c.title for c in answer.citations)


def test_capitals_of_a_title_case_question_are_not_taken_for_names(real_settings):
    from assistant.api import get_assistant

    gaps = get_assistant(real_settings()).gaps
    assert gaps.unknown_names("How Does Mixed Precision Quantization Fit Networks Onto Microcontrollers?") == []
    assert gaps.unknown_names("How does mixed-precision quantization fit networks onto Arduino boards?") == ["Arduino"]
