"""The files written beside the report page: `insights.csv`, `insights.json` and one
`board-<id>.md` per board, a summary ready to paste into a retrospective.

Plain functions of the page's context (`render.report_context`), so the exports hold exactly the
insights the page shows. Jira's and the model's text is escaped for Markdown; the CSV module
quotes it for CSV, and a cell that a spreadsheet would run as a formula is prefixed with `'`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from jira_insights_pipeline.markdown import markdown_escape
from jira_insights_pipeline.report.render import change_label

CSV_FILE = "insights.csv"
JSON_FILE = "insights.json"
CSV_COLUMNS = (
    "board_id",
    "board",
    "sprint",
    "type",
    "severity",
    "change",
    "title",
    "message",
    "recommendations",
    "evidence_keys",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def board_markdown_file(board_id: int) -> str:
    return f"board-{board_id}.md"


def page_insights(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The insights in the page's order: boards as shown, most severe first."""
    return [
        insight
        for board in context["boards"]
        for severity in context["severity_order"]
        for insight in board.insights.get(severity, [])
    ]


def _cell(text: object) -> str:
    value = "" if text is None else str(text)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def insights_csv(context: Mapping[str, Any]) -> str:
    """One row per insight on the page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for insight in page_insights(context):
        writer.writerow(
            _cell(value)
            for value in (
                insight["board"]["id"],
                insight["board"]["name"],
                (insight.get("sprint") or {}).get("name") or "",
                insight["type"],
                insight["severity"],
                insight.get("change") or "",
                insight["title"],
                insight["message"],
                " | ".join(insight.get("recommendations") or []),
                " ".join(item["issue_key"] for item in insight.get("evidence") or []),
            )
        )
    return buffer.getvalue()


def page_resolved(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The problems resolved since the previous day, in the page's board order."""
    return [item for board in context["boards"] for item in board.resolved]


def insights_json(context: Mapping[str, Any]) -> str:
    document = {
        "insights": page_insights(context),
        "compared_with": context.get("compared_with"),
        "resolved": page_resolved(context),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def board_markdown(board: Any, context: Mapping[str, Any]) -> str:
    """A board's summary for a retrospective: key figures, insights by severity with their
    change since the previous day, recommendations and evidence keys, then the problems
    resolved since that day."""
    lines = [f"# {markdown_escape(board.name)}", ""]
    if context.get("as_of_label"):
        lines += [f"Figures as of {context['as_of_label']}.", ""]
    if board.figures:
        lines += ["## Key figures", ""]
        for figure in board.figures:
            mark = " (over threshold)" if figure.alert else ""
            lines.append(
                f"- **{markdown_escape(figure.label)}**: {markdown_escape(figure.value)}{mark}"
                f" — {markdown_escape(figure.detail)}"
            )
        lines.append("")
    for severity in context["severity_order"]:
        insights = board.insights.get(severity, [])
        if not insights:
            continue
        lines += [f"## {context['severity_label'][severity]}", ""]
        for insight in insights:
            change = change_label(insight)
            mark = f" ({change})" if change else ""
            lines += [f"### {markdown_escape(insight['title'])}{mark}", ""]
            lines += [markdown_escape(insight["message"]), ""]
            for tip in insight.get("recommendations") or []:
                lines.append(f"- {markdown_escape(tip)}")
            keys = [markdown_escape(item["issue_key"]) for item in insight.get("evidence") or []]
            if keys:
                lines.append(f"- Evidence: {', '.join(keys)}")
            lines.append("")
    if board.resolved:
        lines += [f"## Resolved since {context['compared_with_label']}", ""]
        for item in board.resolved:
            sprint = f", {markdown_escape(item['sprint']['name'])}" if item.get("sprint") else ""
            lines.append(f"- {markdown_escape(item['title'])} ({item['severity']}{sprint})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_files(context: Mapping[str, Any]) -> dict[str, str]:
    """Every export by file name."""
    files = {CSV_FILE: insights_csv(context), JSON_FILE: insights_json(context)}
    for board in context["boards"]:
        files[board_markdown_file(board.board_id)] = board_markdown(board, context)
    return files
