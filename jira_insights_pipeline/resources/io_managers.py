"""IO managers: the DuckDB warehouse for tables, and the raw snapshot store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster._utils.backoff import backoff
from dagster_duckdb.io_manager import DuckDbClient, DuckDBIOManager
from dagster_duckdb_pandas import DuckDBPandasTypeHandler
from pydantic import Field

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.raw_store import StoredSnapshot, load_latest, record_latest
from jira_insights_pipeline.resources.jira_source import FetchResult


class ReplacingPandasTypeHandler(DuckDBPandasTypeHandler):
    """Writes a DataFrame as the whole table, replacing the old one.

    The stock handler skips empty frames (so a table with no rows, such as the links of a site
    without links, is never created and its readers fail) and inserts by column position into
    an existing table (so adding a column breaks the next run). Replacing avoids both."""

    def handle_output(
        self,
        context: dg.OutputContext,
        table_slice: TableSlice,
        obj: pd.DataFrame,
        connection: duckdb.DuckDBPyConnection,
    ) -> None:
        frame = obj  # noqa: F841 - DuckDB reads the local variable `frame` by name.
        connection.execute(
            f"create or replace table {table_slice.schema}.{table_slice.table} "
            "as select * from frame"
        )
        context.add_output_metadata(
            {"dagster/row_count": len(obj), "dagster/storage_kind": "duckdb"}
        )


def warehouse_path(data_dir: str | Path) -> Path:
    return DataFolder.at(data_dir).warehouse


class _WarehouseClient(DuckDbClient):
    @staticmethod
    @contextmanager
    def connect(
        context: dg.OutputContext | dg.InputContext, _: TableSlice
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        config = context.resource_config
        database = Path(config["database"] or warehouse_path(config["data_dir"]))
        # DuckDB creates the database file but not its folder.
        database.parent.mkdir(parents=True, exist_ok=True)
        # Another step may hold the file's write lock for a moment: retry as the stock client does.
        connection = backoff(
            fn=duckdb.connect,
            retry_on=(RuntimeError, duckdb.IOException),
            kwargs={
                "database": str(database),
                "read_only": False,
                "config": config["connection_config"],
            },
            max_retries=10,
        )
        try:
            yield connection
        finally:
            connection.close()


class WarehouseIOManager(DuckDBIOManager):
    """Stores each table asset in the DuckDB warehouse (`<data folder>/warehouse.duckdb`), in
    the schema its metadata names (`jira` for staging, `metrics` for metric tables)."""

    data_dir: str = Field(default="data", description="The data folder (JIRA_INSIGHTS_DATA_DIR).")
    database: str = Field(
        default="", description="An explicit DuckDB file; empty means <data_dir>/warehouse.duckdb."
    )

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [ReplacingPandasTypeHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pd.DataFrame

    def create_io_manager(self, context: dg.InitResourceContext) -> DbIOManager:
        return DbIOManager(
            db_client=_WarehouseClient(),
            database=self.database,
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="WarehouseIOManager",
        )


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
