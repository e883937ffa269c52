"""Flow: how long work takes from start to done.

Tables `cycle_times` (one row per finished issue) and `cycle_time_trends` (one row per sprint),
which decides the rule `cycle_time_rise`: the sprint's median cycle time more than
`cycle_time_rise` (20%) above the median of the previous `cycle_time_window` (3) sprints.
Judged on each board's latest closed sprint.

The diagnosis says why (`diagnosis.py`): `status_time_changes` (one row per sprint and status:
the median days finished issues spent in the status, against the same window) names the status
whose time grew most, which the insight leads with; `aged_work` (one row per started, unfinished
issue) holds each against the board's 85th percentile cycle time over its last
`age_history_issues` (30) finished issues, or `age_fallback_days` (10) with fewer than 10.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds as Thresholds

if TYPE_CHECKING:
    from jira_insights_pipeline.use_case import UseCase

NAME = "flow"


def use_case() -> UseCase:
    """This use case with its assets, rules, facts and wording (imported only when asked)."""
    from jira_insights_pipeline.assets.flow.definition import USE_CASE

    return USE_CASE


__all__ = ["NAME", "Thresholds", "use_case"]
