"""Staging tables: Jira's JSON parsed into one table per kind of fact, in DuckDB schema `jira`.

All tables come from one pass over the snapshot (one step), since parsing 100k issues once is
the expensive part and every table needs the same parse. The step can be subset: a run that
selects only some staging tables (e.g. `*sprint_commitments`) still parses once, but writes only
the selected tables, so the warehouse keeps the others as the last full run left them."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd

from jira_insights_pipeline.assets.metadata import table_metadata
from jira_insights_pipeline.parsing.staging import StagingTables, build_staging_tables
from jira_insights_pipeline.raw_store import StoredSnapshot
from jira_insights_pipeline.resources.io_managers import has_table, warehouse_connection
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.resources.snapshot_guard import SnapshotCounts, SnapshotGuard
from jira_insights_pipeline.schemas import STAGING_SCHEMAS

STAGING_GROUP = "staging"


def _describe(table: str) -> str:
    model_doc = (STAGING_SCHEMAS[table].__doc__ or "").strip()
    return f"{model_doc} Parsed from the raw snapshot's Jira JSON; schema `jira`."


STAGING_OUTS = {
    table: dg.AssetOut(
        description=_describe(table),
        group_name=STAGING_GROUP,
        kinds={"duckdb", "pandas"},
        metadata={"schema": "jira"},
        # Not required, so that a subset run may leave the unselected tables unwritten.
        is_required=False,
    )
    for table in STAGING_SCHEMAS
}


@dg.multi_asset(
    outs=STAGING_OUTS,
    ins={"raw_jira_scrape": dg.AssetIn()},
    name="jira_staging",
    can_subset=True,
)
def jira_staging(
    context: dg.AssetExecutionContext,
    raw_jira_scrape: StoredSnapshot,
    pipeline_settings: PipelineSettings,
    snapshot_guard: SnapshotGuard,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Parses the run's raw snapshot into the staging tables, each validated by its model, and
    yields the ones this run selected. A snapshot the guard finds implausible (no issues, no
    board, no Sprint field on a Scrum site, far fewer issues than last time) stops here."""
    stored = raw_jira_scrape
    # The parse builds every table at once (they share the issue pass), so a subset saves the
    # writes, not the parse. `AssetExecutionContext.selected_output_names` is deprecated in
    # Dagster 1.13 in favour of the op context's.
    selected = context.op_execution_context.selected_output_names
    # Errors name the user's input (their snapshot folder, the sample, the site) first: the
    # stored copy under <data folder>/raw/ is ours, not theirs.
    where = f"The snapshot from {stored.detail or stored.source} (stored as {stored.snapshot.root})"
    try:
        tables = build_staging_tables(stored.snapshot, source=stored.source)
    except ValueError as error:  # SnapshotError and the parse's own checks
        raise dg.Failure(
            description=f"{where} could not be staged, so nothing current changed: {error}"
        ) from None
    report = tables.report
    refusals = snapshot_guard.refusals(
        snapshot_counts(tables), published_issue_count(pipeline_settings.warehouse_path)
    )
    if refusals:
        raise dg.Failure(
            description=f"{where} was not staged, so nothing current changed: "
            + "; and ".join(refusals)
            + "."
        )
    # The warnings describe the snapshot, not a table: logged whatever the selection.
    for warning in report.warnings:
        context.log.warning(warning)
    for table, frame in tables.tables().items():
        if table not in selected:
            continue
        extra = None
        if table == "jira_issues":
            extra = {
                "field_discovery": dg.MetadataValue.md(report.to_markdown()),
                "unknown_status_categories": len(report.unknown_status_categories),
                "truncated_changelogs": len(report.truncated_changelogs),
            }
        yield dg.Output(
            frame,
            output_name=table,
            metadata=table_metadata(frame, extra=extra),
        )


def snapshot_counts(tables: StagingTables) -> SnapshotCounts:
    """What the snapshot guard judges, from the parsed tables."""
    boards = tables.jira_boards
    return SnapshotCounts(
        issues=len(tables.jira_issues),
        boards=len(boards),
        scrum_boards=int((boards["board_type"] == "scrum").sum()),
        sprints=len(tables.jira_sprints),
        sprint_field_found=tables.report.fields["sprint"]["field_id"] is not None,
    )


def published_issue_count(warehouse: Path) -> int | None:
    """How many issues the published warehouse holds, or None before the first publication."""
    if not has_table(warehouse, "jira", "jira_issues"):
        return None
    with warehouse_connection(warehouse, read_only=True) as connection:
        row = connection.execute("select count(*) from jira.jira_issues").fetchone()
    return int(row[0]) if row else None
