"""Missed sprint targets: closed sprints that completed too little of what they committed.

Table `sprint_targets` (one row per closed sprint, from the sprint ledger) decides the rule
`missed_target`: completed points under `completion_rate_min` (80%) of the committed points.
Judged on each board's latest closed sprint; its insights also say how often recent sprints left
work unfinished, and why: tables `spillover_reasons` (one row per issue unfinished at a closed
sprint's close, with every reason Jira's history shows) and `spillover_patterns` (per board, the
share of each reason over its recent sprints, the dominant one and the chronic carry-overs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_insights_pipeline.assets.missed_target.thresholds import (
    MissedTargetThresholds as Thresholds,
)

if TYPE_CHECKING:
    from jira_insights_pipeline.use_case import UseCase

NAME = "missed_target"


def use_case() -> UseCase:
    """This use case with its assets, rules, facts and wording (imported only when asked)."""
    from jira_insights_pipeline.assets.missed_target.definition import USE_CASE

    return USE_CASE


__all__ = ["NAME", "Thresholds", "use_case"]
