"""`papers mcp` through the official MCP SDK's client over stdio, as an agent would use it."""

from __future__ import annotations

import sys

import anyio
import pytest

from tests.serve_fixtures import clean_env

pytestmark = pytest.mark.slow


def _call_tools(corpus_index, calls: list[tuple[str, dict]]) -> tuple[set[str], list]:
    from mcp import StdioServerParameters
    from mcp.client.client import Client

    params = StdioServerParameters(command=sys.executable, args=["-m", "papers", "mcp"], env=clean_env(corpus_index))

    async def run() -> tuple[set[str], list]:
        async with Client(params, read_timeout_seconds=300) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            return names, [await client.call_tool(name, args) for name, args in calls]

    return anyio.run(run)


def test_mcp_tools_search_answer_with_citations_and_summarize_over_stdio(corpus_index):
    names, (found, answer, summary, empty) = _call_tools(corpus_index, [
        ("search_papers", {"query": "process reward models", "k": 3}),
        ("ask_papers", {"question": "Which papers study process reward models?"}),
        ("summarize_topic", {"topic": "process reward models", "max_papers": 6}),
        ("ask_papers", {"question": "   "}),
    ])
    assert {"search_papers", "ask_papers", "summarize_topic"} <= names
    results = found.structured_content["results"]
    assert len(results) == 3 and all(r["title"] for r in results)
    cited = answer.structured_content["citations"]
    assert cited and not answer.is_error
    assert all(f"[{c['n']}] {c['title']}" in answer.structured_content["markdown"] for c in cited)
    assert summary.structured_content["citations"] and "## Overview" in summary.structured_content["markdown"]
    assert empty.is_error and "question is empty" in empty.content[0].text
