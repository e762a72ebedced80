"""What keeps the server safe to expose: bearer keys, a body-size cap, and a bound on LLM-backed work."""

from __future__ import annotations

import hmac
import json
import threading
from typing import Any

from papers.serve.openai_format import error_body


class ApiError(Exception):
    """An HTTP error with an OpenAI-style body: ``{"error": {"message", "type", "code"}}``."""

    def __init__(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def check_key(authorization: str | None, keys: list[bytes]) -> None:
    """Raise 401 unless ``Authorization: Bearer <key>`` matches one of ``keys`` (no keys: open).

    Every key is compared in constant time, and all of them are, so timing says nothing about which
    key came close. The key itself is never logged or echoed."""
    if not keys:
        return
    scheme, _, given = (authorization or "").partition(" ")
    offered = given.strip().encode() if scheme.lower() == "bearer" else b""
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(offered, key)
    if not ok:
        what = "a wrong API key" if offered else "no API key"
        raise ApiError(401, f"{what} was sent: pass one of PAPERS_API_KEYS as `Authorization: Bearer <key>`",
                       "authentication_error", {"WWW-Authenticate": "Bearer"})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Pure ASGI middleware: a body over ``max_bytes`` gets 413, by Content-Length or as it streams in."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        too_large = refused = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            # the app answers a body it could not read with an error of its own: say what happened instead
            nonlocal refused
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start" and not refused:
                refused = True
                await self._refuse(send)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not refused:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(error_body(f"the request body is larger than {self.max_bytes} bytes (PAPERS_MAX_BODY_BYTES): "
                                     "send a shorter question or history", "invalid_request_error",
                                     "request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class Slots:
    """At most ``limit`` LLM-backed requests at once; past it, refuse at once (503) instead of queueing.

    A slot is held until the request's work has really stopped (its generation closed), not merely
    until the client went away."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._sem = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_use = 0

    def acquire(self) -> "Slot":
        if not self._sem.acquire(blocking=False):
            raise ApiError(503, f"all {self.limit} LLM slots are busy (PAPERS_LLM_CONCURRENCY); retry in a few seconds, "
                                "or use the extractive model (papers-assistant:extractive)", "server_busy",
                           {"Retry-After": "5"})
        with self._lock:
            self.in_use += 1
        return Slot(self)

    def _release(self) -> None:
        with self._lock:
            self.in_use -= 1
        self._sem.release()


class Slot:
    """One held slot; ``release`` is idempotent so every exit path may call it."""

    def __init__(self, slots: Slots | None) -> None:
        self._slots = slots
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            slots, self._slots = self._slots, None
        if slots is not None:
            slots._release()


NO_SLOT = Slot(None)
