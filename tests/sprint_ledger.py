"""A snapshot's staging tables and its sprint ledger, built as the assets build them, for the
diagnosis tests that start from a real or sample snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments
from jira_insights_pipeline.assets.sprints.scope_changes import sprint_scope_changes
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.snapshot import load_snapshot


@dataclass(frozen=True)
class Ledger:
    tables: dict[str, pd.DataFrame]  # the staging tables
    as_of: pd.Timestamp
    scope: pd.DataFrame  # sprint_scope_changes
    commitments: pd.DataFrame  # sprint_commitments


@cache
def ledger_of(snapshot: Path) -> Ledger:
    """`snapshot` parsed, and its sprint ledger with the default thresholds."""
    tables = build_staging_tables(load_snapshot(snapshot), source="test").tables()
    as_of = tables["jira_snapshot"]["exported_at"].iloc[0]
    scope = sprint_scope_changes(
        tables["jira_sprints"],
        tables["jira_issues"],
        tables["jira_sprint_membership"],
        tables["jira_estimates"],
        tables["jira_status_intervals"],
        tables["jira_changelog"],
        as_of,
        Thresholds().sprints,
    )
    return Ledger(tables, as_of, scope, sprint_commitments(scope, tables["jira_sprints"], as_of))
