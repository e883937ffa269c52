"""A small hand-made Jira site for the issue metric tests: issues and their histories written as
events ("moved to In Progress at 09:00"), turned into the staging tables the metric functions
read. Every table is validated against its staging model, so the tests feed the metrics exactly
the contract the parser produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from staging_builders import StagedIssue, StagingSite, change_row, changelog_frame, t


@dataclass
class _Issue(StagedIssue):
    board_id: int | None = 1
    labels: list[str] = field(default_factory=list)
    environment: str | None = None
    updated: pd.Timestamp | None = None
    flags: list[tuple[pd.Timestamp, str | None]] = field(default_factory=list)
    flagged_now: bool | None = None


class Site(StagingSite[_Issue]):
    """Issues, sprints and links of one made-up site, ready to become staging tables."""

    def __init__(self) -> None:
        super().__init__()
        self.boards = [{"board_id": 1, "name": "Team board"}]

    def issue_id(self, key: str) -> str:
        project, number = key.split("-")
        return f"{sum(ord(c) for c in project)}{int(number):05d}"

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

    def flag(self, key: str, at: str, value: str | None = "Impediment") -> Site:
        """Sets the Flagged field ("Impediment"), or clears it with value "" or None."""
        self.issues[key].flags.append((t(at), value))
        return self

    def flagged_now(self, key: str, flagged: bool) -> Site:
        """Overrides the current Flagged value the snapshot shows (default: the history's)."""
        self.issues[key].flagged_now = flagged
        return self

    def link(self, key: str, other: str, link_type: str = "Relates") -> Site:
        """A link recorded from both sides, as Jira returns it when both issues are exported."""
        for issue, linked, direction in ((key, other, "outward"), (other, key, "inward")):
            linked_type = self.issues[linked].issue_type if linked in self.issues else "Story"
            self.link_rows.append(
                {
                    "issue_id": self.issue_id(issue),
                    "issue_key": issue,
                    "link_id": f"{key}-{other}",
                    "link_type": link_type,
                    "direction": direction,
                    "relation": "relates to",
                    "linked_issue_id": self.issue_id(linked),
                    "linked_issue_key": linked,
                    "linked_issue_type": linked_type,
                }
            )
        return self

    def _boards_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {**board, "board_type": "scrum", "project_key": "A", "estimation_field": None}
                for board in self.boards
            ]
        )

    def _issue_fields(self, issue: _Issue) -> dict[str, Any]:
        history_flag = bool(issue.flags and issue.flags[-1][1])
        last_event = max(
            [issue.created]
            + [at for at, _ in issue.statuses + issue.points + issue.flags]
            + [at for _, at, _ in issue.sprints]
        )
        return {
            "board_id": issue.board_id,
            "updated": issue.updated or last_event,
            "labels": issue.labels,
            "environment": issue.environment,
            "flagged": history_flag if issue.flagged_now is None else issue.flagged_now,
        }

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
                    change_row(
                        self.issue_id(issue.key),
                        issue.key,
                        at,
                        field_name=change_field,
                        field_id=None,
                        field_type="jira",
                        role=role,
                        before=old,
                        after=new,
                        history_id=str(len(rows) + 1),
                    )
                )
        frame = changelog_frame(rows)
        return frame.sort_values(["created", "issue_key"], kind="stable").reset_index(drop=True)


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
