"""What the hand-made test sites (metrics_issue_site, metrics_sprint_site) share: issues whose
statuses, estimates and sprint moves are written as events, sprints, and the staging tables
built from them. Column lists come from the staging models, so a test table has exactly the
columns the parser produces; every table is validated against its model."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

import dagster as dg
import pandas as pd

from jira_insights_pipeline.schemas import STAGING_SCHEMAS

# Every status the hand-made histories use, with its Jira status category.
CATEGORIES = {
    "To Do": "new",
    "Backlog": "new",
    "Open": "new",
    "In Progress": "indeterminate",
    "In Review": "indeterminate",
    "In Testing": "indeterminate",
    "Blocked": "indeterminate",
    "Done": "done",
    "Closed": "done",
}


def t(text: str) -> pd.Timestamp:
    """An instant written as "2026-03-02 09:00" (UTC)."""
    return pd.Timestamp(text, tz="UTC")


def staging_columns(table: str) -> list[str]:
    """The columns of staging table `table`, in its model's order."""
    return list(STAGING_SCHEMAS[table].to_schema().columns)


@dataclass
class StagedIssue:
    """An issue as created, and the events of its history, each at an instant."""

    key: str
    created: pd.Timestamp
    issue_type: str
    is_subtask: bool
    statuses: list[tuple[pd.Timestamp, str]] = field(default_factory=list)
    points: list[tuple[pd.Timestamp, float | None]] = field(default_factory=list)
    sprints: list[tuple[int, pd.Timestamp, pd.Timestamp | None]] = field(default_factory=list)


IssueT = TypeVar("IssueT", bound=StagedIssue)


class StagingSite(Generic[IssueT]):
    """Sprints, issues and links of one made-up site, ready to become staging tables. Event
    methods return the site, so a history reads as one chain of events. A site says how it
    numbers issues (`issue_id`), what its issue rows hold besides the common defaults
    (`_issue_fields`) and which changes its changelog records (`_changelog_table`)."""

    def __init__(self) -> None:
        self.issues: dict[str, IssueT] = {}
        self.sprint_rows: list[dict[str, Any]] = []
        self.link_rows: list[dict[str, Any]] = []

    def issue_id(self, key: str) -> str:
        raise NotImplementedError

    def status_id(self, status: str) -> str | None:
        """The status id written next to a status name (none unless a site gives one)."""
        return None

    def sprint(
        self,
        sprint_id: int,
        name: str,
        state: str,
        start: str | None,
        end: str | None,
        complete: str | None = None,
        board_id: int | None = 1,
    ) -> Self:
        self.sprint_rows.append(
            {
                "sprint_id": sprint_id,
                "board_id": board_id,
                "name": name,
                "state": state,
                "start_date": t(start) if start else pd.NaT,
                "end_date": t(end) if end else pd.NaT,
                "complete_date": t(complete) if complete else pd.NaT,
                "goal": None,
            }
        )
        return self

    def move(self, key: str, at: str, status: str) -> Self:
        self.issues[key].statuses.append((t(at), status))
        return self

    def estimate(self, key: str, at: str, points: float | None) -> Self:
        self.issues[key].points.append((t(at), points))
        return self

    def in_sprint(self, key: str, sprint_id: int, entered: str, left: str | None = None) -> Self:
        self.issues[key].sprints.append((sprint_id, t(entered), t(left) if left else None))
        return self

    def tables(self, exported_at: str = "2026-04-01 00:00") -> dict[str, pd.DataFrame]:
        frames = {
            "jira_snapshot": pd.DataFrame(
                {
                    "site": ["https://made-up.example"],
                    "source": ["test"],
                    "exported_at": [t(exported_at)],
                    "snapshot_dir": ["-"],
                }
            ),
            "jira_boards": self._boards_table(),
            "jira_issues": self._issues_table(),
            "jira_changelog": self._changelog_table(),
            "jira_sprints": pd.DataFrame(
                self.sprint_rows, columns=staging_columns("jira_sprints")
            ).astype({"board_id": "Int64"}),
            "jira_sprint_membership": self._membership_table(),
            "jira_status_intervals": self._status_table(),
            "jira_estimates": self._estimates_table(),
            "jira_issue_links": pd.DataFrame(
                self.link_rows, columns=staging_columns("jira_issue_links")
            ),
        }
        return {name: STAGING_SCHEMAS[name].validate(frame) for name, frame in frames.items()}

    def _boards_table(self) -> pd.DataFrame:
        raise NotImplementedError

    def _issue_fields(self, issue: IssueT) -> dict[str, Any]:
        """The issue row's values that differ from the defaults of `_issues_table`."""
        raise NotImplementedError

    def _changelog_table(self) -> pd.DataFrame:
        raise NotImplementedError

    def _issues_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            status = issue.statuses[-1][1]
            row = {
                "issue_id": self.issue_id(issue.key),
                "issue_key": issue.key,
                "project_key": issue.key.split("-")[0],
                "board_id": 1,
                "issue_type": issue.issue_type,
                "is_subtask": issue.is_subtask,
                "summary": f"Summary of {issue.key}",
                "status": status,
                "status_id": self.status_id(status),
                "status_category": CATEGORIES[status],
                "created": issue.created,
                "updated": issue.created,
                "resolved": pd.NaT,
                "assignee": None,
                "labels": [],
                "components": [],
                "environment": None,
                "story_points": issue.points[-1][1] if issue.points else None,
                "parent_key": None,
                "epic_key": None,
                "flagged": False,
                "acceptance_criteria_length": 0,
            }
            rows.append({**row, **self._issue_fields(issue)})
        return pd.DataFrame(rows).astype({"board_id": "Int64"})

    def _membership_table(self) -> pd.DataFrame:
        rows = [
            {
                "issue_id": self.issue_id(issue.key),
                "issue_key": issue.key,
                "sprint_id": sprint_id,
                "entered_at": entered,
                "left_at": left if left is not None else pd.NaT,
                "inferred": False,
            }
            for issue in self.issues.values()
            for sprint_id, entered, left in issue.sprints
        ]
        frame = pd.DataFrame(rows, columns=staging_columns("jira_sprint_membership"))
        for column in ("entered_at", "left_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def _status_table(self) -> pd.DataFrame:
        frame = self._intervals(lambda issue: issue.statuses, "status", "entered_at", "left_at")
        frame.insert(3, "status_id", frame["status"].map(self.status_id))
        frame.insert(4, "status_category", frame["status"].map(CATEGORIES))
        return frame

    def _estimates_table(self) -> pd.DataFrame:
        frame = self._intervals(
            lambda issue: issue.points, "story_points", "valid_from", "valid_to"
        )
        return frame.astype({"story_points": float})

    def _intervals(
        self,
        events: Callable[[IssueT], Sequence[tuple[pd.Timestamp, Any]]],
        value: str,
        start: str,
        end: str,
    ) -> pd.DataFrame:
        """One row per value an issue held, from the instant it was set until the next one
        (null end: still held at the export)."""
        rows = []
        for issue in self.issues.values():
            history = sorted(events(issue), key=lambda event: event[0])
            for number, (at, held) in enumerate(history):
                following = history[number + 1][0] if number + 1 < len(history) else pd.NaT
                rows.append(
                    {
                        "issue_id": self.issue_id(issue.key),
                        "issue_key": issue.key,
                        value: held,
                        start: at,
                        end: following,
                    }
                )
        frame = pd.DataFrame(rows, columns=["issue_id", "issue_key", value, start, end])
        for column in (start, end):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame


def change_row(
    issue_id: str,
    key: str,
    at: pd.Timestamp,
    *,
    field_name: str,
    field_id: str | None,
    field_type: str,
    role: str,
    before: str | None,
    after: str | None,
    history_id: str = "",
    author: str | None = None,
) -> dict[str, Any]:
    """One changelog item: `field_name` (in role `role`) changed from `before` to `after`."""
    return {
        "issue_id": issue_id,
        "issue_key": key,
        "history_id": history_id,
        "created": at,
        "author": author,
        "item_index": 0,
        "field": field_name,
        "field_id": field_id,
        "field_type": field_type,
        "field_role": role,
        "from_value": None,
        "from_string": before,
        "to_value": None,
        "to_string": after,
    }


def changelog_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The changelog table of `rows`, with UTC instants even when there are none."""
    frame = pd.DataFrame(list(rows), columns=staging_columns("jira_changelog"))
    frame["created"] = pd.to_datetime(frame["created"], utc=True)
    return frame


def staging_stand_ins(tables: dict[str, pd.DataFrame]) -> list[dg.AssetsDefinition]:
    """One asset per staging table, stored in schema `jira` as the real staging step does."""

    def stand_in(name: str, frame: pd.DataFrame) -> dg.AssetsDefinition:
        @dg.asset(name=name, metadata={"schema": "jira"})
        def _table() -> pd.DataFrame:
            return frame

        return _table

    return [stand_in(name, frame) for name, frame in tables.items()]
