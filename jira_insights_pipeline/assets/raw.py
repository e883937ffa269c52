"""The raw Jira data: one snapshot folder per run, exactly as the source saw it."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from jira_insights_pipeline.raw_store import latest_folder, prune_old_folders, run_folder
from jira_insights_pipeline.resources.jira_source import FetchResult, JiraSource
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.snapshot import load_snapshot


class RawScrapeConfig(dg.Config):
    full_refresh: bool = True
    """Re-read everything (daily); false fetches only what changed since the last run (hourly,
    live sources only)."""


@dg.asset(
    group_name="raw",
    kinds={"jira", "json"},
    io_manager_key="raw_snapshot_io_manager",
)
def raw_jira_scrape(
    context: dg.AssetExecutionContext,
    config: RawScrapeConfig,
    jira_source: JiraSource,
    pipeline_settings: PipelineSettings,
) -> dg.Output[FetchResult]:
    """The Jira site as one snapshot folder of Jira's own JSON (docs/snapshot-format.md),
    kept per run under `<data folder>/raw/` so every run's input can be inspected and replayed.
    One row here is one issue line of `issues.jsonl(.gz)`, with the site's fields, statuses,
    boards and sprints beside it."""
    raw_dir = pipeline_settings.raw_dir
    started_at = datetime.fromtimestamp(_run_start(context), tz=UTC)
    dest = run_folder(raw_dir, context.run.run_id, started_at)
    result = jira_source.source().write_snapshot(
        dest,
        previous=latest_folder(raw_dir),
        full_refresh=config.full_refresh,
        log=context.log,
    )
    snapshot = load_snapshot(result.snapshot_dir)
    removed = prune_old_folders(raw_dir, keep=pipeline_settings.keep_raw_snapshots)
    if removed:
        context.log.info(f"Removed {len(removed)} old raw snapshot folder(s) from {raw_dir}.")
    issues_file = snapshot.issues_path
    return dg.Output(
        result,
        metadata={
            "source": result.source,
            "site": dg.MetadataValue.url(snapshot.meta.site),
            "exported_at": snapshot.meta.exported_at.isoformat(),
            "snapshot_dir": dg.MetadataValue.path(str(Path(result.snapshot_dir).resolve())),
            "issues_file_bytes": issues_file.stat().st_size,
            "boards": len(snapshot.boards),
            "sprints": len(snapshot.sprints),
            "incremental": result.incremental,
            "detail": result.detail,
        },
    )


def _run_start(context: dg.AssetExecutionContext) -> float:
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is not None and record.start_time is not None:
        return record.start_time
    return datetime.now(tz=UTC).timestamp()
