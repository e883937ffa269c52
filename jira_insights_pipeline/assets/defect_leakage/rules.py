"""The defect-leakage rule: `leakage_alert` of `defect_escape_rates`."""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.assets.defect_leakage.wording import TITLES
from jira_insights_pipeline.rules import AlertText, Rule


def crossing(row: Any, thresholds: DefectLeakageThresholds, board: str) -> AlertText:
    rate = round(float(row["escape_rate"]), 4)
    classified = int(row["production_bugs"]) + int(row["qa_bugs"])
    return AlertText(
        title=TITLES.alarm.format(sprint=row["sprint_name"], board=board),
        message=f"{row['production_bugs']} of {classified} classified bugs were found in "
        f"production, an escape rate of {rate:.0%} against a "
        f"{thresholds.escape_rate_alert:.0%} limit.",
        figures={
            "production_bugs": int(row["production_bugs"]),
            "qa_bugs": int(row["qa_bugs"]),
            "escape_rate": rate,
            "threshold": thresholds.escape_rate_alert,
        },
    )


LEAKAGE = Rule(
    name="defect_leakage",
    table="defect_escape_rates",
    flag="leakage_alert",
    severity="error",
    scope="recent_sprints",
    check="defect_escape_rate_within_threshold",
    description="Defect leakage: each board's running and latest closed sprint must have an "
    "escape rate (production / (production + QA) bugs) at or under `escape_rate_alert` "
    "(default 20%).",
    holds=lambda thresholds: (
        "No running or latest closed sprint leaked more than "
        f"{thresholds.escape_rate_alert:.0%} of its bugs to production."
    ),
    crossing=crossing,
    limit_fact="escape_rate_limit",
)
