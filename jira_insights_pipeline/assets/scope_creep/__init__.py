"""Scope creep: committed stories that grow after the sprint starts.

Table `sprint_scope_creep` (one row per started sprint, from the sprint ledger) decides the rule
`scope_creep_alert`: more than `grown_story_share_alert` (20%) of the estimated committed
stories grew by more than the ledger's `growth_pct` (30%). Judged on each board's running and
latest closed sprint; its insights name the stories that grew and the work added after the
start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds as Thresholds

if TYPE_CHECKING:
    from jira_insights_pipeline.use_case import UseCase

NAME = "scope_creep"


def use_case() -> UseCase:
    """This use case with its assets, rules, facts and wording (imported only when asked)."""
    from jira_insights_pipeline.assets.scope_creep.definition import USE_CASE

    return USE_CASE


__all__ = ["NAME", "Thresholds", "use_case"]
