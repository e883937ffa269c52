"""Settings every asset shares: where data lives and the "as of" override. The thresholds are a
resource of their own (`registry.Thresholds`, key `thresholds`): Dagster replaces the whole config
of a resource that run config names, so a threshold set in the launchpad must not share a
resource with the data folder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.metrics.timeline import resolve_as_of


class PipelineSettings(dg.ConfigurableResource):
    """Where the pipeline keeps its files and which instant it reports on."""

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

    @property
    def folder(self) -> DataFolder:
        """Where each thing lives in the data folder."""
        return DataFolder.at(self.data_dir)

    @property
    def data_path(self) -> Path:
        return self.folder.root

    @property
    def raw_dir(self) -> Path:
        return self.folder.raw

    @property
    def warehouse_path(self) -> Path:
        return self.folder.warehouse

    @property
    def insights_dir(self) -> Path:
        return self.folder.insights

    def as_of_for(self, jira_snapshot: pd.DataFrame) -> pd.Timestamp:
        """The "as of" instant for tables built from `jira_snapshot` (the staging table)."""
        return resolve_as_of(jira_snapshot["exported_at"].iloc[0], self.as_of)
