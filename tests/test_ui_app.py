"""The Streamlit pages through Streamlit's AppTest: the page logic, without a browser."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
CHAT = str(REPO / "ui" / "chat_page.py")


@pytest.fixture
def app_env(corpus_index, monkeypatch):
    monkeypatch.setenv("PAPERS_DATA_DIR", str(corpus_index))
    monkeypatch.setenv("PAPERS_EMBED_BACKEND", "local")


def chat_app() -> AppTest:
    at = AppTest.from_file(CHAT, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def test_question_produces_an_answer_with_source_cards(app_env):
    at = chat_app()
    at.chat_input[0].set_value("What is KOALA++?").run()
    assert not at.exception
    answer = at.chat_message[1]
    assert answer.name == "assistant" and "KOALA" in answer.markdown[0].value and "[1]" in answer.markdown[0].value
    assert at.expander[0].label.startswith("[1] KOALA")
    assert "<mark>" in answer.markdown[-1].value  # the quoted sentence is highlighted in the abstract


def test_off_topic_question_shows_the_no_answer_state(app_env):
    at = chat_app()
    at.chat_input[0].set_value("What is the capital of Australia?").run()
    assert "No answer in the corpus" in at.warning[0].value
    assert len(at.expander) == 0


def test_sidebar_settings_reach_the_pipeline(app_env):
    at = chat_app()
    at.sidebar.slider(key="k").set_value(2)
    at.sidebar.selectbox(key="mode").set_value("bm25")
    at.chat_input[0].set_value("process reward models for math reasoning").run()
    answer = at.session_state.chat.turns[-1].answer
    assert answer.mode == "bm25" and len(answer.sources) == 2


def test_followup_uses_the_conversation(app_env):
    at = chat_app()
    at.chat_input[0].set_value("Which papers select training data for instruction tuning?").run()
    at.chat_input[0].set_value("and which of those use optimal transport?").run()
    assert len(at.chat_message) == 4
    assert at.expander[-1].label.startswith("[1] TAROT") or any("TAROT" in e.label for e in at.expander)


def test_summary_mode_renders_themes_with_citations(app_env):
    at = chat_app()
    at.sidebar.selectbox(key="answer_kind").set_value("summary")
    at.chat_input[0].set_value("process reward models").run()
    text = at.chat_message[1].markdown[0].value
    assert "themes" in text and re.search(r"\[\d+\]", text)  # the overview cites its papers
    assert len(at.expander) >= 3


def test_summary_mode_shows_a_side_by_side_table_per_small_theme(app_env):
    at = chat_app()
    at.sidebar.selectbox(key="answer_kind").set_value("summary")
    at.chat_input[0].set_value("knowledge distillation with logits").run()
    assert not at.exception and len(at.table) >= 1
    assert list(at.table[0].value.columns) == ["paper", "problem", "method", "key result"]


def test_overview_question_in_chat_is_answered_as_a_summary(app_env):
    at = chat_app()  # answer kind left on auto
    at.chat_input[0].set_value("Which papers in the collection deal with picking training data for instruction tuning?").run()
    answer = at.session_state.chat.turns[-1].answer
    assert answer.kind == "summary" and len(answer.citations) >= 2
    assert "themes" in at.chat_message[1].markdown[0].value


def test_comparison_question_renders_a_side_by_side_table(app_env):
    at = chat_app()
    at.chat_input[0].set_value("Compare the Kalman-filter optimizer with the optimal transport data selection method").run()
    table = next(m.value for m in at.chat_message[1].markdown if "papers-compare" in m.value)
    assert "<th>Method</th>" in table and "KOALA++" in table and "TAROT" in table
    assert "[1]" in table and "[2]" in table  # every cell is a cited quote


def test_source_cards_show_how_the_source_was_judged(app_env):
    at = chat_app()
    at.chat_input[0].set_value("What is KOALA++?").run()
    badges = [m.value for m in at.chat_message[1].markdown if "Judged relevant" in m.value or "Loosely related" in m.value]
    assert len(badges) == len(at.expander) >= 1


def test_near_miss_answer_shows_what_the_cited_papers_never_mention_apart_from_the_answer(app_env):
    at = chat_app()
    at.chat_input[0].set_value("How is mixed-precision quantization used to fit networks onto microcontrollers?").run()
    answer = at.chat_message[1]
    gap = [m.value for m in answer.markdown if "Not in the sources" in m.value]
    assert len(gap) == 1 and 'None of the cited papers mention "microcontrollers"' in gap[0]
    assert "microcontrollers" not in answer.markdown[0].value  # not mixed into the answer's sentences
    assert not any("microcontrollers" in c.value for c in answer.caption)  # nor repeated as a note


def test_misconfigured_backend_shows_an_error_and_keeps_the_conversation(app_env, monkeypatch):
    at = chat_app()
    at.chat_input[0].set_value("What is KOALA++?").run()
    at.sidebar.selectbox(key="backend").set_value("openai")
    at.chat_input[0].set_value("What is BoxingGym?").run()
    assert "needs OPENAI_API_KEY" in at.error[0].value
    assert len(at.chat_message) == 4 and "KOALA" in at.chat_message[1].markdown[0].value


def test_clear_empties_the_conversation(app_env):
    at = chat_app()
    at.chat_input[0].set_value("What is KOALA++?").run()
    at.sidebar.button(key="clear").click().run()
    assert len(at.chat_message) == 0


def test_html_in_titles_and_abstracts_renders_as_text(tmp_path, monkeypatch):
    corpus = tmp_path / "evil.jsonl"
    corpus.write_text(json.dumps({"title": "<script>alert(1)</script> **Bold** Kernel Paper",
                                  "abstract": "We study kernel methods <b>for tabular data</b> and propose a model with experiments. " * 2}))
    monkeypatch.setenv("PAPERS_DATA_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("PAPERS_EMBED_BACKEND", "hash")
    monkeypatch.setenv("PAPERS_CORPUS", str(corpus))
    at = chat_app()  # no index yet: the page ingests the corpus first
    assert (tmp_path / "index" / "manifest.json").is_file()
    at.chat_input[0].set_value("kernel methods for tabular data").run()
    label = at.expander[0].label
    assert "<script>" not in label.replace("\\<", "") and "\\*\\*Bold\\*\\*" in label
    abstract_html = at.chat_message[1].markdown[-1].value
    assert "<b>" not in abstract_html and "for tabular data" in abstract_html  # tags stripped at ingest, text kept


def test_explore_and_evals_pages_load(app_env):
    for page in ("explore_page.py", "evals_page.py"):
        at = AppTest.from_file(str(REPO / "ui" / page), default_timeout=120)
        at.run()
        assert not at.exception, page
    at = AppTest.from_file(str(REPO / "ui" / "explore_page.py"), default_timeout=120)
    at.run()
    at.text_input(key="explore_query").set_value("Kalman optimizer").run()
    assert "KOALA" in at.selectbox(key="explore_pick").value


def test_llm_server_down_shows_a_message_in_the_chat_and_the_page_stays_usable(app_env, monkeypatch):
    monkeypatch.setenv("PAPERS_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("PAPERS_MAX_RETRIES", "0")
    at = chat_app()
    at.chat_input[0].set_value("What is KOALA++?").run()
    at.sidebar.selectbox(key="backend").set_value("openai")
    at.chat_input[0].set_value("What is BoxingGym?").run()
    assert "cannot reach the LLM server" in at.error[0].value
    at.sidebar.selectbox(key="backend").set_value("extractive")
    at.chat_input[0].set_value("What is BoxingGym?").run()
    assert len(at.chat_message) == 6 and any("BoxingGym" in e.label for e in at.expander)
