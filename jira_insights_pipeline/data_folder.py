"""The pipeline's data folder (`JIRA_INSIGHTS_DATA_DIR`, default `data`): the one place that
knows where each thing the pipeline writes lives in it.

    raw/<run>/           one snapshot folder of Jira's JSON per run (raw_store.py)
    warehouse.duckdb     the DuckDB warehouse: schemas `jira` (staging) and `metrics`
    insights/<asset>.json  one insights file per use case, and insights_feed.json
    insights/history/<YYYY-MM-DD>.json  the feed of each day (insights/history.py), all kept
    report/insights.html   the HTML report
    alerts/alerts.jsonl    the alert feed (the webhooks' outbox)
    feedback/feedback.sqlite3  the team's feedback on insights, written by the service
                           (service/feedback.py) and never by a run
    runs/<run id>/         a run's draft: the same layout (warehouse.duckdb with only the tables
                           the run wrote, insights/, report/, raw/latest.json), made current by
                           the run's `publication` step (publication.py) and then removed

Everything outside `runs/` and `feedback/` is what the last published run left; a run that fails
or is killed never touches it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The variable naming the folder; definitions.py binds it as a dg.EnvVar, the CLI reads it.
DATA_DIR_ENV = "JIRA_INSIGHTS_DATA_DIR"
INSIGHTS_FOLDER = "insights"
FEED_FILE = "insights_feed.json"
HISTORY_FOLDER = "history"
RUNS_FOLDER = "runs"
RAW_POINTER = "latest.json"


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
    def raw_pointer(self) -> Path:
        """The pointer to the snapshot this folder's tables were built from."""
        return self.raw / RAW_POINTER

    @property
    def runs(self) -> Path:
        return self.root / RUNS_FOLDER

    def draft(self, run_id: str) -> DataFolder:
        """The folder run `run_id` writes into until its publication."""
        return DataFolder(self.runs / run_id)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def insights(self) -> Path:
        return self.root / INSIGHTS_FOLDER

    @property
    def insights_feed(self) -> Path:
        return self.insights / FEED_FILE

    @property
    def insights_history(self) -> Path:
        """The dated copies of the feed, one per day."""
        return self.insights / HISTORY_FOLDER

    def insights_file(self, asset: str) -> Path:
        return self.insights / f"{asset}.json"

    @property
    def report(self) -> Path:
        return self.root / "report" / "insights.html"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts" / "alerts.jsonl"

    @property
    def feedback(self) -> Path:
        """The service's feedback store: no run reads, writes or publishes it."""
        return self.root / "feedback" / "feedback.sqlite3"


def write_text_atomically(path: Path, text: str) -> None:
    """Writes `text` to a temporary file beside `path`, then renames it over `path`: a reader,
    or a crash half way, never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            temp.write(text)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
