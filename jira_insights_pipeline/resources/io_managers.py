"""IO managers: the DuckDB warehouse for tables, and the raw snapshot pointer.

Both write into the run's draft (`<data folder>/runs/<run id>/`, see publication.py) and read
the run's draft first, then what was last published: nothing current changes before the run's
`publication` step.
"""

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
from jira_insights_pipeline.partitions import FIGURED_THROUGH
from jira_insights_pipeline.raw_store import StoredSnapshot, load_pointed, record_pointer
from jira_insights_pipeline.resources.jira_source import FetchResult

# A step that writes holds DuckDB's file lock for a moment; another process waits this long at
# most, then gets DuckDB's error naming the file.
LOCK_WAIT_SECONDS = 10.0
LOCK_POLL_SECONDS = 0.25
DEFAULT_SCHEMA = "main"
# In a draft warehouse, which partitions of which partitioned tables the run wrote: the
# publication replaces exactly those partitions of the published table and keeps the others.
DRAFT_PARTITIONS_SCHEMA = "draft"
DRAFT_PARTITIONS_TABLE = f"{DRAFT_PARTITIONS_SCHEMA}.partitions"


def warehouse_path(data_dir: str | Path) -> Path:
    return DataFolder.at(data_dir).warehouse


@contextmanager
def warehouse_connection(
    database: Path, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS
) -> Iterator[DuckDBConnection]:
    """A connection to a warehouse file, waiting while another process holds its lock."""
    database.parent.mkdir(parents=True, exist_ok=True)  # DuckDB creates the file, not its folder
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            connection = duckdb.connect(str(database), read_only=read_only)
            break
        except duckdb.IOException:
            if time.monotonic() >= deadline:
                raise
            time.sleep(LOCK_POLL_SECONDS)
    try:
        yield connection
    finally:
        connection.close()


def holds_table(connection: DuckDBConnection, schema: str, table: str, database: str = "") -> bool:
    """Whether the connection's own database (or the attached `database`) holds
    `schema.table`; attached drafts are never mistaken for it."""
    found = connection.execute(
        "select count(*) from duckdb_tables() where database_name = "
        "coalesce(nullif(?, ''), current_database()) and schema_name = ? and table_name = ?",
        [database, schema, table],
    ).fetchone()
    return bool(found and found[0])


def has_table(database: Path, schema: str, table: str) -> bool:
    """Whether the warehouse file `database` exists and holds `schema.table`."""
    if not database.is_file():
        return False
    with warehouse_connection(database, read_only=True) as connection:
        return holds_table(connection, schema, table)


def read_table(database: Path, schema: str, table: str) -> pd.DataFrame | None:
    """`schema.table` of the warehouse file `database`, or None when it is not there; one
    read-only connection for the look-up and the read."""
    if not database.is_file():
        return None
    with warehouse_connection(database, read_only=True) as connection:
        if not holds_table(connection, schema, table):
            return None
        return connection.execute(f'select * from "{schema}"."{table}"').fetchdf()


def _schema_of(metadata: Mapping[str, Any] | None) -> str:
    schema = (metadata or {}).get("schema", DEFAULT_SCHEMA)
    if not str(schema).isidentifier():
        raise ValueError(f"Warehouse schema {schema!r} is not a plain SQL identifier.")
    return str(schema)


def _partition_column(metadata: Mapping[str, Any] | None, table: str) -> str:
    column = (metadata or {}).get("partition_column")
    if not column or not str(column).isidentifier():
        raise ValueError(
            f"Partitioned table {table} names no `partition_column` in its asset metadata (the "
            "column holding each row's partition key); the warehouse stores it by that column."
        )
    return str(column)


def _written_keys(context: dg.OutputContext) -> list[str]:
    """The partitions an output writes: those the run materializes, up to the last day the
    asset could figure when it says (`FIGURED_THROUGH`), so a day it could not know keeps what
    an earlier run stored."""
    keys = sorted(context.asset_partition_keys)
    if FIGURED_THROUGH not in context.output_metadata:
        return keys
    through = context.output_metadata[FIGURED_THROUGH]
    through = str(getattr(through, "value", through) or "")
    return [key for key in keys if through and key <= through]


def record_draft_partitions(
    connection: DuckDBConnection, schema: str, table: str, column: str, keys: list[str]
) -> None:
    """Notes in a draft warehouse that the run wrote partitions `keys` of `schema.table`."""
    connection.execute(f"create schema if not exists {DRAFT_PARTITIONS_SCHEMA}")
    connection.execute(
        f"create table if not exists {DRAFT_PARTITIONS_TABLE} (schema_name varchar, "
        "table_name varchar, partition_column varchar, partition_key varchar)"
    )
    connection.execute(
        f"delete from {DRAFT_PARTITIONS_TABLE} where schema_name = ? and table_name = ?",
        [schema, table],
    )
    # A row with no key marks the table as partitioned even when the run wrote no day (it
    # could figure none): the publication then keeps every published day.
    connection.executemany(
        f"insert into {DRAFT_PARTITIONS_TABLE} values (?, ?, ?, ?)",
        [[schema, table, column, key] for key in [None, *keys]],
    )


def drafted_partitions(
    connection: DuckDBConnection, database: str = ""
) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """The partitioned tables a draft warehouse holds (attached as `database`, or the
    connection's own): (schema, table) to (partition column, the keys the run wrote)."""
    prefix = f"{database}." if database else ""
    if not holds_table(connection, DRAFT_PARTITIONS_SCHEMA, "partitions", database):
        return {}
    partitions: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for schema, table, column, key in connection.execute(
        f"select * from {prefix}{DRAFT_PARTITIONS_TABLE} order by partition_key nulls first"
    ).fetchall():
        written = partitions.setdefault((schema, table), (column, []))[1]
        if key is not None:
            written.append(key)
    return partitions


def read_partitions(
    database: Path, schema: str, table: str, column: str, keys: list[str]
) -> pd.DataFrame | None:
    """The rows of partitions `keys` of `schema.table` in the warehouse file `database`, or
    None when it does not hold the table."""
    if not database.is_file():
        return None
    with warehouse_connection(database, read_only=True) as connection:
        if not holds_table(connection, schema, table):
            return None
        return connection.execute(
            f'select * from "{schema}"."{table}" where "{column}" in (select unnest(?))', [keys]
        ).fetchdf()


def source_run_id(context: dg.InputContext) -> str | None:
    """The run whose draft may hold this input: this run when it wrote it, or, when this run
    re-executes a failed one, the run that wrote it; None for an input from before the run (an
    asset the run did not select), which is read from what was published."""
    upstream = context.upstream_output
    if upstream is None:
        return None
    try:
        return upstream.run_id
    except dg.DagsterInvariantViolationError:  # Dagster gives no run for unselected assets
        return None


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores each table asset as one DuckDB table, `<schema>.<asset name>`; the schema is the
    asset's `schema` metadata (`jira` for staging, `metrics` for metric tables).

    A run writes into its draft warehouse (`<data folder>/runs/<run id>/warehouse.duckdb`) and
    reads a table from there when the run wrote it, else from the published warehouse
    (`<data folder>/warehouse.duckdb`), which only the run's `publication` step changes.

    A write replaces the whole table in one statement (`create or replace table ... as select`),
    so an empty frame still creates its table and a new column never breaks the next run (the
    stock DuckDB pandas handler skips empty frames and deletes then inserts, by column position,
    in two commits).

    A partitioned asset (the daily history tables) names its `partition_column` in its metadata.
    Its draft table holds the partitions the run wrote, and the publication replaces exactly
    those partitions of the published table, keeping every other day: history accumulates. A
    read gets the partitions asked for, the run's own drafted ones over the published ones."""

    data_dir: str = Field(default="data", description="The data folder (JIRA_INSIGHTS_DATA_DIR).")

    @property
    def folder(self) -> DataFolder:
        return DataFolder.at(self.data_dir)

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        schema = _schema_of(context.definition_metadata)
        table = context.asset_key.path[-1]
        keys: list[str] = []
        if context.has_asset_partitions:
            column = _partition_column(context.definition_metadata, table)
            keys = _written_keys(context)
            outside = sorted(set(obj[column].astype(str)) - set(keys))
            if outside:
                raise ValueError(
                    f"{table} returned rows for partitions {outside[:5]} that the run did not "
                    f"did not figure (it figured {len(keys)} of the days asked for); nothing was "
                    "stored."
                )
        frame = obj  # noqa: F841 - DuckDB reads the local variable `frame` by name.
        with warehouse_connection(self.folder.draft(context.run_id).warehouse) as connection:
            # One transaction: a draft never holds a partitioned table without the record of
            # its days, which would make the publication replace the whole published history.
            connection.execute("begin transaction")
            try:
                connection.execute(f'create schema if not exists "{schema}"')
                connection.execute(
                    f'create or replace table "{schema}"."{table}" as select * from frame'
                )
                if context.has_asset_partitions:
                    record_draft_partitions(connection, schema, table, column, keys)
                connection.execute("commit")
            except BaseException:
                connection.execute("rollback")
                raise
        context.add_output_metadata(
            {"dagster/row_count": len(obj), "dagster/storage_kind": "duckdb"}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        schema = _schema_of(upstream.definition_metadata if upstream else None)
        table = context.asset_key.path[-1]
        run_id = source_run_id(context)
        if context.has_asset_partitions:
            column = _partition_column(upstream.definition_metadata if upstream else None, table)
            return self._load_partitions(context, schema, table, column, run_id)
        if run_id is not None:
            drafted = read_table(self.folder.draft(run_id).warehouse, schema, table)
            if drafted is not None:
                return drafted
        published = read_table(self.folder.warehouse, schema, table)
        if published is None:
            raise FileNotFoundError(
                f"Table {schema}.{table} is not in the warehouse {self.folder.warehouse}: "
                f"materialize {table} (or everything, `make demo`) first."
            )
        return published

    def _load_partitions(
        self,
        context: dg.InputContext,
        schema: str,
        table: str,
        column: str,
        run_id: str | None,
    ) -> pd.DataFrame:
        """The partitions the input asks for: what the run drafted, the rest as published.
        A history with no partition stored yet is an empty table, not an error: the report
        draws its trend from whatever days there are."""
        keys = sorted(context.asset_partition_keys)
        drafted, drafted_keys = None, set()
        draft = self.folder.draft(run_id).warehouse if run_id is not None else None
        if draft is not None and draft.is_file():
            with warehouse_connection(draft, read_only=True) as connection:
                drafted_keys = set(drafted_partitions(connection).get((schema, table), ("", []))[1])
            drafted = read_partitions(draft, schema, table, column, keys)
        published = read_partitions(self.folder.warehouse, schema, table, column, keys)
        if drafted is not None and published is not None:
            published = published.loc[~published[column].isin(drafted_keys)]
        parts = [frame for frame in (published, drafted) if frame is not None]
        if not parts:
            context.log.warning(
                f"No partition of {schema}.{table} is stored yet; materialize it (a backfill "
                "of its last days) to fill the history."
            )
            return pd.DataFrame()
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        return frame.sort_values(column, kind="stable").reset_index(drop=True)


class RawSnapshotIOManager(dg.ConfigurableIOManager):
    """Records which raw snapshot folder a run fetched, and hands downstream steps that run's
    snapshot.

    The source writes the snapshot into its own per-run folder under `<data folder>/raw/`; this
    IO manager writes the run's draft pointer to it (`runs/<run id>/raw/latest.json`). A step
    loads its own run's snapshot when the run fetched one, else the published one
    (`raw/latest.json`, moved only by the run's publication): two overlapping runs never read
    each other's snapshot, and a run whose staging failed never becomes the base the next
    incremental fetch merges onto."""

    data_dir: str = Field(default="data", description="The data folder (JIRA_INSIGHTS_DATA_DIR).")

    @property
    def folder(self) -> DataFolder:
        return DataFolder.at(self.data_dir)

    def handle_output(self, context: dg.OutputContext, obj: FetchResult) -> None:
        pointer = self.folder.draft(context.run_id).raw_pointer
        record_pointer(
            pointer, obj.snapshot_dir, source=obj.source, run_id=context.run_id, detail=obj.detail
        )

    def load_input(self, context: dg.InputContext) -> StoredSnapshot:
        run_id = source_run_id(context)
        pointer = self.folder.raw_pointer
        if run_id is not None and self.folder.draft(run_id).raw_pointer.is_file():
            pointer = self.folder.draft(run_id).raw_pointer
        return load_pointed(self.folder.raw, pointer)
