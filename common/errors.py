"""One exception type for every mistake a user can fix.

The CLI prints ``PapersError`` as a single ``error: ...`` line with a non-zero exit and never a
traceback, so every message must name the problem *and* the fix.
"""


class PapersError(Exception):
    """A user-facing error: the message is shown as-is, on one line."""

    exit_code = 2


class PartialIngest(PapersError):
    """The index was updated, but some input records were skipped (listed in ``papers stats``)."""

    exit_code = 3


class BackendError(PapersError):
    """The LLM backend failed (server down, timed out, key refused): not a mistake in the user's input."""


class ServerUnavailable(PapersError):
    """The Chroma server (PAPERS_CHROMA_URL) does not answer: not a mistake in the request, and it may come back."""
