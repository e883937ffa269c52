"""The raw Jira data: one snapshot folder per run, exactly as the source saw it."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from jira_insights_pipeline.automation.run_status import active_run_ids
from jira_insights_pipeline.publication import (
    draft_snapshot_folders,
    finish_interrupted_publications,
)
from jira_insights_pipeline.raw_store import latest_folder, prune_old_folders, run_folder
from jira_insights_pipeline.resources.jira_source import FetchResult, JiraSource
from jira_insights_pipeline.resources.llm import LlamaModelResource
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.snapshot import load_snapshot


class RawScrapeConfig(dg.Config):
    full_refresh: bool = True
    """Re-read everything (daily); false fetches only what changed since the last run (hourly,
    live sources only)."""


def run_started_at(context: dg.AssetExecutionContext, run_id: str | None = None) -> datetime:
    """When run `run_id` (by default this one) started, as the instance recorded it (now, for
    a run it has no record of)."""
    record = context.instance.get_run_record_by_id(run_id or context.run.run_id)
    if record is not None and record.start_time is not None:
        return datetime.fromtimestamp(record.start_time, tz=UTC)
    return datetime.now(tz=UTC)


def run_lineage(context: dg.AssetExecutionContext) -> list[str]:
    """This run's id, then those of the runs it re-executes, newest first: a re-execution's
    skipped steps left their outputs in the draft of the run that ran them."""
    lineage = [context.run.run_id]
    parent = context.run.parent_run_id
    while parent is not None and parent not in lineage:
        lineage.append(parent)
        run = context.instance.get_run_by_id(parent)
        parent = run.parent_run_id if run is not None else None
    return lineage


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
    llm: LlamaModelResource,
) -> dg.Output[FetchResult]:
    """The Jira site as one snapshot folder of Jira's own JSON (docs/snapshot-format.md),
    kept per run under `<data folder>/raw/` so every run's input can be inspected and replayed.
    One row here is one issue line of `issues.jsonl(.gz)`, with the site's fields, statuses,
    boards and sprints beside it.

    `llm` is asked for here, in the run's first step, so that a model path or LLM mode that
    cannot work fails the run in its first seconds (the resource checks its configuration
    when the step starts) rather than at the insights step minutes later."""
    folder = pipeline_settings.folder
    for finished in finish_interrupted_publications(folder, active_run_ids(context.instance)):
        context.log.warning(
            f"Finished the publication of run {finished.run_id}, which stopped half way."
        )
    context.log.info(
        "Insights will be worded by "
        + (f"the model {llm.model_file_name}." if llm.enabled else "templates (LLM mode off).")
    )
    raw_dir = folder.raw
    dest = run_folder(raw_dir, context.run.run_id, run_started_at(context))
    result = jira_source.source().write_snapshot(
        dest,
        previous=latest_folder(raw_dir),
        full_refresh=config.full_refresh,
        log=context.log,
    )
    snapshot = load_snapshot(result.snapshot_dir)
    removed = prune_old_folders(
        raw_dir,
        keep=pipeline_settings.keep_raw_snapshots,
        in_use=[result.snapshot_dir, *draft_snapshot_folders(folder)],
    )
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
