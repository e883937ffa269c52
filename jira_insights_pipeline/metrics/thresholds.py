"""The thresholds every metric and alert is judged by. Defaults follow the mission's rules; the
`MetricSettings` resource lets a deployment change any of them without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How bad a crossed threshold is, for insights and alerts alike; the rank grows with severity.
Severity = Literal["info", "warning", "error"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Thresholds:
    # Scope creep: a story "grew" when its points at sprint end exceed its points at start by
    # more than this percentage; the sprint alerts when more than this share of stories grew.
    growth_pct: float = 30.0
    grown_story_share_alert: float = 0.20
    # Size classes of a story by its points.
    small_max_points: float = 3.0
    large_min_points: float = 8.0
    # Defect leakage: alert when production / (production + QA) exceeds this.
    # Missed targets: a closed sprint that finished less than this share of its committed
    # points missed its target (what Jira's velocity chart compares).
    completion_rate_min: float = 0.80
    escape_rate_alert: float = 0.20
    # Work item hygiene.
    stale_days: float = 14.0
    in_progress_days: float = 10.0
    hygiene_score_min: float = 70.0
    # Velocity: a drop is completed points below this fraction of the mean of the previous
    # `velocity_window` sprints; the forecast resamples the last `forecast_window` sprints.
    velocity_drop_ratio: float = 0.70
    velocity_window: int = 3
    forecast_window: int = 6
    forecast_samples: int = 10_000
    forecast_seed: int = 7
    # Flow: the cycle-time median "rose" when above the previous sprints' median by this share.
    cycle_time_rise: float = 0.20
    cycle_time_window: int = 3
