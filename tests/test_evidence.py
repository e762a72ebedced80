"""Evidence first with an LLM backend: the model rates each source before the answer is written."""

from __future__ import annotations

import pytest

import assistant
from assistant.evidence import parse_score, rate
from assistant.text import split_sentences

TEXT = ("Previous selection methods rely on greedy heuristics. We propose TAROT, a targeted data selection "
        "framework grounded in optimal transport theory. Results show that TAROT outperforms state-of-the-art methods.")


def _best(question: str, text: str) -> str:
    return split_sentences(text)[1]


def _server_settings(real_settings, llama_server, **env):
    return real_settings(PAPERS_OPENAI_BASE_URL=llama_server, PAPERS_LLM_MODEL="smollm2", PAPERS_CONTEXT_WINDOW="2048", **env)


@pytest.mark.slow
def test_real_server_rates_every_source_and_only_kept_sources_are_cited(real_settings, llama_server):
    settings = _server_settings(real_settings, llama_server)
    answer = assistant.ask("How does TAROT select training data?", settings=settings, backend="openai", k=2, kind="answer")
    rated = [s for s in answer.sources if s.get("evidence")]
    usable = [s for s in answer.sources if s["judgement"] != "irrelevant"]  # irrelevant ones never reach the model
    assert len(rated) == len(usable) >= 1
    assert {c.title for c in answer.citations} <= {s["title"] for s in rated if s["evidence"]["kept"]}
    abstracts = {p.title: p.abstract for p in assistant.corpus_papers(settings)}
    for s in rated:  # each extracted passage is a verbatim sentence of the source's abstract
        assert s["evidence"]["passage"] in abstracts[s["title"]]


@pytest.mark.slow
def test_real_server_ratings_are_numbers_in_range_or_an_explained_fallback(real_settings, llama_server):
    settings = _server_settings(real_settings, llama_server)
    loaded = assistant.get_assistant(settings)
    ev = rate(lambda p: loaded.complete("openai", p), "How does TAROT select training data?", 1, TEXT, True, 5.0, _best)
    assert (ev.score is not None and 0 <= ev.score <= 10) or "retrieval judgement" in ev.reason
    assert ev.passage in split_sentences(TEXT)


@pytest.mark.parametrize("reply", ["banana", "Score: 42", "", "Score: ten out of ten!!", None])
def test_junk_rating_falls_back_to_the_retrieval_judgement(reply):
    # a fake model: the test is about parsing bad output, not about the server
    for relevant in (True, False):
        ev = rate(lambda p: reply, "How does TAROT select data?", 3, TEXT, relevant, 5.0, _best)
        assert ev.score is None and ev.kept is relevant and ev.n == 3
        assert ev.passage == split_sentences(TEXT)[1]


def test_a_rating_call_that_raises_keeps_the_retrieval_judgement():
    def broken(prompt: str) -> str:
        raise ValueError("unparseable response")

    ev = rate(broken, "How does TAROT select data?", 1, TEXT, True, 5.0, _best)
    assert ev.kept and "ValueError" in ev.reason


@pytest.mark.parametrize("reply, score", [("Score: 7\nSentence: We propose TAROT.", 7.0), ("8/10", 8.0), ("**9**", 9.0),
                                          ("Relevance - 6.5", 6.5), ("The text does not answer the question.", 1.0)])
def test_ratings_are_read_from_the_forms_models_write(reply, score):
    assert parse_score(reply)[0] == score


def test_low_rated_source_is_dropped_and_its_copied_sentence_is_matched_verbatim():
    ev = rate(lambda p: "Score: 2\nSentence: TAROT outperforms state of the art methods", "q?", 1, TEXT, True, 5.0, _best)
    assert not ev.kept and ev.passage == "Results show that TAROT outperforms state-of-the-art methods."


@pytest.mark.slow
def test_answer_abstains_when_the_model_rates_every_source_below_the_bar(real_settings, monkeypatch):
    settings = real_settings(PAPERS_OPENAI_BASE_URL="http://127.0.0.1:9/v1", PAPERS_MAX_RETRIES="0")
    loaded = assistant.get_assistant(settings)
    # the rating model is faked (the test is about what happens after the ratings); answering would hit the
    # unreachable server and fail, so an abstention proves no answer was written
    monkeypatch.setattr(loaded, "complete", lambda backend, prompt, system=None: "Score: 1")
    answer = assistant.ask("How does TAROT select training data?", settings=settings, backend="openai", kind="answer")
    assert answer.abstained and not answer.citations
    usable = [s for s in answer.sources if s["judgement"] != "irrelevant"]  # irrelevant ones never reach the model
    assert usable and all(s["evidence"]["score"] == 1.0 and not s["evidence"]["kept"] for s in usable)
