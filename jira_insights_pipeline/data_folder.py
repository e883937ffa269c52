"""The pipeline's data folder (`JIRA_INSIGHTS_DATA_DIR`, default `data`): the one place that
knows where each thing the pipeline writes lives in it.

    raw/<run>/           one snapshot folder of Jira's JSON per run (raw_store.py)
    warehouse.duckdb     the DuckDB warehouse: schemas `jira` (staging) and `metrics`
    insights/<asset>.json  one insights file per use case, and insights_feed.json
    report/insights.html   the HTML report
    alerts/alerts.jsonl    the alert feed (the webhooks' outbox)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# The variable naming the folder; definitions.py binds it as a dg.EnvVar, the CLI reads it.
DATA_DIR_ENV = "JIRA_INSIGHTS_DATA_DIR"
INSIGHTS_FOLDER = "insights"
FEED_FILE = "insights_feed.json"


@dataclass(frozen=True)
class DataFolder:
    root: Path

    @classmethod
    def at(cls, data_dir: str | os.PathLike[str]) -> DataFolder:
        return cls(Path(data_dir))

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def insights(self) -> Path:
        return self.root / INSIGHTS_FOLDER

    @property
    def insights_feed(self) -> Path:
        return self.insights / FEED_FILE

    def insights_file(self, asset: str) -> Path:
        return self.insights / f"{asset}.json"

    @property
    def report(self) -> Path:
        return self.root / "report" / "insights.html"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts" / "alerts.jsonl"
