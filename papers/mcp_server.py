"""`papers mcp`: the corpus as Model Context Protocol tools over stdio (the official `mcp` SDK's MCPServer).

Three tools, each one call of ``assistant``'s public API returning the same JSON as the CLI's --json
(plus, for answers and summaries, the Markdown a person would read, citations included):
``search_papers``, ``ask_papers`` and ``summarize_topic``. Errors a user can fix come back as tool
errors naming the problem. stdout carries the protocol, so nothing else may print there.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from common.errors import PapersError
from common.settings import Settings

INSTRUCTIONS = (
    "Tools over a corpus of machine-learning paper abstracts. Answers cite paper titles as [n]; keep the "
    "citations when you quote them. An answer that says the corpus does not cover a question is final: "
    "do not invent sources."
)


def build_server(settings: Settings) -> Any:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from assistant import api
    from assistant.render import answer_with_sources
    from assistant.retrieval import Filters
    from assistant.search import search

    server = MCPServer(name="papers-assistant", instructions=INSTRUCTIONS, log_level="WARNING")

    def user_errors(fn: Any) -> Any:
        """Run ``fn``; a mistake the caller can fix comes back as a tool error naming it."""
        try:
            return fn()
        except PapersError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    def search_papers(query: str, k: int = 5, year_from: int | None = None, year_to: int | None = None,
                      author: str | None = None) -> dict[str, Any]:
        """Find the papers in the corpus that best match a query (hybrid keyword + embedding retrieval).
        Returns {"results": [{title, score, dense, authors, date, paper_id}]}, best first."""
        filters = Filters(year_from=year_from, year_to=year_to, author=author)
        return user_errors(lambda: {"results": [h.as_dict() for h in search(
            query, k=k, settings=settings, filters=filters if filters.active() else None)]})

    @server.tool()
    def ask_papers(question: str, backend: str | None = None) -> dict[str, Any]:
        """Answer a question from the corpus with numbered citations to paper titles, or say that the corpus
        does not cover it. `markdown` is the answer with its Sources list; the other fields are those of
        `papers ask --json` (answer, abstained, citations, sources, backend, usage, ...)."""
        answer = user_errors(lambda: api.ask(question, settings=settings, backend=backend))
        return {"markdown": answer_with_sources(answer), **answer.as_dict()}

    @server.tool()
    def summarize_topic(topic: str, max_papers: int | None = None, backend: str | None = None) -> dict[str, Any]:
        """A cited, theme-by-theme summary of everything the corpus holds on a subfield. `markdown` is the
        readable summary; the other fields are those of `papers summarize --json`."""
        summary = user_errors(lambda: api.summarize(topic, settings=settings, backend=backend, max_papers=max_papers))
        return {"markdown": summary.markdown(), **summary.as_dict()}

    return server


def run_stdio(settings: Settings) -> None:
    from assistant import api

    with contextlib.redirect_stdout(sys.stderr):  # model loading must not write into the protocol stream
        api.get_assistant(settings)
        server = build_server(settings)
    server.run("stdio")
