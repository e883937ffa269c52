"""The MCP server (`jira-insights mcp`), spoken to over stdio by the official SDK's client.

A chat assistant reads the insights through it, so it must answer with the feed's own grounded
JSON: `list_insights` returns exactly the published insights (and filters them), `explain`
returns one analysis's insight, `ask` maps a plain question to its analysis, and a bad argument
gets an error naming what exists, never a made-up answer. The server runs as a real subprocess
(`python -m jira_insights_pipeline.mcp_server`), as an MCP client would start it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

from jira_insights_pipeline.data_folder import DataFolder


def _call(data_dir: Path, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any]]:
    """The server's tool names, and each call's result (its JSON, or the error text)."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "jira_insights_pipeline.mcp_server"],
        env={
            "JIRA_INSIGHTS_DATA_DIR": str(data_dir),
            "JIRA_INSIGHTS_LLM": "off",
            "PATH": os.environ.get("PATH", ""),
        },
        cwd=str(Path(__file__).resolve().parents[1]),
    )

    async def run() -> tuple[list[str], list[Any]]:
        async with Client(server) as client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            results = []
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                text = "".join(getattr(part, "text", "") for part in result.content)
                results.append(text if result.is_error else json.loads(text))
            return tools, results

    return anyio.run(run)


@pytest.fixture(scope="module")
def answers(published_sample: Path) -> tuple[list[str], list[Any]]:
    return _call(
        published_sample,
        [
            ("list_insights", {}),
            ("list_insights", {"board": "PAY", "severity": "error"}),
            ("explain", {"board": "MOB board", "use_case": "velocity"}),
            ("ask", {"question": "why is velocity dropping on MOB?"}),
            ("board_summary", {"board": "3"}),
            ("explain", {"board": "NOPE", "use_case": "velocity"}),
        ],
    )


def test_the_server_lists_its_four_tools(answers: tuple[list[str], list[Any]]) -> None:
    tools, _ = answers
    assert sorted(tools) == ["ask", "board_summary", "explain", "list_insights"]


def test_list_insights_returns_the_feed(
    published_sample: Path, answers: tuple[list[str], list[Any]]
) -> None:
    feed = json.loads(DataFolder(published_sample).insights_feed.read_text(encoding="utf-8"))
    _, (every, pay_errors, *_) = answers
    assert every["insights"] == feed["insights"] and every["count"] == len(feed["insights"])
    expected = [
        i
        for i in feed["insights"]
        if i["board"]["name"] == "PAY board" and i["severity"] == "error"
    ]
    # PLANTED.md: both of PAY's errors are bugs escaping from Sprints 26 and 27.
    assert pay_errors["insights"] == expected and len(expected) == 2


def test_explain_and_ask_answer_with_the_analysis(answers: tuple[list[str], list[Any]]) -> None:
    _, (_, _, explained, asked, summary, _) = answers
    assert explained["type"] == "velocity" and explained["board"]["name"] == "MOB board"
    assert asked["analysis"]["insight_id"] == explained["id"]
    assert asked["message"] == explained["message"] and "16 points" in asked["message"]
    assert summary["board"]["name"] == "PAY board"
    assert len(summary["by_severity"]["error"]) == 2


def test_a_board_that_does_not_exist_gets_an_error_naming_the_boards(
    answers: tuple[list[str], list[Any]],
) -> None:
    _, results = answers
    error = results[-1]
    assert isinstance(error, str) and "No single board is called 'NOPE'" in error
    assert "MOB board (id " in error
