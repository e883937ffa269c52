"""Helpers for the automation and report tests: snapshots made from the bundled sample site,
real materializations of the real Definitions on a kept Dagster instance, and one tick of the
real threshold-alert sensor against that instance.

The sample site (jira_insights_pipeline/sample/PLANTED.md) crosses scope creep and cycle time
on board 1 (CHK), missed target and velocity on board 2 (MOB), defect leakage, hygiene and a
missed target on board 3 (PAY), and nothing on board 4 (PLAT). A snapshot of board 4 alone is
the "crosses nothing" site; a snapshot of board 3 alone crosses only Payments' thresholds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from jira_insights_pipeline.automation.sensors import THRESHOLD_SENSOR_NAME
from jira_insights_pipeline.automation.settings import AlertSettings
from jira_insights_pipeline.registry import Thresholds
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import load_snapshot, write_snapshot

PROJECT_OF_BOARD = {1: "CHK", 2: "MOB", 3: "PAY", 4: "PLAT"}


def board_subset_snapshot(dest: Path, board_ids: Iterable[int]) -> Path:
    """The sample site cut down to some boards: their board, sprint and issue documents,
    unchanged (so every figure of those boards stays what PLANTED.md says)."""
    keep = set(board_ids)
    projects = {PROJECT_OF_BOARD[board] for board in keep}
    site = load_snapshot(SITE_DIR)
    return write_snapshot(
        dest,
        meta=site.meta,
        fields=site.fields,
        statuses=site.statuses,
        boards=[board for board in site.boards if board["id"] in keep],
        sprints=[sprint for sprint in site.sprints if sprint.get("originBoardId") in keep],
        issues=(
            issue for issue in site.iter_issues() if issue["fields"]["project"]["key"] in projects
        ),
    )


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the block."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pipeline_definitions() -> dg.Definitions:
    """The real Definitions, built from the environment as `dagster` builds them."""
    from jira_insights_pipeline.definitions import build_definitions

    return build_definitions()


def history_partition(defs: dg.Definitions, keys: set[dg.AssetKey]) -> str | None:
    """The partition a run of `keys` needs when it selects a daily history table: the
    bundled sample's day (a later day gets no history rows for an older snapshot)."""
    from jira_insights_pipeline.sample.generator import EXPORTED_AT

    graph = defs.resolve_asset_graph()
    partitioned = any(graph.get(key).partitions_def is not None for key in keys)
    return EXPORTED_AT.date().isoformat() if partitioned else None


def materialize(
    instance: dg.DagsterInstance,
    data_dir: Path,
    snapshot_dir: Path | None = None,
    selection: str = "*",
    run_config: dict[str, Any] | None = None,
    raise_on_error: bool = True,
    publish: bool = True,
    partition_range: tuple[str, str] | None = None,
    **tags: str,
) -> dg.ExecuteInProcessResult:
    """Materialize `selection` of the real Definitions and (unless not to `publish`) the
    publication on `instance` into
    `data_dir`, from the sample site or a snapshot folder, with `run_config` as the launchpad
    would pass it. A run selecting the daily history tables materializes the sample's day, or
    the days `partition_range` (first, last) in one run, as a backfill does."""
    with environment(
        JIRA_INSIGHTS_DATA_DIR=str(data_dir),
        JIRA_INSIGHTS_LLM="off",
        JIRA_INSIGHTS_AS_OF=None,
        JIRA_SOURCE="sample" if snapshot_dir is None else "snapshot",
        JIRA_SNAPSHOT_DIR=None if snapshot_dir is None else str(snapshot_dir),
    ):
        defs = pipeline_definitions()
        job = defs.resolve_implicit_global_asset_job_def()
        # With the publication, as every job has it: it makes the run's outputs current.
        keys = dg.AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph())
        publication = {dg.AssetKey("publication")}
        keys = keys | publication if publish else keys - publication
        run_tags = dict(tags)
        if partition_range is not None:
            # The tags a single-run backfill (and `--partition-range`) gives its run.
            run_tags["dagster/asset_partition_range_start"] = partition_range[0]
            run_tags["dagster/asset_partition_range_end"] = partition_range[1]
        return job.execute_in_process(
            instance=instance,
            asset_selection=sorted(keys),
            partition_key=None if partition_range else history_partition(defs, keys),
            tags=run_tags or None,
            run_config=run_config,
            raise_on_error=raise_on_error,
        )


def alert_settings(webhooks: str | None = None, **overrides: Any) -> AlertSettings:
    """Alert settings for tests: no back-off unless asked, short timeouts."""
    values: dict[str, Any] = {
        "webhooks": webhooks,
        "dagster_url": "http://127.0.0.1:3000",
        "backoff_seconds": 0.0,
        "connect_timeout_seconds": 0.5,
        "read_timeout_seconds": 1.0,
        "max_attempts": 3,
    }
    values.update(overrides)
    return AlertSettings(**values)


def tick(
    instance: dg.DagsterInstance,
    cursor: str | None,
    data_dir: Path,
    settings: AlertSettings,
) -> tuple[dg.SensorResult, str]:
    """One evaluation of the real threshold sensor of the real Definitions, as the daemon
    runs it: from `cursor`, returning the result and the cursor it leaves."""
    with environment(JIRA_INSIGHTS_DATA_DIR=str(data_dir), JIRA_INSIGHTS_LLM="off"):
        defs = pipeline_definitions()
    sensor = defs.resolve_sensor_def(THRESHOLD_SENSOR_NAME)
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        sensor_name=THRESHOLD_SENSOR_NAME,
        resources={
            "pipeline_settings": PipelineSettings(data_dir=str(data_dir)),
            "thresholds": Thresholds(),
            "alert_settings": settings,
        },
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert not result.run_requests, "the alert sensor never launches runs"
    assert result.cursor is not None
    return result, result.cursor
