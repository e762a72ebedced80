"""`papers serve` as its clients meet it: the official `openai` client and plain HTTP against a real server
on a free port, reading the session's real corpus index (MiniLM)."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import openai
import pytest

from tests.serve_fixtures import port_is_free, start_serve

pytestmark = pytest.mark.slow
QUESTION = "Which papers study process reward models?"


@pytest.fixture(scope="session")
def server(corpus_index, tmp_path_factory):
    """One open server (no API keys, extractive by default) for the whole session."""
    running = start_serve(corpus_index, tmp_path_factory.mktemp("serve"), PAPERS_MAX_BODY_BYTES="20000")
    yield running
    running.stop()


@pytest.fixture
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0)


def test_openai_client_gets_an_answer_with_numbered_citations_and_a_sources_list(client):
    resp = client.chat.completions.create(model="papers-assistant", messages=[{"role": "user", "content": QUESTION}])
    text = resp.choices[0].message.content
    citations = resp.model_extra["papers"]["citations"]
    assert citations and resp.choices[0].finish_reason == "stop"
    assert "[1]" in text and "**Sources**" in text
    for c in citations:
        assert f"[{c['n']}] {c['title']}" in text


def test_streaming_sends_the_same_cited_answer_in_chunks_and_citations_in_the_last(client):
    plain = client.chat.completions.create(model="papers-assistant", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(client.chat.completions.create(model="papers-assistant:extractive", stream=True,
                                                 messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) > 2 and text == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert [c["title"] for c in chunks[-1].model_extra["papers"]["citations"]] == \
        [c["title"] for c in plain.model_extra["papers"]["citations"]]


def test_stream_ends_with_done(server):
    body = {"model": "papers-assistant", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream("POST", server.base + "/v1/chat/completions", json=body, timeout=60) as resp:
        events = [line for line in resp.iter_lines() if line.startswith("data: ")]
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "data: [DONE]"


def test_follow_up_through_the_messages_history_answers_like_papers_chat(client, real_settings):
    import assistant

    first = client.chat.completions.create(model="papers-assistant", messages=[{"role": "user", "content": QUESTION}])
    follow = "and which of those use Monte Carlo tree search?"
    resp = client.chat.completions.create(model="papers-assistant", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": follow},
    ])
    served = resp.model_extra["papers"]
    chat = assistant.chat_session(settings=real_settings(), backend="extractive")
    chat.ask(QUESTION)
    local = chat.ask(follow)
    assert QUESTION.rstrip("?") in served["standalone_question"]
    assert [c["title"] for c in served["citations"]] == [c.title for c in local.citations]


def test_an_off_topic_question_is_a_normal_completion_saying_the_corpus_does_not_cover_it(client):
    resp = client.chat.completions.create(model="papers-assistant",
                                          messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert resp.choices[0].finish_reason == "stop" and resp.model_extra["papers"]["abstained"]
    assert "does not cover" in resp.choices[0].message.content


def test_models_lists_the_assistant_and_its_backends(client):
    ids = {m.id for m in client.models.list()}
    assert {"papers-assistant", "papers-assistant:extractive", "papers-assistant:local"} <= ids


def test_native_endpoints_return_the_json_of_the_cli(server, real_settings):
    import assistant
    from assistant.search import search

    asked = httpx.post(server.base + "/ask", json={"question": QUESTION, "k": 3}, timeout=60).json()
    local = assistant.ask(QUESTION, settings=real_settings(), k=3).as_dict()
    for d in (asked, local):
        d.pop("timings_ms")
        (d.get("summary") or {}).pop("timings_ms", None)  # a routed overview carries its own timings
    assert asked == json.loads(json.dumps(local, default=str))
    found = httpx.post(server.base + "/search", json={"query": "process rewards", "k": 3}, timeout=60).json()
    assert found == [h.as_dict() for h in search("process rewards", k=3, settings=real_settings())]
    summary = httpx.post(server.base + "/summarize", json={"topic": "process reward models", "max_papers": 5},
                         timeout=120).json()
    assert summary["citations"] and summary["themes"] and summary["kept"] <= 5


def test_health_names_the_live_generation_and_paper_count(server):
    health = httpx.get(server.base + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["papers"] == 266 and isinstance(health["generation"], int)


def test_openapi_docs_are_served(server):
    assert httpx.get(server.base + "/docs", timeout=10).status_code == 200
    paths = httpx.get(server.base + "/openapi.json", timeout=10).json()["paths"]
    assert {"/v1/chat/completions", "/ask", "/search", "/summarize", "/health"} <= set(paths)


@pytest.mark.parametrize("body, names", [
    ({"model": "papers-assistant", "messages": []}, "messages is empty"),
    ({"model": "papers-assistant", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]},
     "last message has role 'assistant'"),
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]}, "unknown model 'gpt-4o'"),
    ({"model": "papers-assistant", "stream": True, "messages": [{"role": "user", "content": "  "}]}, "question is empty"),
])
def test_bad_chat_requests_get_400_naming_the_problem(server, body, names):
    resp = httpx.post(server.base + "/v1/chat/completions", json=body, timeout=30)
    assert resp.status_code == 400 and names in resp.json()["error"]["message"]


def test_malformed_json_gets_422_with_a_readable_message(server):
    resp = httpx.post(server.base + "/v1/chat/completions", content=b'{"model": "papers-assistant", messages',
                      headers={"content-type": "application/json"}, timeout=30)
    assert resp.status_code == 422 and "not valid JSON" in resp.json()["error"]["message"]


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_body_gets_413(server, chunked):
    body = json.dumps({"model": "papers-assistant", "messages": [{"role": "user", "content": "x" * 30000}]}).encode()
    content = iter([body[:10000], body[10000:]]) if chunked else body  # chunked: no Content-Length to trust
    resp = httpx.post(server.base + "/v1/chat/completions", content=content,
                      headers={"content-type": "application/json"}, timeout=30)
    assert resp.status_code == 413 and "PAPERS_MAX_BODY_BYTES" in resp.json()["error"]["message"]


def test_a_too_long_question_gets_400(server):
    resp = httpx.post(server.base + "/ask", json={"question": "word " * 1000}, timeout=30)
    assert resp.status_code == 400 and "PAPERS_MAX_QUESTION_CHARS" in resp.json()["error"]["message"]


def test_without_keys_configured_no_key_is_needed(server):
    resp = httpx.get(server.base + "/v1/models", timeout=10)
    assert resp.status_code == 200


# A server with API keys and the openai backend on a real llama.cpp server, one LLM slot.

@pytest.fixture(scope="session")
def llm_server(corpus_index, llama_server, tmp_path_factory):
    running = start_serve(corpus_index, tmp_path_factory.mktemp("serve-llm"), PAPERS_API_KEYS="key-one,key-two",
                          PAPERS_OPENAI_BASE_URL=llama_server, PAPERS_LLM_MODEL="smollm2", PAPERS_LLM_CONCURRENCY="1",
                          PAPERS_CONTEXT_WINDOW="2048", PAPERS_MAX_ANSWER_TOKENS="200")
    yield running
    running.stop()


def _llm_body(stream: bool = True) -> dict:
    return {"model": "papers-assistant:openai", "stream": stream, "messages": [{"role": "user", "content": QUESTION}]}


def _slots_in_use(server) -> int:
    return httpx.get(server.base + "/health", timeout=10).json()["llm_slots"]["in_use"]


def _wait_for_slots(server, n: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while _slots_in_use(server) != n:
        assert time.time() < deadline, f"LLM slots in use never became {n}"
        time.sleep(0.2)


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "key-one"])
def test_with_keys_a_request_without_a_valid_bearer_key_gets_401(llm_server, header):
    headers = {"Authorization": header} if header else {}
    resp = httpx.get(llm_server.base + "/v1/models", headers=headers, timeout=10)
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
    assert "key-one" not in resp.text and "key-two" not in resp.text


def test_with_keys_any_configured_key_is_accepted(llm_server):
    for key in ("key-one", "key-two"):
        client = openai.OpenAI(base_url=llm_server.base + "/v1", api_key=key, max_retries=0)
        assert client.models.list().data


def test_api_keys_are_never_printed_or_logged(llm_server, run_cli):
    config = run_cli("config", env={"PAPERS_API_KEYS": "key-one,key-two"}).stdout
    assert "PAPERS_API_KEYS" in config and "(set)" in config
    for text in (config, llm_server.log.read_text()):
        assert "key-one" not in text and "key-two" not in text


def test_past_the_llm_concurrency_limit_the_answer_is_503_with_retry_after(llm_server):
    auth = {"Authorization": "Bearer key-one"}
    with httpx.stream("POST", llm_server.base + "/v1/chat/completions", json=_llm_body(), headers=auth,
                      timeout=120) as holding:
        assert holding.status_code == 200
        busy = httpx.post(llm_server.base + "/v1/chat/completions", json=_llm_body(stream=False), headers=auth, timeout=30)
        assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
        assert "PAPERS_LLM_CONCURRENCY" in busy.json()["error"]["message"]
        extractive = httpx.post(llm_server.base + "/v1/chat/completions", headers=auth, timeout=60,
                                json={**_llm_body(stream=False), "model": "papers-assistant:extractive"})
        assert extractive.status_code == 200  # the limit bounds LLM work only
        list(holding.iter_lines())
    _wait_for_slots(llm_server, 0)


def test_a_client_that_disconnects_mid_stream_frees_its_slot_and_others_are_undisturbed(llm_server):
    auth = {"Authorization": "Bearer key-two"}
    with httpx.stream("POST", llm_server.base + "/v1/chat/completions", json=_llm_body(), headers=auth,
                      timeout=120) as leaving:
        first = next(leaving.iter_lines())
        assert first.startswith("data: ") and _slots_in_use(llm_server) == 1
    # the client is gone mid-answer: the generation stops and the slot comes back long before it would finish
    started = time.time()
    _wait_for_slots(llm_server, 0, timeout=30)
    freed_after = time.time() - started
    other = openai.OpenAI(base_url=llm_server.base + "/v1", api_key="key-one", max_retries=0)
    resp = other.chat.completions.create(**_llm_body(stream=False))
    assert resp.model_extra["papers"]["citations"] and freed_after < 30


def test_sigterm_drains_an_answer_in_flight_then_exits_and_frees_the_port(corpus_index, tmp_path):
    running = start_serve(corpus_index, tmp_path, PAPERS_SHUTDOWN_GRACE="30")
    body = {"model": "papers-assistant", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    lines: list[str] = []
    try:
        with httpx.stream("POST", running.base + "/v1/chat/completions", json=body, timeout=60) as resp:
            iterator = resp.iter_lines()
            lines.append(next(iterator))  # the request is in flight
            running.signal(signal.SIGTERM)
            sent = time.time()
            lines.extend(iterator)
        code = running.wait(timeout=30)
        took = time.time() - sent
    finally:
        running.stop()
    assert [line for line in lines if line.startswith("data: ")][-1] == "data: [DONE]"
    assert code == 0 and took < 5 and port_is_free(running.port)


def test_sigint_exits_with_130_and_frees_the_port(corpus_index, tmp_path):
    running = start_serve(corpus_index, tmp_path)
    try:
        running.signal(signal.SIGINT)
        code = running.wait(timeout=30)
    finally:
        running.stop()
    assert code == 130 and port_is_free(running.port)


def test_a_request_in_flight_is_not_disturbed_by_concurrent_ones(server):
    """Many clients at once share one loaded index: every answer is the one a lone client gets."""
    questions = [QUESTION, "What is KOALA++?", "How can data be selected for instruction tuning?"]
    alone = {q: httpx.post(server.base + "/ask", json={"question": q}, timeout=60).json()["citations"] for q in questions}
    results: list[tuple[str, list]] = []

    def worker(q: str) -> None:
        for _ in range(3):
            results.append((q, httpx.post(server.base + "/ask", json={"question": q}, timeout=120).json()["citations"]))

    threads = [threading.Thread(target=worker, args=(q,)) for q in questions * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 36 and all(cites == alone[q] for q, cites in results)


def test_the_llm_server_going_down_mid_stream_ends_the_stream_with_an_error_chunk(corpus_index, tmp_path):
    from tests.conftest import start_llama_server

    llama, base = start_llama_server(tmp_path / "llama.log")
    running = start_serve(corpus_index, tmp_path, PAPERS_OPENAI_BASE_URL=base, PAPERS_LLM_MODEL="smollm2",
                          PAPERS_CONTEXT_WINDOW="2048", PAPERS_MAX_ANSWER_TOKENS="200", PAPERS_MAX_RETRIES="0")
    try:
        client = openai.OpenAI(base_url=running.base + "/v1", api_key="unused", max_retries=0, timeout=120)
        stream = client.chat.completions.create(**_llm_body())
        first = next(iter(stream))
        assert first.choices[0].delta.role == "assistant"
        time.sleep(1.0)  # generation under way
        llama.kill()
        started = time.time()
        with pytest.raises(openai.APIError, match="LLM") as err:
            list(stream)
        assert time.time() - started < 30 and "Traceback" not in str(err.value)
        assert _slots_in_use(running) == 0
    finally:
        llama.kill()
        running.stop()


def test_a_reingest_by_another_process_is_served_without_a_restart(corpus_index, tmp_path):
    import shutil
    import subprocess
    import sys

    from tests.conftest import CORPUS
    from tests.serve_fixtures import clean_env

    index = tmp_path / "index"
    shutil.copytree(corpus_index, index)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    title = "Zebrafish Gradient Descent for Sparse Autoencoders"
    (corpus / "extra.jsonl").write_text(json.dumps({"title": title, "abstract": (
        "We propose zebrafish gradient descent, a method for training sparse autoencoders on model activations. "
        "Experiments show the learning results improve on data from language models.")}))
    running = start_serve(index, tmp_path)
    try:
        before = httpx.get(running.base + "/health", timeout=10).json()
        ingest = subprocess.run([sys.executable, "-m", "papers", "ingest", "--quiet", "--corpus", str(corpus)],
                                env=clean_env(index), capture_output=True, text=True, timeout=600)
        assert ingest.returncode == 0, ingest.stderr
        after = httpx.get(running.base + "/health", timeout=60).json()
        found = httpx.post(running.base + "/search", json={"query": "zebrafish gradient descent", "k": 1}, timeout=60).json()
    finally:
        running.stop()
    assert after["generation"] == before["generation"] + 1 and after["papers"] == before["papers"] + 1
    assert found[0]["title"] == title
