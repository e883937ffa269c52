"""A small hand-made Jira site for the issue metric tests: issues and their histories written as
events ("moved to In Progress at 09:00"), turned into the staging tables the metric functions
read. Every table is validated against its staging model, so the tests feed the metrics exactly
the contract the parser produces."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from jira_insights_pipeline.schemas import STAGING_SCHEMAS

CATEGORIES = {
    "To Do": "new",
    "Backlog": "new",
    "In Progress": "indeterminate",
    "In Review": "indeterminate",
    "Blocked": "indeterminate",
    "Done": "done",
    "Closed": "done",
}


def t(text: str) -> pd.Timestamp:
    """An instant written as "2026-03-02 09:00" (UTC)."""
    return pd.Timestamp(text, tz="UTC")


@dataclass
class _Issue:
    key: str
    issue_type: str
    created: pd.Timestamp
    board_id: int | None
    labels: list[str]
    environment: str | None
    is_subtask: bool
    updated: pd.Timestamp | None
    statuses: list[tuple[pd.Timestamp, str]] = field(default_factory=list)
    points: list[tuple[pd.Timestamp, float | None]] = field(default_factory=list)
    flags: list[tuple[pd.Timestamp, str | None]] = field(default_factory=list)
    sprints: list[tuple[int, pd.Timestamp, pd.Timestamp | None]] = field(default_factory=list)
    flagged_now: bool | None = None


class Site:
    """Issues, sprints and links of one made-up site, ready to become staging tables."""

    def __init__(self) -> None:
        self.issues: dict[str, _Issue] = {}
        self.sprint_rows: list[dict] = []
        self.link_rows: list[dict] = []
        self.boards = [{"board_id": 1, "name": "Team board"}]

    def issue(
        self,
        key: str,
        created: str,
        *,
        issue_type: str = "Story",
        board_id: int | None = 1,
        labels: list[str] | None = None,
        environment: str | None = None,
        is_subtask: bool = False,
        updated: str | None = None,
        status: str = "To Do",
    ) -> Site:
        instant = t(created)
        self.issues[key] = _Issue(
            key=key,
            issue_type=issue_type,
            created=instant,
            board_id=board_id,
            labels=labels or [],
            environment=environment,
            is_subtask=is_subtask,
            updated=t(updated) if updated else None,
            statuses=[(instant, status)],
        )
        return self

    def move(self, key: str, at: str, status: str) -> Site:
        self.issues[key].statuses.append((t(at), status))
        return self

    def estimate(self, key: str, at: str, points: float | None) -> Site:
        self.issues[key].points.append((t(at), points))
        return self

    def flag(self, key: str, at: str, value: str | None = "Impediment") -> Site:
        """Sets the Flagged field ("Impediment"), or clears it with value "" or None."""
        self.issues[key].flags.append((t(at), value))
        return self

    def flagged_now(self, key: str, flagged: bool) -> Site:
        """Overrides the current Flagged value the snapshot shows (default: the history's)."""
        self.issues[key].flagged_now = flagged
        return self

    def in_sprint(self, key: str, sprint_id: int, entered: str, left: str | None = None) -> Site:
        self.issues[key].sprints.append((sprint_id, t(entered), t(left) if left else None))
        return self

    def sprint(
        self,
        sprint_id: int,
        name: str,
        state: str,
        start: str | None,
        end: str | None,
        complete: str | None = None,
        board_id: int = 1,
    ) -> Site:
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

    def link(self, key: str, other: str, link_type: str = "Relates") -> Site:
        """A link recorded from both sides, as Jira returns it when both issues are exported."""
        for issue, linked, direction in ((key, other, "outward"), (other, key, "inward")):
            linked_type = self.issues[linked].issue_type if linked in self.issues else "Story"
            self.link_rows.append(
                {
                    "issue_id": _issue_id(issue),
                    "issue_key": issue,
                    "link_id": f"{key}-{other}",
                    "link_type": link_type,
                    "direction": direction,
                    "relation": "relates to",
                    "linked_issue_id": _issue_id(linked),
                    "linked_issue_key": linked,
                    "linked_issue_type": linked_type,
                }
            )
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
            "jira_boards": pd.DataFrame(
                [
                    {**board, "board_type": "scrum", "project_key": "A", "estimation_field": None}
                    for board in self.boards
                ]
            ),
            "jira_issues": self._issues_table(),
            "jira_changelog": self._changelog_table(),
            "jira_sprints": pd.DataFrame(
                self.sprint_rows,
                columns=[
                    "sprint_id",
                    "board_id",
                    "name",
                    "state",
                    "start_date",
                    "end_date",
                    "complete_date",
                    "goal",
                ],
            ),
            "jira_sprint_membership": self._membership_table(),
            "jira_status_intervals": self._status_table(),
            "jira_estimates": self._estimates_table(),
            "jira_issue_links": pd.DataFrame(
                self.link_rows,
                columns=[
                    "issue_id",
                    "issue_key",
                    "link_id",
                    "link_type",
                    "direction",
                    "relation",
                    "linked_issue_id",
                    "linked_issue_key",
                    "linked_issue_type",
                ],
            ),
        }
        return {name: STAGING_SCHEMAS[name].validate(frame) for name, frame in frames.items()}

    def _issues_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            status = issue.statuses[-1][1]
            points = issue.points[-1][1] if issue.points else None
            history_flag = bool(issue.flags and issue.flags[-1][1])
            last_event = max(
                [issue.created]
                + [at for at, _ in issue.statuses + issue.points + issue.flags]
                + [at for _, at, _ in issue.sprints]
            )
            rows.append(
                {
                    "issue_id": _issue_id(issue.key),
                    "issue_key": issue.key,
                    "project_key": issue.key.split("-")[0],
                    "board_id": issue.board_id,
                    "issue_type": issue.issue_type,
                    "is_subtask": issue.is_subtask,
                    "summary": f"Summary of {issue.key}",
                    "status": status,
                    "status_id": None,
                    "status_category": CATEGORIES[status],
                    "created": issue.created,
                    "updated": issue.updated or last_event,
                    "resolved": pd.NaT,
                    "assignee": None,
                    "labels": issue.labels,
                    "components": [],
                    "environment": issue.environment,
                    "story_points": points,
                    "parent_key": None,
                    "epic_key": None,
                    "flagged": history_flag if issue.flagged_now is None else issue.flagged_now,
                    "acceptance_criteria_length": 0,
                }
            )
        frame = pd.DataFrame(rows)
        frame["board_id"] = frame["board_id"].astype("Int64")
        return frame

    def _changelog_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            events = [
                (at, "status", "status", old, new)
                for (_, old), (at, new) in zip(issue.statuses, issue.statuses[1:], strict=False)
            ]
            previous_flag: str | None = None
            for at, value in issue.flags:
                events.append((at, "Flagged", "flagged", previous_flag, value))
                previous_flag = value
            for at, change_field, role, old, new in events:
                rows.append(
                    {
                        "issue_id": _issue_id(issue.key),
                        "issue_key": issue.key,
                        "history_id": str(len(rows) + 1),
                        "created": at,
                        "author": None,
                        "item_index": 0,
                        "field": change_field,
                        "field_id": None,
                        "field_type": "jira",
                        "field_role": role,
                        "from_value": None,
                        "from_string": old,
                        "to_value": None,
                        "to_string": new,
                    }
                )
        columns = list(STAGING_SCHEMAS["jira_changelog"].to_schema().columns)
        frame = pd.DataFrame(rows, columns=columns)
        frame["created"] = pd.to_datetime(frame["created"], utc=True)
        return frame.sort_values(["created", "issue_key"], kind="stable").reset_index(drop=True)

    def _status_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            ends = [at for at, _ in issue.statuses[1:]] + [pd.NaT]
            for (at, status), end in zip(issue.statuses, ends, strict=True):
                rows.append(
                    {
                        "issue_id": _issue_id(issue.key),
                        "issue_key": issue.key,
                        "status": status,
                        "status_id": None,
                        "status_category": CATEGORIES[status],
                        "entered_at": at,
                        "left_at": end,
                    }
                )
        return pd.DataFrame(rows)

    def _estimates_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            ends = [at for at, _ in issue.points[1:]] + [pd.NaT] * bool(issue.points)
            for (at, points), end in zip(issue.points, ends, strict=True):
                rows.append(
                    {
                        "issue_id": _issue_id(issue.key),
                        "issue_key": issue.key,
                        "story_points": points,
                        "valid_from": at,
                        "valid_to": end,
                    }
                )
        columns = ["issue_id", "issue_key", "story_points", "valid_from", "valid_to"]
        frame = pd.DataFrame(rows, columns=columns)
        for column in ("valid_from", "valid_to"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def _membership_table(self) -> pd.DataFrame:
        rows = [
            {
                "issue_id": _issue_id(issue.key),
                "issue_key": issue.key,
                "sprint_id": sprint_id,
                "entered_at": entered,
                "left_at": left if left is not None else pd.NaT,
                "inferred": False,
            }
            for issue in self.issues.values()
            for sprint_id, entered, left in issue.sprints
        ]
        columns = ["issue_id", "issue_key", "sprint_id", "entered_at", "left_at", "inferred"]
        frame = pd.DataFrame(rows, columns=columns)
        for column in ("entered_at", "left_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame


def trend_site() -> Site:
    """Five weekly closed sprints P1..P5 of board 1 with finished issues whose cycle times are
    chosen by hand (P1: 1, 2, 3 days; P2: 2, 4; P3: 3; P4: 3.5, 2.5, 10; P5: 3), each finished a
    day into its sprint; and a sub-task of 100 days finished in P4."""
    site = Site()
    starts = ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02"]
    ends = [*starts[1:], "2026-02-09"]
    for number, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        site.sprint(number, f"P{number}", "closed", start, end, end)
    cycle_days = {1: [1, 2, 3], 2: [2, 4], 3: [3], 4: [3.5, 2.5, 10], 5: [3.0]}
    for sprint, days in cycle_days.items():
        for n, day in enumerate(days):
            key = f"T-{sprint}{n}"
            done = t(starts[sprint - 1]) + pd.Timedelta(days=1, hours=n)
            started = done - pd.Timedelta(days=day)
            site.issue(key, "2025-12-01").move(key, str(started), "In Progress")
            site.move(key, str(done), "Done")
    # A sub-task finished in P4 after 100 days: left out of the trend.
    site.issue("T-99", "2025-09-01", issue_type="Sub-task", is_subtask=True)
    site.move("T-99", "2025-10-27 00:00", "In Progress").move("T-99", "2026-02-04 00:00", "Done")
    return site


def _issue_id(key: str) -> str:
    project, number = key.split("-")
    return f"{sum(ord(c) for c in project)}{int(number):05d}"
