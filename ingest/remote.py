"""A Chroma server's collections as readers use them: a server that stops answering is one line naming its URL.

``store.open_index`` wraps each collection of a generation on a Chroma server in ``ServerCollection``. A
network failure of any read (the server was stopped, restarted or is unreachable) becomes a
``ServerUnavailable`` naming the URL and the fix, instead of an httpx or chromadb traceback, so every
interface (CLI, HTTP API, MCP, UI) shows one line and a long-running one keeps serving: the next request
after the server is back reconnects (httpx opens a new connection), nothing needs a restart.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from common.errors import PapersError, ServerUnavailable


def unavailable(url: str, exc: BaseException | None = None) -> ServerUnavailable:
    """The one-line error for a Chroma server that does not answer."""
    why = f" ({type(exc).__name__})" if exc is not None and not isinstance(exc, ValueError) else ""
    return ServerUnavailable(f"cannot reach the Chroma server at {url}{why}: start it (`chroma run`) and retry, or "
                             "unset PAPERS_CHROMA_URL to use the embedded store")


def _network_failure(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError))


@contextmanager
def answering(url: str) -> Iterator[None]:
    """Run a request to the Chroma server at ``url``; a network failure becomes ``ServerUnavailable``."""
    try:
        yield
    except PapersError:
        raise
    except Exception as exc:
        if _network_failure(exc):
            raise unavailable(url, exc) from None
        raise


class ServerCollection:
    """A Chroma collection on a server whose reads fail with one line naming the server."""

    def __init__(self, collection: Any, url: str) -> None:
        self._collection = collection
        self.url = url

    @property
    def name(self) -> str:
        return self._collection.name

    def count(self) -> int:
        with answering(self.url):
            return self._collection.count()

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with answering(self.url):
            return self._collection.get(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        with answering(self.url):
            return self._collection.query(*args, **kwargs)
