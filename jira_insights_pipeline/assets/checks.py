"""The threshold checks: one asset check per rule of every use case, built from the registry.

A check reads its rule's flag column on the rows the rule judges now; it never compares a
threshold itself. Checks never block: a team in trouble is exactly when the insights must still
be written. (Pandera validation of each table does block, inside its asset.)
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import markdown_preview
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.rules import Rule
from jira_insights_pipeline.use_case import UseCase

CHECK_SEVERITY = {"warning": dg.AssetCheckSeverity.WARN, "error": dg.AssetCheckSeverity.ERROR}
CROSSED_COLUMNS = ("board_id", "board_name", "sprint_id", "sprint_name")


def crossing_lines(rule: Rule, crossed: pd.DataFrame, thresholds: object, names: dict) -> str:
    """Each crossed row as "<board>, <sprint>: <what the alert says>", one after another."""
    lines = []
    for _, row in crossed.iterrows():
        board_id = row.get("board_id")
        board = "no board" if pd.isna(board_id) else names.get(int(board_id), f"board {board_id}")
        where = board if not rule.per_sprint else f"{board}, {row['sprint_name']}"
        lines.append(f"{where}: {rule.crossing(row, thresholds, board).message}")
    return " ".join(lines)


def rule_check(use_case: UseCase, rule: Rule) -> dg.AssetChecksDefinition:
    """The asset check of `rule` on its table."""

    @dg.asset_check(
        asset=rule.table,
        name=rule.check,
        blocking=False,
        description=rule.description,
    )
    def _check(table: pd.DataFrame, thresholds: Thresholds) -> dg.AssetCheckResult:
        section = use_case.thresholds_of(thresholds)
        judged = rule.judged(table)
        crossed = rule.crossed(table)
        passed = crossed.empty
        names = {}
        if "board_name" in table.columns:
            names = dict(zip(table["board_id"], table["board_name"], strict=True))
        shown = [column for column in (*CROSSED_COLUMNS, rule.flag) if column in crossed.columns]
        return dg.AssetCheckResult(
            passed=passed,
            severity=CHECK_SEVERITY[rule.severity],
            description=rule.passing(section)
            if passed
            else crossing_lines(rule, crossed, section, names),
            metadata={
                "judged_rows": len(judged),
                "crossed_rows": len(crossed),
                "rule_column": rule.flag,
                "thresholds": dg.MetadataValue.json(section.model_dump()),
                "crossed": markdown_preview(crossed[shown]),
            },
        )

    return _check


def threshold_checks() -> list[dg.AssetChecksDefinition]:
    """Every rule's check, use case by use case."""
    return [rule_check(use_case, rule) for use_case in use_cases() for rule in use_case.rules]
