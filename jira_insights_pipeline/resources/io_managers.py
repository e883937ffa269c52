"""IO managers: the DuckDB warehouse for tables, and the raw snapshot store."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
from duckdb import DuckDBPyConnection as DuckDBConnection
from pydantic import Field

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.raw_store import StoredSnapshot, load_latest, record_latest
from jira_insights_pipeline.resources.jira_source import FetchResult

# A step that writes holds DuckDB's file lock for a moment; another step waits this long at most.
LOCK_RETRIES = 20
LOCK_WAIT_SECONDS = 0.25
DEFAULT_SCHEMA = "main"


def warehouse_path(data_dir: str | Path) -> Path:
    return DataFolder.at(data_dir).warehouse


@contextmanager
def warehouse_connection(database: Path, read_only: bool = False) -> Iterator[DuckDBConnection]:
    """A connection to the warehouse file, waiting while another process holds its lock."""
    database.parent.mkdir(parents=True, exist_ok=True)  # DuckDB creates the file, not its folder
    for attempt in range(LOCK_RETRIES):
        try:
            connection = duckdb.connect(str(database), read_only=read_only)
            break
        except duckdb.IOException:
            if attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(LOCK_WAIT_SECONDS)
    try:
        yield connection
    finally:
        connection.close()


def _schema_of(metadata: Mapping[str, Any] | None) -> str:
    schema = (metadata or {}).get("schema", DEFAULT_SCHEMA)
    if not str(schema).isidentifier():
        raise ValueError(f"Warehouse schema {schema!r} is not a plain SQL identifier.")
    return str(schema)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores each table asset as one DuckDB table, `<schema>.<asset name>`, in the warehouse
    (`<data folder>/warehouse.duckdb`); the schema is the asset's `schema` metadata (`jira` for
    staging, `metrics` for metric tables).

    A write replaces the whole table in one statement (`create or replace table ... as select`),
    so a reader never sees half a table, an empty frame still creates its table, and a new
    column never breaks the next run (the stock DuckDB pandas handler skips empty frames and
    deletes then inserts in two commits, by column position)."""

    data_dir: str = Field(default="data", description="The data folder (JIRA_INSIGHTS_DATA_DIR).")
    database: str = Field(
        default="", description="An explicit DuckDB file; empty means <data_dir>/warehouse.duckdb."
    )

    @property
    def path(self) -> Path:
        return Path(self.database) if self.database else warehouse_path(self.data_dir)

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        schema = _schema_of(context.definition_metadata)
        table = context.asset_key.path[-1]
        frame = obj  # noqa: F841 - DuckDB reads the local variable `frame` by name.
        with warehouse_connection(self.path) as connection:
            connection.execute(f'create schema if not exists "{schema}"')
            connection.execute(
                f'create or replace table "{schema}"."{table}" as select * from frame'
            )
        context.add_output_metadata(
            {"dagster/row_count": len(obj), "dagster/storage_kind": "duckdb"}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        schema = _schema_of(upstream.definition_metadata if upstream else None)
        table = context.asset_key.path[-1]
        with warehouse_connection(self.path) as connection:
            return connection.execute(f'select * from "{schema}"."{table}"').fetchdf()


class RawSnapshotIOManager(dg.ConfigurableIOManager):
    """Keeps the pointer to the newest raw snapshot and hands downstream assets the snapshot.

    The snapshot itself is written by the source into its own per-run folder; this IO manager
    records which folder is current, so any later run (or a person) can replay it."""

    data_dir: str = Field(default="data", description="The data folder (JIRA_INSIGHTS_DATA_DIR).")

    @property
    def raw_dir(self) -> Path:
        return DataFolder.at(self.data_dir).raw

    def handle_output(self, context: dg.OutputContext, obj: FetchResult) -> None:
        record_latest(self.raw_dir, obj.snapshot_dir, source=obj.source, run_id=context.run_id)

    def load_input(self, context: dg.InputContext) -> StoredSnapshot:
        return load_latest(self.raw_dir)
