"""Hand-made sprint histories for the sprint metric tests: sprints, and issues whose estimates,
statuses, sprint moves and descriptions are written as events ("re-estimated to 8 on Tuesday"),
turned into the staging tables the metric functions read; and the helpers that compute the
sprint tables from staging tables, directly or in a real Dagster run.

Every table is validated against its staging model, so the tests feed the metrics exactly the
contract the parser produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from jira_insights_pipeline.assets import sprint_metrics
from jira_insights_pipeline.metrics.commitments import sprint_commitments
from jira_insights_pipeline.metrics.scope import sprint_scope_changes
from jira_insights_pipeline.metrics.thresholds import Thresholds
from jira_insights_pipeline.metrics.velocity import sprint_velocity
from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text
from jira_insights_pipeline.resources.io_managers import WarehouseIOManager, warehouse_path
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.schemas import SPRINT_METRIC_SCHEMAS, STAGING_SCHEMAS

CATEGORIES = {
    "To Do": "new",
    "Open": "new",
    "In Progress": "indeterminate",
    "In Testing": "indeterminate",
    "Done": "done",
    "Closed": "done",
}

DEFAULTS = Thresholds()


def t(text: str) -> pd.Timestamp:
    """An instant written as "2026-03-02 09:00" (UTC)."""
    return pd.Timestamp(text, tz="UTC")


@dataclass
class _Issue:
    key: str
    created: pd.Timestamp
    issue_type: str
    is_subtask: bool
    statuses: list[tuple[pd.Timestamp, str]]
    points: list[tuple[pd.Timestamp, float | None]]
    sprints: list[tuple[int, pd.Timestamp, pd.Timestamp | None]] = field(default_factory=list)
    description: str | None = None
    description_changes: list[tuple[pd.Timestamp, str | None]] = field(default_factory=list)
    criteria_field: str | None = None
    criteria_changes: list[tuple[pd.Timestamp, str | None]] = field(default_factory=list)


class SprintSite:
    """Sprints and issues of one made-up site (board 1 unless told), ready to become staging
    tables. Methods return the site, so a history reads as one chain of events."""

    def __init__(self) -> None:
        self.issues: dict[str, _Issue] = {}
        self.sprint_rows: list[dict] = []

    def sprint(
        self,
        sprint_id: int,
        name: str,
        state: str,
        start: str | None,
        end: str | None,
        complete: str | None = None,
        board_id: int | None = 1,
    ) -> SprintSite:
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

    def issue(
        self,
        key: str,
        created: str,
        *,
        points: float | None = None,
        status: str = "To Do",
        issue_type: str = "Story",
        is_subtask: bool = False,
        description: str | None = None,
        criteria_field: str | None = None,
    ) -> SprintSite:
        """An issue as created: its first estimate, status, description and criteria field."""
        instant = t(created)
        self.issues[key] = _Issue(
            key=key,
            created=instant,
            issue_type=issue_type,
            is_subtask=is_subtask,
            statuses=[(instant, status)],
            points=[(instant, points)],
            description=description,
            criteria_field=criteria_field,
        )
        return self

    def estimate(self, key: str, at: str, points: float | None) -> SprintSite:
        self.issues[key].points.append((t(at), points))
        return self

    def move(self, key: str, at: str, status: str) -> SprintSite:
        self.issues[key].statuses.append((t(at), status))
        return self

    def in_sprint(
        self, key: str, sprint_id: int, entered: str, left: str | None = None
    ) -> SprintSite:
        self.issues[key].sprints.append((sprint_id, t(entered), t(left) if left else None))
        return self

    def describe(self, key: str, at: str, text: str | None) -> SprintSite:
        """The description edited to `text` (the changelog keeps the old and new text)."""
        self.issues[key].description_changes.append((t(at), text))
        return self

    def set_criteria_field(self, key: str, at: str, text: str | None) -> SprintSite:
        """The "Acceptance Criteria" custom field edited to `text`."""
        self.issues[key].criteria_changes.append((t(at), text))
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
                {
                    "board_id": sorted({int(r["board_id"] or 1) for r in self.sprint_rows} | {1}),
                }
            ).assign(name="Team board", board_type="scrum", project_key="A", estimation_field=None),
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
            ).astype({"board_id": "Int64"}),
            "jira_sprint_membership": self._membership_table(),
            "jira_status_intervals": self._intervals(
                lambda issue: issue.statuses, "status", "entered_at", "left_at"
            ),
            "jira_estimates": self._intervals(
                lambda issue: issue.points, "story_points", "valid_from", "valid_to"
            ),
            "jira_issue_links": pd.DataFrame(
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
                ]
            ),
        }
        status_frame = frames["jira_status_intervals"]
        status_frame["status_id"] = status_frame["status"]
        status_frame["status_category"] = status_frame["status"].map(CATEGORIES)
        frames["jira_estimates"]["story_points"] = frames["jira_estimates"]["story_points"].astype(
            float
        )
        return {name: STAGING_SCHEMAS[name].validate(frame) for name, frame in frames.items()}

    def _issues_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            status = issue.statuses[-1][1]
            description = (
                issue.description_changes[-1][1] if issue.description_changes else issue.description
            )
            criteria = (
                issue.criteria_changes[-1][1] if issue.criteria_changes else issue.criteria_field
            )
            rows.append(
                {
                    "issue_id": issue_id(issue.key),
                    "issue_key": issue.key,
                    "project_key": issue.key.split("-")[0],
                    "board_id": 1,
                    "issue_type": issue.issue_type,
                    "is_subtask": issue.is_subtask,
                    "summary": f"Summary of {issue.key}",
                    "status": status,
                    "status_id": status,
                    "status_category": CATEGORIES[status],
                    "created": issue.created,
                    "updated": max(
                        [issue.created]
                        + [
                            at
                            for at, _ in issue.statuses + issue.points + issue.description_changes
                        ]
                    ),
                    "resolved": pd.NaT,
                    "assignee": None,
                    "labels": [],
                    "components": [],
                    "environment": None,
                    "story_points": issue.points[-1][1],
                    "parent_key": None,
                    "epic_key": None,
                    "flagged": False,
                    "acceptance_criteria_length": len(
                        acceptance_criteria_text(description, criteria)
                    ),
                }
            )
        return pd.DataFrame(rows).astype({"board_id": "Int64", "story_points": float})

    def _changelog_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            for role, initial, changes in (
                ("description", issue.description, issue.description_changes),
                ("acceptance_criteria", issue.criteria_field, issue.criteria_changes),
            ):
                before = initial
                for at, text in changes:
                    rows.append(_change(issue.key, at, role, before, text))
                    before = text
            for (_, before), (at, after) in zip(issue.points, issue.points[1:], strict=False):
                rows.append(
                    _change(
                        issue.key,
                        at,
                        "story_points",
                        None if before is None else str(before),
                        None if after is None else str(after),
                    )
                )
        columns = [
            "issue_id",
            "issue_key",
            "history_id",
            "created",
            "author",
            "item_index",
            "field",
            "field_id",
            "field_type",
            "field_role",
            "from_value",
            "from_string",
            "to_value",
            "to_string",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        if frame.empty:
            frame["created"] = pd.Series(dtype="datetime64[ns, UTC]")
            frame["item_index"] = pd.Series(dtype="int64")
        frame = frame.sort_values("created", kind="stable").reset_index(drop=True)
        frame["history_id"] = [str(10_000 + n) for n in range(len(frame))]
        return frame

    def _membership_table(self) -> pd.DataFrame:
        rows = [
            {
                "issue_id": issue_id(issue.key),
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
        return pd.DataFrame(rows, columns=columns)

    def _intervals(self, events, value: str, start: str, end: str) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            history = sorted(events(issue), key=lambda event: event[0])
            for number, (at, held) in enumerate(history):
                following = history[number + 1][0] if number + 1 < len(history) else pd.NaT
                rows.append(
                    {
                        "issue_id": issue_id(issue.key),
                        "issue_key": issue.key,
                        value: held,
                        start: at,
                        end: following,
                    }
                )
        return pd.DataFrame(rows, columns=["issue_id", "issue_key", value, start, end])


def issue_id(key: str) -> str:
    return str(10_000 + int(key.split("-")[1]))


def _change(
    key: str, at: pd.Timestamp, role: str, before: str | None, after: str | None
) -> dict[str, object]:
    names = {
        "description": ("description", "description"),
        "acceptance_criteria": ("Acceptance Criteria", "customfield_10050"),
        "story_points": ("Story Points", "customfield_10036"),
    }
    name, field_id = names[role]
    return {
        "issue_id": issue_id(key),
        "issue_key": key,
        "history_id": "",
        "created": at,
        "author": "someone",
        "item_index": 0,
        "field": name,
        "field_id": field_id,
        "field_type": "jira" if role == "description" else "custom",
        "field_role": role,
        "from_value": None,
        "from_string": before,
        "to_value": None,
        "to_string": after,
    }


@dataclass(frozen=True)
class SprintTables:
    scope_changes: pd.DataFrame
    commitments: pd.DataFrame
    velocity: pd.DataFrame


def sprint_tables(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, thresholds: Thresholds = DEFAULTS
) -> SprintTables:
    """The three sprint tables from staging tables, as the assets chain them, each validated by
    its Pandera model."""
    scope = sprint_scope_changes(
        tables["jira_sprints"],
        tables["jira_issues"],
        tables["jira_sprint_membership"],
        tables["jira_estimates"],
        tables["jira_status_intervals"],
        tables["jira_changelog"],
        as_of,
        thresholds,
    )
    commitments = sprint_commitments(scope, tables["jira_sprints"], as_of, thresholds)
    velocity = sprint_velocity(commitments, tables["jira_sprints"], as_of, thresholds)
    for name, frame in (
        ("sprint_scope_changes", scope),
        ("sprint_commitments", commitments),
        ("sprint_velocity", velocity),
    ):
        SPRINT_METRIC_SCHEMAS[name].validate(frame)
    return SprintTables(scope, commitments, velocity)


# The hand-made history of test_metrics_sprint_handmade.py, where every figure it gives is
# worked out by hand; the velocity and asset tests reuse it.
AS_OF = t("2026-04-01 00:00")

CRITERIA_BEFORE = "Intro\nh3. Acceptance Criteria\n* Log in works\n* Log out works"
CRITERIA_AFTER = CRITERIA_BEFORE + "\n* Password reset works"


def build_site() -> SprintSite:
    """Board 1: Sprints 1 and 2 closed, Sprint 3 active at AS_OF, Sprint 4 future."""
    site = (
        SprintSite()
        .sprint(1, "Sprint 1", "closed", "2026-03-02 09:00", "2026-03-13 17:00", "2026-03-13 16:00")
        .sprint(2, "Sprint 2", "closed", "2026-03-16 09:00", "2026-03-27 17:00", "2026-03-27 16:00")
        .sprint(3, "Sprint 3", "active", "2026-03-30 09:00", "2026-04-10 17:00")
        .sprint(4, "Sprint 4", "future", None, None)
    )
    # Sprint 1.
    site.issue("A-1", "2026-02-20 10:00", points=3).in_sprint("A-1", 1, "2026-02-27 10:00")
    site.move("A-1", "2026-03-10 12:00", "Done")
    site.issue("A-2", "2026-02-20 10:00", points=2).in_sprint("A-2", 1, "2026-02-27 10:00")
    site.estimate("A-2", "2026-03-04 10:00", 5).estimate("A-2", "2026-03-09 10:00", 8)
    site.move("A-2", "2026-03-12 10:00", "Done")
    site.issue("A-3", "2026-03-05 10:00", points=5).in_sprint(
        "A-3", 1, "2026-03-05 11:00"
    ).in_sprint("A-3", 2, "2026-03-13 16:00")
    site.move("A-3", "2026-03-20 10:00", "Done")
    site.issue("A-4", "2026-02-20 10:00", points=5)
    site.in_sprint("A-4", 1, "2026-02-27 10:00", "2026-03-04 10:00")
    site.in_sprint("A-4", 1, "2026-03-06 10:00").move("A-4", "2026-03-11 10:00", "Done")
    site.issue("A-5", "2026-02-20 10:00", points=3)
    site.in_sprint("A-5", 1, "2026-02-27 10:00", "2026-03-09 10:00")
    site.estimate("A-5", "2026-03-06 10:00", 5)
    site.issue("A-6", "2026-02-20 10:00", points=3).in_sprint("A-6", 1, "2026-02-27 10:00")
    site.move("A-6", "2026-03-05 10:00", "Done").move("A-6", "2026-03-06 10:00", "In Progress")
    site.move("A-6", "2026-03-12 10:00", "Done")
    site.issue("A-7", "2026-02-10 10:00", points=2).move("A-7", "2026-02-20 10:00", "Done")
    site.in_sprint("A-7", 1, "2026-03-03 10:00")
    site.issue("A-8", "2026-02-20 10:00", points=2, issue_type="Sub-task", is_subtask=True)
    site.in_sprint("A-8", 1, "2026-02-27 10:00")
    site.issue("A-9", "2026-02-20 10:00", points=None).in_sprint("A-9", 1, "2026-02-27 10:00")
    site.estimate("A-9", "2026-03-05 10:00", 3)
    # Sprint 2: acceptance criteria grow in the description, in the custom field,
    # and in a description that the unchanged custom field overrides.
    site.issue("A-11", "2026-03-10 10:00", points=8, description=CRITERIA_BEFORE)
    site.in_sprint("A-11", 2, "2026-03-12 10:00").describe(
        "A-11", "2026-03-20 10:00", CRITERIA_AFTER
    )
    site.describe("A-11", "2026-03-30 10:00", "Rewritten after the sprint, no criteria")
    site.move("A-11", "2026-03-25 10:00", "Done")
    site.issue("A-12", "2026-03-10 10:00", points=3, criteria_field="Given X then Y")
    site.in_sprint("A-12", 2, "2026-03-12 10:00")
    site.set_criteria_field("A-12", "2026-03-18 10:00", "Given X then Y\nGiven Z then W")
    site.issue("A-13", "2026-03-10 10:00", points=3, description="x", criteria_field="Must do it")
    site.in_sprint("A-13", 2, "2026-03-12 10:00")
    site.describe("A-13", "2026-03-20 10:00", "h3. Acceptance Criteria\n* something")
    # Sprint 3, still active at "as of".
    site.issue("A-14", "2026-03-20 10:00", points=3).in_sprint("A-14", 3, "2026-03-29 10:00")
    site.move("A-14", "2026-03-31 10:00", "In Progress")
    site.issue("A-15", "2026-03-20 10:00", points=2).in_sprint("A-15", 3, "2026-03-31 10:00")
    return site


# Dagster runs of the sprint assets on staging stand-ins, for the asset and sample-site tests.
SPRINT_ASSETS = [
    sprint_metrics.sprint_scope_changes,
    sprint_metrics.sprint_commitments,
    sprint_metrics.sprint_velocity,
]
SPRINT_CHECKS = [
    sprint_metrics.sprint_scope_creep_within_threshold,
    sprint_metrics.sprint_velocity_holds,
]


def staging_stand_ins(tables: dict[str, pd.DataFrame]) -> list[dg.AssetsDefinition]:
    """One asset per staging table, stored in schema `jira` as the real staging step does."""

    def stand_in(name: str, frame: pd.DataFrame) -> dg.AssetsDefinition:
        @dg.asset(name=name, metadata={"schema": "jira"})
        def _table() -> pd.DataFrame:
            return frame

        return _table

    return [stand_in(name, frame) for name, frame in tables.items()]


def run(
    tables: dict[str, pd.DataFrame], data_dir: Path, as_of: str | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*staging_stand_ins(tables), *SPRINT_ASSETS, *SPRINT_CHECKS],
        resources={
            "io_manager": WarehouseIOManager(data_dir=str(data_dir)),
            "pipeline_settings": PipelineSettings(data_dir=str(data_dir), as_of=as_of),
        },
    )


def stored(data_dir: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as connection:
        return connection.execute(f"select * from metrics.{table} order by all").df()


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}
