"""`jira-insights mcp`: the insights as an MCP server over stdio (the official `mcp` SDK, 2.x).

A chat assistant (Claude Desktop, Cursor, any MCP client) starts this process and calls its
tools; every answer is the same grounded JSON the pipeline wrote (the published
`insights/insights_feed.json`, validated against its schema on every read), so every number and
key in it was computed, none written by the assistant. Tools:

- `list_insights(board, severity, use_case)`: the current insights, optionally filtered;
- `board_summary(board)`: one board's insights by severity, and what was resolved;
- `explain(board, use_case)`: one analysis, its insight with facts, evidence and advice;
- `ask(question)`: a question in plain words, mapped to an analysis that exists (ask.py).

Nothing is written; the model (for `ask` only) is loaded once, on the first question.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jira_insights_pipeline.ask import answer_from_feed, mentioned_boards, question_words
from jira_insights_pipeline.data_folder import DATA_DIR_ENV, DataFolder
from jira_insights_pipeline.insights.io_manager import read_insight_file
from jira_insights_pipeline.registry import use_cases

SERVER_NAME = "jira-insights"


class InsightsReader:
    """The published feed of one data folder, and the model for questions."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = DataFolder(data_dir)
        self._model: Any = None
        self._model_made = False

    def feed(self) -> dict[str, Any]:
        path = self.folder.insights_feed
        if not path.is_file():
            raise FileNotFoundError(
                f"No insights feed at {path}: run the pipeline first (make demo), or point "
                f"{DATA_DIR_ENV} at its data folder."
            )
        return read_insight_file(path)

    def model(self) -> Any:
        """The model `serve` and `ask` use too (JIRA_INSIGHTS_LLM, JIRA_INSIGHTS_MODEL_PATH),
        made once per process; None when it is off."""
        if not self._model_made:
            from jira_insights_pipeline.service.server import question_model

            self._model = question_model(os.environ)
            self._model_made = True
        return self._model

    def board_id(self, board: str) -> int:
        """The id of the board `board` names (its id, its name, or its key), or a ValueError
        listing the boards there are."""
        boards = {int(i["board"]["id"]): str(i["board"]["name"]) for i in self.feed()["insights"]}
        text = board.strip()
        if text.isdigit() and int(text) in boards:
            return int(text)
        by_name = [b for b, name in boards.items() if name.lower() == text.lower()]
        found = by_name or mentioned_boards(question_words(text), boards)
        if len(found) != 1:
            raise ValueError(
                f"No single board is called {board!r}; the boards are "
                + ", ".join(f"{name} (id {b})" for b, name in sorted(boards.items()))
                + "."
            )
        return found[0]


def _matches(insight: Mapping[str, Any], filters: Mapping[str, str | int | None]) -> bool:
    return all(
        value is None or value == actual
        for value, actual in (
            (filters.get("board_id"), insight["board"]["id"]),
            (filters.get("severity"), insight["severity"]),
            (filters.get("use_case"), insight["type"]),
        )
    )


def list_insights(
    reader: InsightsReader,
    board: str | None = None,
    severity: str | None = None,
    use_case: str | None = None,
) -> dict[str, Any]:
    """The current insights (most severe first), optionally of one board, severity, use case."""
    feed = reader.feed()
    if use_case is not None and use_case not in {u.name for u in use_cases()}:
        raise ValueError(
            f"Unknown use case {use_case!r}; use one of "
            + ", ".join(u.name for u in use_cases())
            + "."
        )
    filters = {
        "board_id": None if board is None else reader.board_id(board),
        "severity": severity,
        "use_case": use_case,
    }
    insights = [i for i in feed["insights"] if _matches(i, filters)]
    return {"as_of": feed["as_of"], "count": len(insights), "insights": insights}


def board_summary(reader: InsightsReader, board: str) -> dict[str, Any]:
    """One board: its insights grouped by severity, and the problems resolved since the day
    before."""
    feed = reader.feed()
    board_id = reader.board_id(board)
    mine = [i for i in feed["insights"] if i["board"]["id"] == board_id]
    return {
        "as_of": feed["as_of"],
        "board": mine[0]["board"] if mine else {"id": board_id},
        "by_severity": {
            severity: [i["title"] for i in mine if i["severity"] == severity]
            for severity in ("error", "warning", "info")
        },
        "insights": mine,
        "compared_with": feed.get("compared_with"),
        "resolved": [r for r in feed.get("resolved", []) if r["board"]["id"] == board_id],
    }


def explain(reader: InsightsReader, board: str, use_case: str) -> dict[str, Any]:
    """One analysis: the board's insight of `use_case` (name or label), the most severe when
    several sprints have one."""
    names = {u.name: u.name for u in use_cases()} | {u.label.lower(): u.name for u in use_cases()}
    name = names.get(use_case.strip().lower())
    if name is None:
        raise ValueError(
            f"Unknown use case {use_case!r}; use one of "
            + ", ".join(f"{u.name} ({u.label})" for u in use_cases())
            + "."
        )
    found = list_insights(reader, board=board, use_case=name)["insights"]
    if not found:
        raise ValueError(f"No {name} insight for {board!r} in the current feed.")
    return found[0]  # the feed lists the most severe first


def ask(reader: InsightsReader, question: str) -> dict[str, Any]:
    """A question in plain words, answered by the analysis it maps to (ask.py)."""
    return answer_from_feed(question, reader.feed()["insights"], reader.model())


def _anticipated(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A tool's answer; a mistake the user can fix (an unknown board, no feed yet, a question
    too long) reaches the client with its message, as MCP's ToolError."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        return call()
    except (ValueError, FileNotFoundError) as error:
        raise ToolError(str(error)) from error


def build_server(data_dir: Path) -> Any:
    """The MCP server with its four tools, reading `data_dir`."""
    from mcp.server.mcpserver import MCPServer

    reader = InsightsReader(data_dir)
    server = MCPServer(
        SERVER_NAME,
        instructions="Grounded Jira insights for a Scrum Master: every number and issue key in "
        "a tool's answer was computed from the team's Jira; quote them as given.",
    )

    @server.tool(name="list_insights")
    def list_insights_tool(
        board: str | None = None, severity: str | None = None, use_case: str | None = None
    ) -> dict[str, Any]:
        """The current insights, most severe first; filter by board (id, name or key),
        severity (error, warning, info) or use case."""
        return _anticipated(lambda: list_insights(reader, board, severity, use_case))

    @server.tool(name="board_summary")
    def board_summary_tool(board: str) -> dict[str, Any]:
        """One board's insights by severity and what was resolved since the day before."""
        return _anticipated(lambda: board_summary(reader, board))

    # The use cases are the registry's, named in the description the client reads.
    use_case_list = ", ".join(u.name for u in use_cases())

    @server.tool(
        name="explain",
        description="One analysis of a board (board: id, name or key; use case: one of "
        f"{use_case_list}, or its label): its figures, causes, evidence and advice.",
    )
    def explain_tool(board: str, use_case: str) -> dict[str, Any]:
        return _anticipated(lambda: explain(reader, board, use_case))

    @server.tool(name="ask")
    def ask_tool(question: str) -> dict[str, Any]:
        """A question in plain words ("why is MOB slowing down?"), answered by the
        analysis it maps to, saying which one."""
        return _anticipated(lambda: ask(reader, question))

    return server


def serve_stdio(data_dir: Path) -> None:
    """Runs the server on stdin/stdout until the client closes them."""
    build_server(data_dir).run("stdio")


if __name__ == "__main__":  # `python -m jira_insights_pipeline.mcp_server`, as `jira-insights mcp`
    serve_stdio(Path(os.environ.get(DATA_DIR_ENV, "data")))
