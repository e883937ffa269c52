"""Settings every asset shares: where data lives, the "as of" override, and the thresholds."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from jira_insights_pipeline.metrics.thresholds import Thresholds
from jira_insights_pipeline.metrics.timeline import resolve_as_of

_DEFAULTS = Thresholds()


class PipelineSettings(dg.ConfigurableResource):
    """Where the pipeline keeps its files, which instant it reports on, and the thresholds its
    checks and alerts judge by (defaults follow the mission's rules)."""

    data_dir: str = Field(
        default="data",
        description="Folder for raw snapshots, the DuckDB warehouse and the insight files "
        "(JIRA_INSIGHTS_DATA_DIR). Relative paths are relative to the working directory.",
    )
    as_of: str | None = Field(
        default=None,
        description="ISO-8601 instant that overrides 'as of' for any source (JIRA_INSIGHTS_AS_OF).",
    )
    keep_raw_snapshots: int = Field(
        default=48, ge=1, description="How many per-run raw snapshot folders to keep."
    )
    growth_pct: float = _DEFAULTS.growth_pct
    grown_story_share_alert: float = _DEFAULTS.grown_story_share_alert
    small_max_points: float = _DEFAULTS.small_max_points
    large_min_points: float = _DEFAULTS.large_min_points
    completion_rate_min: float = _DEFAULTS.completion_rate_min
    escape_rate_alert: float = _DEFAULTS.escape_rate_alert
    stale_days: float = _DEFAULTS.stale_days
    in_progress_days: float = _DEFAULTS.in_progress_days
    hygiene_score_min: float = _DEFAULTS.hygiene_score_min
    velocity_drop_ratio: float = _DEFAULTS.velocity_drop_ratio
    velocity_window: int = _DEFAULTS.velocity_window
    forecast_window: int = _DEFAULTS.forecast_window
    forecast_samples: int = _DEFAULTS.forecast_samples
    forecast_seed: int = _DEFAULTS.forecast_seed
    cycle_time_rise: float = _DEFAULTS.cycle_time_rise
    cycle_time_window: int = _DEFAULTS.cycle_time_window

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def raw_dir(self) -> Path:
        return self.data_path / "raw"

    @property
    def warehouse_path(self) -> Path:
        return self.data_path / "warehouse.duckdb"

    @property
    def insights_dir(self) -> Path:
        return self.data_path / "insights"

    def thresholds(self) -> Thresholds:
        return Thresholds(**{name: getattr(self, name) for name in Thresholds.__dataclass_fields__})

    def as_of_for(self, jira_snapshot: pd.DataFrame) -> pd.Timestamp:
        """The "as of" instant for tables built from `jira_snapshot` (the staging table)."""
        return resolve_as_of(jira_snapshot["exported_at"].iloc[0], self.as_of)
