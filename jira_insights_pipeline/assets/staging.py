"""Staging tables: Jira's JSON parsed into one table per kind of fact, in DuckDB schema `jira`.

All tables come from one pass over the snapshot (one step), since parsing 100k issues once is
the expensive part and every table needs the same parse."""

from __future__ import annotations

import dagster as dg

from jira_insights_pipeline.assets.metadata import table_metadata
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.raw_store import StoredSnapshot
from jira_insights_pipeline.schemas import STAGING_SCHEMAS

STAGING_GROUP = "staging"


def _describe(table: str) -> str:
    model_doc = (STAGING_SCHEMAS[table].__doc__ or "").strip()
    return f"{model_doc} Parsed from the raw snapshot's Jira JSON; schema `jira`."


STAGING_SPECS = [
    dg.AssetSpec(
        key=table,
        description=_describe(table),
        group_name=STAGING_GROUP,
        kinds={"duckdb", "pandas"},
        deps=["raw_jira_scrape"],
        metadata={"schema": "jira"},
    )
    for table in STAGING_SCHEMAS
]


@dg.multi_asset(
    specs=STAGING_SPECS,
    ins={"raw_jira_scrape": dg.AssetIn()},
    name="jira_staging",
)
def jira_staging(context: dg.AssetExecutionContext, raw_jira_scrape: StoredSnapshot):
    """Parses the newest raw snapshot into the staging tables, each validated by its model."""
    stored = raw_jira_scrape
    tables = build_staging_tables(stored.snapshot, source=stored.source)
    report = tables.report
    for warning in report.warnings:
        context.log.warning(warning)
    for table in STAGING_SCHEMAS:
        frame = tables.frames[table]
        extra = report.metadata() if table == "jira_issues" else None
        yield dg.Output(
            frame,
            output_name=table,
            metadata=table_metadata(frame, extra=extra),
        )
