"""Hand-made sprint histories for the sprint metric tests: sprints, and issues whose estimates,
statuses, sprint moves and descriptions are written as events ("re-estimated to 8 on Tuesday"),
turned into the staging tables the metric functions read; and the helpers that compute the
sprint tables from staging tables, directly or in a real Dagster run: the sprint ledger
(`assets/sprints`: sprint_scope_changes, sprint_commitments) and the tables of the sprint use
cases read from it (`assets/scope_creep`: sprint_scope_creep, `assets/missed_target`:
sprint_targets, `assets/velocity`: sprint_velocity), with their rules' threshold checks.

Every table is validated against its staging model, so the tests feed the metrics exactly the
contract the parser produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
from publishing import with_publication
from staging_builders import (
    StagedIssue,
    StagingSite,
    change_row,
    changelog_frame,
    staging_stand_ins,
    t,
)

from jira_insights_pipeline.assets.checks import rule_check
from jira_insights_pipeline.assets.missed_target.metrics import sprint_targets
from jira_insights_pipeline.assets.missed_target.schemas import SprintTargetsSchema
from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep
from jira_insights_pipeline.assets.scope_creep.schemas import SprintScopeCreepSchema
from jira_insights_pipeline.assets.sprints import assets as sprint_ledger
from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments
from jira_insights_pipeline.assets.sprints.schemas import (
    SprintCommitmentsSchema,
    SprintScopeChangesSchema,
)
from jira_insights_pipeline.assets.sprints.scope_changes import sprint_scope_changes
from jira_insights_pipeline.assets.velocity.metrics import sprint_velocity
from jira_insights_pipeline.assets.velocity.schemas import SprintVelocitySchema
from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text
from jira_insights_pipeline.registry import Thresholds, use_case
from jira_insights_pipeline.resources.io_managers import WarehouseIOManager, warehouse_path
from jira_insights_pipeline.resources.settings import PipelineSettings

DEFAULTS = Thresholds()

# The changelog's name and id of each field a sprint history edits.
_CHANGED_FIELDS = {
    "description": ("description", "description"),
    "acceptance_criteria": ("Acceptance Criteria", "customfield_10050"),
    "story_points": ("Story Points", "customfield_10036"),
}


@dataclass
class _Issue(StagedIssue):
    description: str | None = None
    description_changes: list[tuple[pd.Timestamp, str | None]] = field(default_factory=list)
    criteria_field: str | None = None
    criteria_changes: list[tuple[pd.Timestamp, str | None]] = field(default_factory=list)


class SprintSite(StagingSite[_Issue]):
    """Sprints and issues of one made-up site (board 1 unless told), ready to become staging
    tables. Methods return the site, so a history reads as one chain of events."""

    def issue_id(self, key: str) -> str:
        return str(10_000 + int(key.split("-")[1]))

    def status_id(self, status: str) -> str | None:
        return status

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

    def describe(self, key: str, at: str, text: str | None) -> SprintSite:
        """The description edited to `text` (the changelog keeps the old and new text)."""
        self.issues[key].description_changes.append((t(at), text))
        return self

    def set_criteria_field(self, key: str, at: str, text: str | None) -> SprintSite:
        """The "Acceptance Criteria" custom field edited to `text`."""
        self.issues[key].criteria_changes.append((t(at), text))
        return self

    def _boards_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "board_id": sorted({int(r["board_id"] or 1) for r in self.sprint_rows} | {1}),
            }
        ).assign(name="Team board", board_type="scrum", project_key="A", estimation_field=None)

    def _issue_fields(self, issue: _Issue) -> dict[str, Any]:
        description = (
            issue.description_changes[-1][1] if issue.description_changes else issue.description
        )
        criteria = issue.criteria_changes[-1][1] if issue.criteria_changes else issue.criteria_field
        return {
            "updated": max(
                [issue.created]
                + [at for at, _ in issue.statuses + issue.points + issue.description_changes]
            ),
            "acceptance_criteria_length": len(acceptance_criteria_text(description, criteria)),
        }

    def _changelog_table(self) -> pd.DataFrame:
        rows = []
        for issue in self.issues.values():
            for role, initial, changes in (
                ("description", issue.description, issue.description_changes),
                ("acceptance_criteria", issue.criteria_field, issue.criteria_changes),
            ):
                before = initial
                for at, text in changes:
                    rows.append(self._change(issue.key, at, role, before, text))
                    before = text
            for (_, before), (at, after) in zip(issue.points, issue.points[1:], strict=False):
                rows.append(
                    self._change(
                        issue.key,
                        at,
                        "story_points",
                        None if before is None else str(before),
                        None if after is None else str(after),
                    )
                )
        frame = changelog_frame(rows)
        frame = frame.sort_values("created", kind="stable").reset_index(drop=True)
        frame["history_id"] = [str(10_000 + n) for n in range(len(frame))]
        return frame

    def _change(
        self, key: str, at: pd.Timestamp, role: str, before: str | None, after: str | None
    ) -> dict[str, Any]:
        name, field_id = _CHANGED_FIELDS[role]
        return change_row(
            self.issue_id(key),
            key,
            at,
            field_name=name,
            field_id=field_id,
            field_type="jira" if role == "description" else "custom",
            role=role,
            before=before,
            after=after,
            author="someone",
        )


@dataclass(frozen=True)
class SprintTables:
    scope_changes: pd.DataFrame
    commitments: pd.DataFrame
    scope_creep: pd.DataFrame
    targets: pd.DataFrame
    velocity: pd.DataFrame


def sprint_tables(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, thresholds: Thresholds = DEFAULTS
) -> SprintTables:
    """The sprint ledger and the sprint use cases' tables from staging tables, as the assets
    chain them (each function given its own threshold section), each validated by its Pandera
    model."""
    scope = sprint_scope_changes(
        tables["jira_sprints"],
        tables["jira_issues"],
        tables["jira_sprint_membership"],
        tables["jira_estimates"],
        tables["jira_status_intervals"],
        tables["jira_changelog"],
        as_of,
        thresholds.sprints,
    )
    commitments = sprint_commitments(scope, tables["jira_sprints"], as_of)
    scope_creep = sprint_scope_creep(commitments, thresholds.scope_creep)
    targets = sprint_targets(commitments, thresholds.missed_target)
    velocity = sprint_velocity(commitments, tables["jira_sprints"], as_of, thresholds.velocity)
    for model, frame in (
        (SprintScopeChangesSchema, scope),
        (SprintCommitmentsSchema, commitments),
        (SprintScopeCreepSchema, scope_creep),
        (SprintTargetsSchema, targets),
        (SprintVelocitySchema, velocity),
    ):
        model.validate(frame)
    return SprintTables(scope, commitments, scope_creep, targets, velocity)


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


# Dagster runs of the sprint assets on staging stand-ins, for the asset and sample-site tests:
# the sprint ledger, then each sprint use case's assets (from its home) and its rules' checks.
SPRINT_USE_CASES = [use_case(name) for name in ("scope_creep", "missed_target", "velocity")]
SPRINT_ASSETS = [
    sprint_ledger.sprint_scope_changes,
    sprint_ledger.sprint_commitments,
    *(asset for sprint_use_case in SPRINT_USE_CASES for asset in sprint_use_case.assets),
]
SPRINT_CHECKS = [
    rule_check(sprint_use_case, rule)
    for sprint_use_case in SPRINT_USE_CASES
    for rule in sprint_use_case.rules
]


def run(
    tables: dict[str, pd.DataFrame], data_dir: Path, as_of: str | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        with_publication([*staging_stand_ins(tables), *SPRINT_ASSETS, *SPRINT_CHECKS]),
        resources={
            "io_manager": WarehouseIOManager(data_dir=str(data_dir)),
            "pipeline_settings": PipelineSettings(data_dir=str(data_dir), as_of=as_of),
            "thresholds": Thresholds(),
        },
    )


def stored(data_dir: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as connection:
        return connection.execute(f"select * from metrics.{table} order by all").df()


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}
