"""OpenAI's chat-completions format, translated to and from the assistant's questions and answers.

Only the translation lives here: the answer itself comes from ``assistant``'s public API.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assistant.render import answer_with_sources

MODEL = "papers-assistant"
BACKENDS = ("extractive", "local", "openai")
EXTRA_FIELD = "papers"  # the structured answer (the same JSON as `papers ask --json`) rides here


class BadRequest(ValueError):
    """A request the server understood but cannot serve: answered 400 with this message."""


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields we read; the rest of OpenAI's (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[Message]
    stream: bool = False
    user: str | None = None


def model_ids() -> list[str]:
    return [MODEL] + [f"{MODEL}:{b}" for b in BACKENDS]


def models_payload() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "papers-assistant"}
                                       for m in model_ids()]}


def backend_of(model: str) -> str | None:
    """``papers-assistant`` -> the configured backend (None); ``papers-assistant:<backend>`` -> that backend."""
    if model == MODEL:
        return None
    name, _, backend = model.partition(":")
    if name == MODEL and backend in BACKENDS:
        return backend
    raise BadRequest(f"unknown model {model!r}: use one of {', '.join(model_ids())} (GET /v1/models lists them)")


def _text(message: Message) -> str:
    if isinstance(message.content, list):  # content parts: keep the text ones
        return "\n".join(str(p.get("text", "")) for p in message.content if p.get("type") == "text")
    return message.content or ""


def question_and_history(messages: list[Message]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user/assistant pairs are the history.

    System and tool messages are ignored: the assistant's own instructions are fixed, and a client's
    system prompt must not steer how sources are cited."""
    if not messages:
        raise BadRequest("messages is empty: send at least one message with role 'user' holding the question")
    last = messages[-1]
    if last.role != "user":
        raise BadRequest(f"the last message has role {last.role!r}: the last message must be the user's question (role 'user')")
    history: list[tuple[str, str]] = []
    for m in messages[:-1]:
        if m.role == "user":
            history.append((_text(m), ""))
        elif m.role == "assistant" and history:
            question, reply = history[-1]
            history[-1] = (question, (reply + "\n" + _text(m)).strip())
    history = [(q, r) for q, r in history if q.strip()]
    return _text(last), history


def _usage(answer: Any) -> dict[str, int]:
    prompt, completion = answer.usage.get("prompt_tokens", 0), answer.usage.get("completion_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(answer: Any, model: str) -> dict[str, Any]:
    return {
        "id": new_id(), "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_with_sources(answer)},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(answer),
        EXTRA_FIELD: answer.as_dict(),
    }


def chunk(cid: str, model: str, delta: dict[str, Any], finish: Literal["stop"] | None = None,
          **extra: Any) -> str:
    """One SSE event in OpenAI's chat.completion.chunk format."""
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return sse(body)


def answer_chunks(cid: str, model: str, answer: Any) -> list[str]:
    """The checked answer as content chunks (one per paragraph line), then the closing chunk carrying
    the structured answer and usage, then ``[DONE]``."""
    text = answer_with_sources(answer)
    pieces = [line + "\n" for line in text.split("\n")]
    pieces[-1] = pieces[-1][:-1]
    events = [chunk(cid, model, {"content": p}) for p in pieces if p]
    events.append(chunk(cid, model, {}, "stop", usage=_usage(answer), **{EXTRA_FIELD: answer.as_dict()}))
    events.append("data: [DONE]\n\n")
    return events


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"
