"""Team health: ticket hygiene of the open work.

Tables `work_item_health` (one row per open issue and its problems: stale, no estimate, blocked,
in progress too long) and `hygiene_scores` (one row per board), which decides the rule
`hygiene_alert`: a hygiene score under `hygiene_score_min` (70). Judged on every board.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_insights_pipeline.assets.team_health.thresholds import TeamHealthThresholds as Thresholds

if TYPE_CHECKING:
    from jira_insights_pipeline.use_case import UseCase

NAME = "team_health"


def use_case() -> UseCase:
    """This use case with its assets, rules, facts and wording (imported only when asked)."""
    from jira_insights_pipeline.assets.team_health.definition import USE_CASE

    return USE_CASE


__all__ = ["NAME", "Thresholds", "use_case"]
