"""The warehouse and raw-snapshot IO managers, in real Dagster runs on a real DuckDB file.

The stock DuckDB pandas handler skips empty frames (a table with no rows is never created, and
its readers fail) and appends by position to an existing table (a new column breaks the next
run); ours replaces the table. The raw IO manager must hand downstream assets the newest
snapshot that was stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from publishing import with_publication

from jira_insights_pipeline.data_folder import write_text_atomically
from jira_insights_pipeline.raw_store import load_latest, prune_old_folders, record_latest
from jira_insights_pipeline.resources.io_managers import RawSnapshotIOManager, WarehouseIOManager
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.snapshot import SnapshotMeta, write_snapshot


def _resources(data_dir: Path) -> dict[str, object]:
    return {
        "io_manager": WarehouseIOManager(data_dir=str(data_dir)),
        "pipeline_settings": PipelineSettings(data_dir=str(data_dir)),
    }


def _run(assets: list, data_dir: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(with_publication(assets), resources=_resources(data_dir))


def test_empty_table_is_created_and_readable(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"

    @dg.asset(metadata={"schema": "jira"})
    def jira_issue_links() -> pd.DataFrame:
        return pd.DataFrame(
            {"issue_key": pd.Series([], dtype=str), "link_id": pd.Series([], dtype=str)}
        )

    @dg.asset
    def link_count(jira_issue_links: pd.DataFrame) -> int:
        return len(jira_issue_links)

    assets = with_publication([jira_issue_links, link_count])
    result = dg.materialize(
        assets, resources=_resources(data_dir), selection=[jira_issue_links, assets[-1]]
    )
    assert result.success
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        columns = [
            row[0] for row in connection.execute("describe jira.jira_issue_links").fetchall()
        ]
        count = connection.execute("select count(*) from jira.jira_issue_links").fetchone()[0]
    assert columns == ["issue_key", "link_id"]
    assert count == 0


def test_a_new_column_replaces_the_old_table(tmp_path: Path) -> None:
    version = {"columns": ["a"]}

    @dg.asset(metadata={"schema": "metrics"})
    def scores() -> pd.DataFrame:
        return pd.DataFrame({name: [1, 2] for name in version["columns"]})

    assert _run([scores], tmp_path).success
    version["columns"] = ["a", "b", "c"]
    assert _run([scores], tmp_path).success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        frame = connection.execute("select * from metrics.scores").fetchdf()
    assert list(frame.columns) == ["a", "b", "c"]
    assert len(frame) == 2, "replaced, not appended"


def _snapshot(folder: Path, site: str) -> Path:
    return write_snapshot(
        folder,
        meta=SnapshotMeta(site=site, exported_at=datetime(2026, 1, 1, tzinfo=UTC)),
        fields=[],
        boards=[],
        sprints=[],
        issues=[{"id": "1", "key": "A-1", "fields": {}}],
    )


def test_raw_pointer_names_the_newest_snapshot_and_pruning_keeps_it(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for number in range(4):
        folder = _snapshot(raw / f"2026010{number}T000000Z-run{number}", f"https://site{number}")
        record_latest(raw, folder, source="snapshot", run_id=f"run{number}")
    stored = load_latest(raw)
    assert stored.snapshot.meta.site == "https://site3"
    assert stored.run_id == "run3"
    removed = prune_old_folders(raw, keep=2)
    assert sorted(p.name for p in removed) == ["20260100T000000Z-run0", "20260101T000000Z-run1"]
    assert load_latest(raw).snapshot.meta.site == "https://site3"


def test_raw_io_manager_loads_the_recorded_snapshot_in_a_run(tmp_path: Path) -> None:
    folder = _snapshot(tmp_path / "raw" / "20260101T000000Z-abc", "https://jira.example")
    record_latest(tmp_path / "raw", folder, source="snapshot", run_id="abc")
    seen = {}

    raw_jira_scrape = dg.AssetSpec("raw_jira_scrape").with_io_manager_key("raw_io")

    @dg.asset(ins={"raw_jira_scrape": dg.AssetIn()})
    def consumer(raw_jira_scrape) -> None:
        seen["site"] = raw_jira_scrape.snapshot.meta.site
        seen["source"] = raw_jira_scrape.source

    result = dg.materialize(
        [raw_jira_scrape, consumer],
        resources={"raw_io": RawSnapshotIOManager(data_dir=str(tmp_path))},
        selection=[consumer],
    )
    assert result.success
    assert seen == {"site": "https://jira.example", "source": "snapshot"}


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """A crash while the feed was written left `insights_feed.json` at 0 bytes; every file the
    pipeline writes now goes to a temporary name first and is renamed over the old one."""
    feed = tmp_path / "insights" / "insights_feed.json"
    write_text_atomically(feed, '{"count": 1}')
    with pytest.raises(UnicodeEncodeError):
        write_text_atomically(feed, '{"count": 2, "title": "\ud800"}')  # not encodable
    assert feed.read_text() == '{"count": 1}'
    assert [p.name for p in feed.parent.iterdir()] == ["insights_feed.json"]
