"""Defect leakage: bugs that escape to production instead of being caught in testing.

Tables `defect_leakage` (one row per bug: where it was found, the stories it is linked to) and
`defect_escape_rates` (one row per sprint), which decides the rule `leakage_alert`: the escape
rate production / (production + QA) bugs above `escape_rate_alert` (20%). Judged on each
board's running and latest closed sprint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jira_insights_pipeline.assets.defect_leakage.thresholds import (
    DefectLeakageThresholds as Thresholds,
)

if TYPE_CHECKING:
    from jira_insights_pipeline.use_case import UseCase

NAME = "defect_leakage"


def use_case() -> UseCase:
    """This use case with its assets, rules, facts and wording (imported only when asked)."""
    from jira_insights_pipeline.assets.defect_leakage.definition import USE_CASE

    return USE_CASE


__all__ = ["NAME", "Thresholds", "use_case"]
