"""Answers on the real corpus index: cited, checked, abstaining when they should (extractive backend)."""

from __future__ import annotations

import json

import pytest

import assistant
from assistant.answer import ABSTAIN_TEXT
from common.errors import PapersError
from assistant.retrieval import Filters
from assistant.text import split_sentences, strip_citations

pytestmark = pytest.mark.slow  # the session index uses the real MiniLM model


def test_extractive_answer_quotes_and_cites_retrieved_abstracts(real_settings):
    answer = assistant.ask("How can data be selected for instruction tuning?", settings=real_settings(), backend="extractive")
    assert not answer.abstained and answer.citations
    retrieved = {s["title"] for s in answer.sources}
    assert {c.title for c in answer.citations} <= retrieved
    by_n = {c.n: c for c in answer.citations}
    for sentence in split_sentences(answer.answer):
        cited = [int(x) for x in sentence.rsplit("[", 1)[1].rstrip("].").split("][")]
        assert strip_citations(sentence).rstrip(".") in by_n[cited[0]].abstract
    assert any("Data Selection" in c.title for c in answer.citations)


def test_extractive_answer_is_deterministic(real_settings):
    settings = real_settings()
    q = "What are process reward models used for?"
    assert assistant.ask(q, settings=settings, backend="extractive").answer == assistant.ask(q, settings=settings, backend="extractive").answer


def _comparable(answer) -> dict:
    data = answer.as_dict()
    data.pop("timings_ms")
    if data.get("summary"):
        data["summary"].pop("timings_ms", None)
    return data


def test_concurrent_requests_get_the_answers_they_get_one_at_a_time(real_settings):
    """One loaded assistant serves many threads at once (`papers serve`): the per-question vector cache and
    the per-text caches must not mix up requests, so answers match those computed alone."""
    from concurrent.futures import ThreadPoolExecutor

    settings = real_settings()
    questions = ["What are process reward models used for?", "How can data be selected for instruction tuning?",
                 "Which paper proposes KOALA++?", "What is a good recipe for pizza dough?",
                 "Summarize the work on reinforcement learning for reasoning",
                 "How does KOALA++ compare with Adam?"] * 3
    alone = {q: _comparable(assistant.ask(q, settings=settings, backend="extractive")) for q in questions}
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda q: _comparable(assistant.ask(q, settings=settings, backend="extractive")),
                                 questions))
    assert together == [alone[q] for q in questions]


@pytest.mark.parametrize("question", [
    "What is the capital of Australia?",
    "How do I do a Halloween make-up look of Frankenstein's monster?",
    "What is a good recipe for pizza dough?",
])
def test_off_topic_question_abstains_without_calling_the_llm(real_settings, question):
    # an unreachable LLM proves the model is never called: any call would raise
    settings = real_settings(PAPERS_OPENAI_BASE_URL="http://127.0.0.1:9/v1", PAPERS_MAX_RETRIES="0")
    answer = assistant.ask(question, settings=settings, backend="openai")
    assert answer.abstained and answer.answer == ABSTAIN_TEXT
    assert answer.citations == [] and answer.usage == {"prompt_tokens": 0, "completion_tokens": 0}


@pytest.mark.parametrize("question, title_part", [
    ("What is KOALA++?", "KOALA++"),
    ("Which optimizer tracks gradient uncertainty with a Kalman filter?", "KOALA++"),
    ("Is there a benchmark for automated experimental design?", "BoxingGym"),
])
def test_answerable_question_does_not_abstain(real_settings, question, title_part):
    answer = assistant.ask(question, settings=real_settings(), backend="extractive")
    assert not answer.abstained
    assert title_part in answer.citations[0].title


def test_author_question_is_answered_through_the_author_field(real_settings):
    answer = assistant.ask("What did Jinwoo Shin co-author?", settings=real_settings(), backend="extractive")
    assert [c.title for c in answer.citations] == ["Self-Refining Language Model Anonymizers via Adversarial Distillation"]
    assert "Jinwoo Shin" in answer.citations[0].authors


def test_year_and_author_filters_restrict_sources(real_settings):
    settings = real_settings()
    answer = assistant.ask("reinforcement learning for reasoning", settings=settings, backend="extractive",
                           filters=Filters(year_from=2025, year_to=2025))
    assert answer.sources and all(s["date"] and s["date"].endswith("2025") for s in answer.sources)
    hits = assistant.retrieve("graph neural networks", settings=settings, filters=Filters(author="bródka")).hits
    assert [h.paper.title for h in hits] == ["Identifying Super Spreaders in Multilayer Networks"]


def test_retrieval_modes_are_selectable_and_deduplicated_to_papers(real_settings):
    settings = real_settings()
    for mode in ("hybrid", "dense", "bm25"):
        hits = assistant.retrieve("process reward models for math reasoning", settings=settings, mode=mode, k=8).hits
        ids = [h.paper_id for h in hits]
        assert len(ids) == len(set(ids)) == 8


def test_followup_is_condensed_with_history_and_restricted_to_earlier_papers(real_settings):
    chat = assistant.chat_session(settings=real_settings(), backend="extractive")
    chat.ask("Which papers select training data for instruction tuning?")
    second = chat.ask("and which of those use optimal transport?")
    assert "instruction tuning" in second.standalone_question and "optimal transport" in second.standalone_question
    settings = chat.assistant.settings
    wide = settings.retrieval.model_copy(update={"candidate_depth": 120})
    topic = assistant.retrieve("Which papers select training data for instruction tuning?", settings=settings, k=60, params=wide)
    assert {s["paper_id"] for s in second.sources} <= {h.paper_id for h in topic.hits}  # only papers on the earlier topic
    assert second.citations[0].title == "TAROT: Targeted Data Selection via Optimal Transport"
    assert len(chat.turns) == 2
    assert "TAROT" in chat.export_markdown()


def test_empty_and_oversized_questions_are_refused(real_settings):
    settings = real_settings()
    with pytest.raises(PapersError, match="question is empty"):
        assistant.ask("   ", settings=settings)
    with pytest.raises(PapersError, match="keep it under 2000"):
        assistant.ask("why " * 600, settings=settings)


def test_unknown_backend_and_mode_are_named(real_settings):
    with pytest.raises(PapersError, match="unknown backend 'gpt5'"):
        assistant.ask("What is KOALA++?", settings=real_settings(), backend="gpt5")
    with pytest.raises(PapersError, match="unknown retrieval mode 'sparse'"):
        assistant.ask("What is KOALA++?", settings=real_settings(), mode="sparse")


def test_ask_json_has_the_documented_schema(run_cli, corpus_index):
    result = run_cli("ask", "What is KOALA++?", "--json", env={"PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index)})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "citations", "sources", "backend", "usage", "timings_ms"} <= set(data)
    assert set(data["citations"][0]) >= {"n", "title", "authors", "date"}
    assert set(data["sources"][0]) >= {"title", "score"}
    assert data["backend"] == "extractive" and data["citations"][0]["title"].startswith("KOALA++")
    assert set(data["timings_ms"]) == {"retrieve", "generate", "total"}


def test_ask_text_lists_numbered_sources(run_cli, corpus_index):
    result = run_cli("ask", "What is KOALA++?", env={"PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index)})
    assert "[1]" in result.stdout and "Sources:\n[1] KOALA++" in result.stdout


def test_openai_backend_without_key_or_url_is_a_clear_error(run_cli, corpus_index):
    result = run_cli("ask", "What is KOALA++?", "--backend", "openai",
                     env={"PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index)})
    assert result.returncode == 2
    assert "error: the openai backend needs OPENAI_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_llm_server_is_one_line_and_never_shows_the_key(run_cli, corpus_index):
    secret = "sk-test-0123456789abcdef"
    result = run_cli("ask", "What is KOALA++?", env={
        "PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index), "OPENAI_API_KEY": secret,
        "PAPERS_OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "PAPERS_MAX_RETRIES": "1"})
    assert result.returncode == 2
    assert "error: cannot reach the LLM server at http://127.0.0.1:9/v1" in result.stderr
    assert secret not in result.stderr + result.stdout and "Traceback" not in result.stderr


def test_papers_chat_answers_a_followup_in_the_terminal(corpus_index, tmp_path):
    import os
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PAPERS_")},
           "PAPERS_EMBED_BACKEND": "local", "PAPERS_DATA_DIR": str(corpus_index)}
    result = subprocess.run([sys.executable, "-m", "assistant", "chat", "--json"], input=(
        "Which papers select training data for instruction tuning?\nand which of those use optimal transport?\n\n"),
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    decoder, text, turns = json.JSONDecoder(), result.stdout.strip(), []
    while text:
        obj, end = decoder.raw_decode(text)
        turns.append(obj)
        text = text[end:].strip()
    assert len(turns) == 2
    assert "optimal transport" in turns[1]["standalone_question"] and "instruction tuning" in turns[1]["standalone_question"]
    assert turns[1]["citations"][0]["title"].startswith("TAROT")


def test_followup_about_it_answers_from_the_cited_paper(real_settings):
    chat = assistant.chat_session(settings=real_settings(), backend="extractive")
    chat.ask("What is KOALA++?")
    second = chat.ask("what earlier method does it improve on?")
    assert not second.abstained
    assert [c.title for c in second.citations] == ["KOALA++: Efficient Kalman-Based Optimization with Gradient-Covariance Products"]


def test_followup_to_an_unrelated_topic_still_abstains(real_settings):
    chat = assistant.chat_session(settings=real_settings(), backend="extractive")
    chat.ask("What is KOALA++?")
    assert chat.ask("and what about pizza dough recipes?").abstained


def test_extractive_answer_is_exactly_the_contribution_sentence(real_settings):
    answer = assistant.ask("What is KOALA++?", settings=real_settings(), backend="extractive")
    assert answer.answer == ("We propose KOALA++, a scalable Kalman-based optimization algorithm that explicitly models "
                             "structured gradient uncertainty in neural network training [1].")
    assert [(c.n, c.title) for c in answer.citations] == [(1, "KOALA++: Efficient Kalman-Based Optimization with Gradient-Covariance Products")]
