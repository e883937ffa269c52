"""A snapshot's staging tables and its sprint ledger, built as the assets build them, for the
diagnosis tests that start from a real or sample snapshot; and the diagnosis tables one use
case's insight cites from another's (`cited_diagnoses`), validated as the assets validate them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from jira_insights_pipeline.assets.missed_target.diagnosis import (
    spillover_pattern,
    spillover_reasons,
)
from jira_insights_pipeline.assets.missed_target.schemas import (
    SpilloverPatternsSchema,
    SpilloverReasonsSchema,
)
from jira_insights_pipeline.assets.scope_creep.diagnosis import growth_causes, sprint_scope_causes
from jira_insights_pipeline.assets.scope_creep.schemas import (
    ScopeGrowthCausesSchema,
    SprintScopeCausesSchema,
)
from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments
from jira_insights_pipeline.assets.sprints.scope_changes import sprint_scope_changes
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.snapshot import load_snapshot
from jira_insights_pipeline.validation import validate_table


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


@cache
def cited_diagnoses(snapshot: Path) -> dict[str, pd.DataFrame]:
    """The missed-target and scope-creep diagnosis tables of `snapshot`, default thresholds."""
    ledger = ledger_of(snapshot)
    tables, thresholds = ledger.tables, Thresholds()
    reasons = spillover_reasons(
        ledger.scope,
        tables["jira_issues"],
        tables["jira_status_intervals"],
        tables["jira_changelog"],
        ledger.as_of,
        thresholds.missed_target,
    )
    patterns = spillover_pattern(
        reasons, ledger.commitments, ledger.as_of, thresholds.missed_target
    )
    growth = growth_causes(
        ledger.scope,
        tables["jira_estimates"],
        tables["jira_changelog"],
        tables["jira_issues"],
        ledger.as_of,
        thresholds.scope_creep,
    )
    causes = sprint_scope_causes(growth, ledger.scope, ledger.commitments)
    validate_table(ScopeGrowthCausesSchema, growth, "scope_growth_causes")
    return {
        "spillover_reasons": validate_table(SpilloverReasonsSchema, reasons, "spillover_reasons"),
        "spillover_patterns": validate_table(
            SpilloverPatternsSchema, patterns, "spillover_patterns"
        ),
        "sprint_scope_causes": validate_table(
            SprintScopeCausesSchema, causes, "sprint_scope_causes"
        ),
    }
