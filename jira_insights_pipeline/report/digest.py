"""The weekly digest: per board, what a Scrum Master reads on Monday morning.

For each board: its key figures (one per use case, the report's), the trend its use cases
describe (e.g. completion over the last sprints), the problems raised now with their causes (the
grounded insight messages), and what changed since the feed of a week before: problems that are
new this week and problems resolved. Each board's problems are listed most severe first, then
by how helpful the team found their use case (the service's feedback, `order_insights`), then
in the feed's order; one the team dismissed stays listed (the digest is a record) and is marked
`"dismissed": true`. The digest is plain data (`build_digest`), written as
Markdown for a retrospective and as a small self-contained HTML page (jinja2, autoescaped), and
kept as JSON, from which the alert sensor posts one message per board per ISO week.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jira_insights_pipeline.insights.history import (
    PreviousFeed,
    is_raised,
    mark_changes,
    resolved,
)
from jira_insights_pipeline.markdown import markdown_escape
from jira_insights_pipeline.report.figures import Figure
from jira_insights_pipeline.report.render import template_environment
from jira_insights_pipeline.service.feedback import (
    NO_FEEDBACK,
    FeedbackSnapshot,
    is_dismissed,
    order_insights,
)

DIGEST_SCHEMA_VERSION = "1.0"
# A week ago: the digest compares with the newest feed at least this many days older.
WEEK = timedelta(days=7)
# A scheduled digest is posted when the sensor sees it within this long of being written.
POSTED_WITHIN = timedelta(days=2)
DIGEST_TEMPLATE = "weekly.html.j2"
# The digest's files sit beside the report page, so its board links are relative.
REPORT_PAGE = "insights.html"
DIGEST_FILE = re.compile(r"^weekly-(\d{4}-W\d{2})\.json$")


def iso_week(day: date) -> str:
    """The ISO 8601 week of `day`, e.g. 2026-W47 (weeks start on Monday)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_file_stem(week: str) -> str:
    """`weekly-<ISO week>`: the digest's .md, .html and .json files in the report folder."""
    return f"weekly-{week}"


def digest_id(week: str, board_id: int) -> str:
    """The stable id of one board's digest of one week: the sensor posts each id once."""
    return f"digest-{week}-board-{board_id}"


def compared_day(as_of_day: date) -> date:
    """The digest compares with feeds dated strictly before this day (a week back or more)."""
    return as_of_day - WEEK + timedelta(days=1)


def _attention(insight: Mapping[str, Any], feedback: FeedbackSnapshot) -> dict[str, Any]:
    dismissal = feedback.dismissals.get(insight["subject"])
    return {
        "severity": insight["severity"],
        "title": insight["title"],
        "message": insight["message"],
        "recommendations": list(insight["recommendations"]),
        "change": insight.get("change"),
        "sprint": insight["sprint"]["name"] if insight["sprint"] else None,
        "type": insight["type"],
        "dismissed": dismissal is not None and is_dismissed(insight, dismissal),
    }


@dataclass(frozen=True)
class DigestWeek:
    """Which week a digest reports on, and whether the weekly schedule wrote it (only those
    are posted: the team's chat gets Monday's digest, not every rebuild)."""

    week: str
    scheduled: bool
    written_at: str

    @classmethod
    def of_run(cls, tick: str | None, as_of_day: date, now: datetime) -> DigestWeek:
        """A scheduled run (`tick`: its scheduled time, ISO 8601 in the schedule's zone)
        reports on the week that ended before its tick, whatever day its data is from; any
        other run on the week of its data's day."""
        if tick:
            ended = datetime.fromisoformat(tick).date() - timedelta(days=1)
            return cls(iso_week(ended), True, now.isoformat())
        return cls(iso_week(as_of_day), False, now.isoformat())


def build_digest(
    week: DigestWeek,
    as_of: str,
    insights: Sequence[Mapping[str, Any]],
    week_before: PreviousFeed | None,
    boards: Mapping[int, str],
    figures: Callable[[int], list[Figure]],
    trends: Callable[[int], list[str]],
    feedback: FeedbackSnapshot = NO_FEEDBACK,
) -> dict[str, Any]:
    """The digest of `week`: one entry per board of `boards`, from the current `insights` (the
    feed's, as of `as_of`), compared with `week_before` (the feed of a week ago, or None). Each
    board's attention list follows `order_insights` with `feedback`'s helpfulness, and marks
    the insights `feedback` dismisses."""
    marked = mark_changes(insights, week_before)
    gone = resolved(insights, week_before)
    # New this week: raised now and not raised a week before (absent, or healthy then), the
    # counterpart of `resolved`. A healthy finding turning into a warning is new to the team.
    raised_before = (
        set()
        if week_before is None
        else {i["subject"] for i in week_before.insights if is_raised(i["severity"])}
    )
    entries = []
    for board_id, name in sorted(boards.items(), key=lambda item: item[1]):
        raised = order_insights(
            [i for i in marked if i["board"]["id"] == board_id and is_raised(i["severity"])],
            feedback.helpfulness,
        )
        entries.append(
            {
                "digest_id": digest_id(week.week, board_id),
                "board": {"id": board_id, "name": name},
                "figures": [asdict(figure) for figure in figures(board_id)],
                "trends": trends(board_id),
                "attention": [_attention(insight, feedback) for insight in raised],
                "new": [
                    i["title"]
                    for i in raised
                    if week_before is not None and i["subject"] not in raised_before
                ],
                "resolved": [
                    {"severity": i["severity"], "title": i["title"]}
                    for i in gone
                    if i["board"]["id"] == board_id
                ],
            }
        )
    return {
        "schema_version": DIGEST_SCHEMA_VERSION,
        "week": week.week,
        "scheduled": week.scheduled,
        "written_at": week.written_at,
        "as_of": as_of,
        "compared_with": None if week_before is None else week_before.day.isoformat(),
        "boards": entries,
    }


# Said instead of "new" and "resolved" when there is no feed from a week before.
NOTHING_TO_COMPARE = (
    "No feed from a week before to compare with yet, so nothing is marked new or resolved."
)


def _since(document: Mapping[str, Any]) -> str:
    return f"since {document['compared_with']}"


def comparison_note(document: Mapping[str, Any]) -> str:
    """What the digest compares with, in one sentence."""
    if document["compared_with"] is None:
        return NOTHING_TO_COMPARE
    return f"New and resolved are {_since(document)}, the feed of a week before."


def board_lines(document: Mapping[str, Any], board: Mapping[str, Any]) -> list[str]:
    """One board's digest as plain lines (no markup): the chat message and the Markdown's
    content. Every figure and sentence comes from the digest document."""
    lines = [
        f"{figure['label']}: {figure['value']} ({figure['detail']})" for figure in board["figures"]
    ]
    lines += board["trends"]
    if board["attention"]:
        lines.append(f"Needs attention ({len(board['attention'])}):")
        for item in board["attention"]:
            lines.append(f"- {item['severity'].upper()}: {item['title']}. {item['message']}")
    else:
        lines.append("Nothing needs attention.")
    if document["compared_with"]:
        lines.append(
            f"New {_since(document)}: " + ("; ".join(board["new"]) if board["new"] else "none")
        )
        resolved_titles = [item["title"] for item in board["resolved"]]
        lines.append(
            f"Resolved {_since(document)}: "
            + ("; ".join(resolved_titles) if resolved_titles else "none")
        )
    else:
        lines.append(NOTHING_TO_COMPARE)
    return lines


def digest_markdown(document: Mapping[str, Any]) -> str:
    """The digest as Markdown, one section per board, ready to paste into a retrospective."""
    blocks = [
        f"# Weekly digest {document['week']}",
        f"As of {document['as_of']}. {comparison_note(document)}",
    ]
    for board in document["boards"]:
        blocks.append(f"## {markdown_escape(board['board']['name'])}")
        lines = []
        for line in board_lines(document, board):
            is_item = line.startswith("- ")
            text = markdown_escape(line[2:] if is_item else line)
            lines.append(f"- {text}" if is_item else f"{text}  ")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def digest_html(document: Mapping[str, Any]) -> str:
    """The digest as one self-contained HTML page (every Jira and model text autoescaped)."""
    template = template_environment().get_template(DIGEST_TEMPLATE)
    return template.render(
        **document,
        since=_since(document),
        comparison=comparison_note(document),
        report_page=REPORT_PAGE,
    )


def latest_digest(report_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest weekly digest in `report_dir` (by ISO week) and its file, or None. A file
    that cannot be read is skipped: it is written atomically, so that means someone changed
    it."""
    found = sorted(
        (match.group(1), path)
        for path in report_dir.glob("weekly-*.json")
        if (match := DIGEST_FILE.match(path.name))
    )
    for _, path in reversed(found):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(document, dict) and isinstance(document.get("boards"), list):
            return path, document
    return None


def due_for_posting(digest: Mapping[str, Any], now: datetime) -> bool:
    """Whether the sensor posts `digest`: the weekly schedule wrote it, at most
    `POSTED_WITHIN` ago (a digest found late, after the sensor was off for weeks, stays a
    file)."""
    if digest.get("scheduled") is not True:
        return False
    written = datetime.fromisoformat(str(digest.get("written_at")))
    return now - written <= POSTED_WITHIN
