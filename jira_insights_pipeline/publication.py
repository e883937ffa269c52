"""Write, audit, publish: a run's outputs become current together, or not at all.

Every step of a run writes into the run's draft folder, `<data folder>/runs/<run id>/`
(`DataFolder.draft`): the warehouse IO manager into the draft's own DuckDB file, the insight and
report assets into its `insights/` and `report/`, the raw asset its snapshot pointer. A step
reads the run's draft first and the published data for the rest, so a run sees its own outputs
and, for what it did not rebuild, the last published ones. Nothing that readers look at (the
alert sensors, the report, a person, the next run) changes while a run is under way, nor when it
fails or is killed.

The run's last step, the `publication` asset, runs only when every step before it succeeded
(Dagster skips a step whose upstream failed), and then:

1. writes a marker into the draft: from here on, if this process dies, whoever next sees the
   marker (the next run's raw step or publication) finishes the publication;
2. copies every draft table into the warehouse in ONE DuckDB transaction, with a row in
   `pipeline.publications` (a partitioned history table gets only the partitions the run wrote
   replaced, keeping every other day), and refuses when newer data has already been published (an
   overlapping, slower run must not put older data over newer; data dates from the start of
   the run that fetched its snapshot);
3. renames every draft file over its published path (each rename is atomic);
4. moves the raw pointer, so the next incremental fetch merges onto this run's snapshot;
5. removes the draft.

Steps 2 to 4 can be repeated without harm, so finishing an interrupted publication is running
them again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jira_insights_pipeline.data_folder import DataFolder, write_text_atomically
from jira_insights_pipeline.resources.io_managers import (
    DRAFT_PARTITIONS_SCHEMA,
    drafted_partitions,
    holds_table,
    warehouse_connection,
)

PUBLISHING_MARKER = "publishing.json"
PUBLICATIONS_SCHEMA = "pipeline"
PUBLICATIONS_TABLE = f"{PUBLICATIONS_SCHEMA}.publications"
# A publication waits this long for another run's publication (or a long read) to let go of the
# warehouse; a step's ordinary write waits less (resources/io_managers.py).
PUBLISH_LOCK_WAIT_SECONDS = 120.0
# Drafts of failed or killed runs are kept for a look at what they wrote; older ones go.
ABANDONED_DRAFTS_KEPT = 3


class StalePublicationError(RuntimeError):
    """Newer data has already been published; this run's outputs stay in its draft."""


@dataclass(frozen=True)
class Publication:
    """What one run made current."""

    run_id: str
    tables: tuple[str, ...]
    files: tuple[str, ...]
    raw_snapshot: str | None


def _draft_files(draft: DataFolder) -> list[Path]:
    """The draft's files other than its warehouse, its raw pointer and the marker, as paths
    relative to the draft: each is published at the same path in the data folder."""
    skipped = {
        draft.warehouse,
        draft.warehouse.with_name(draft.warehouse.name + ".wal"),
        draft.raw_pointer,
        draft.root / PUBLISHING_MARKER,
    }
    return sorted(
        path.relative_to(draft.root)
        for path in draft.root.rglob("*")
        if path.is_file() and path not in skipped and not path.name.startswith(".")
    )


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def publish_tables(
    folder: DataFolder,
    drafts: Sequence[DataFolder],
    run_id: str,
    started: datetime,
    files: int,
    raw_snapshot: str | None,
) -> tuple[str, ...]:
    """Copies every table of the drafts' warehouses (a later draft's table over an earlier's)
    into the warehouse, in one transaction; a partitioned table replaces only the partitions
    its draft wrote."""
    with warehouse_connection(folder.warehouse, wait_seconds=PUBLISH_LOCK_WAIT_SECONDS) as db:
        db.execute(f"create schema if not exists {PUBLICATIONS_SCHEMA}")
        db.execute(
            f"create table if not exists {PUBLICATIONS_TABLE} (run_id varchar, "
            "snapshot_run_started_at timestamptz, published_at timestamptz, tables integer, "
            "files integer, raw_snapshot varchar)"
        )
        attached = []
        try:
            source: dict[tuple[str, str], str] = {}
            partitions: dict[tuple[str, str], tuple[str, list[str]]] = {}
            for number, draft in enumerate(d for d in drafts if d.warehouse.is_file()):
                alias = f"draft{number}"
                db.execute(f"attach {_sql_string(str(draft.warehouse))} as {alias} (read_only)")
                attached.append(alias)
                for schema, table in db.execute(
                    "select schema_name, table_name from duckdb_tables() where database_name = ? "
                    "and schema_name <> ?",
                    [alias, DRAFT_PARTITIONS_SCHEMA],
                ).fetchall():
                    source[(schema, table)] = alias
                    partitions.pop((schema, table), None)
                partitions.update(drafted_partitions(db, alias))
            tables = sorted(source)
            db.execute("begin transaction")
            try:
                newer = db.execute(
                    f"select run_id, snapshot_run_started_at from {PUBLICATIONS_TABLE} "
                    "where snapshot_run_started_at > ? and run_id <> ? "
                    "order by snapshot_run_started_at desc limit 1",
                    [started, run_id],
                ).fetchone()
                if newer is not None:
                    raise StalePublicationError(
                        f"Run {run_id}, whose data dates from {started.isoformat()}, was not "
                        f"published: run {newer[0]}, whose data dates from "
                        f"{newer[1].isoformat()}, has already published newer data. Its "
                        f"outputs stay in {folder.draft(run_id).root} for inspection; nothing "
                        "current changed."
                    )
                for schema, table in tables:
                    db.execute(f'create schema if not exists "{schema}"')
                    drafted = f'{source[(schema, table)]}."{schema}"."{table}"'
                    if (schema, table) in partitions and holds_table(db, schema, table):
                        column, keys = partitions[(schema, table)]
                        # Every other partition stays; the run's replace theirs. By name, so
                        # a column added since the last run joins with nulls for older days.
                        db.execute(
                            f'create or replace table "{schema}"."{table}" as '
                            f'select * from "{schema}"."{table}" '
                            f'where "{column}" not in (select unnest(?)) '
                            f'union all by name select * from {drafted} order by "{column}"',
                            [keys],
                        )
                    else:
                        db.execute(
                            f'create or replace table "{schema}"."{table}" as '
                            f"select * from {drafted}"
                        )
                db.execute(f"delete from {PUBLICATIONS_TABLE} where run_id = ?", [run_id])
                db.execute(
                    f"insert into {PUBLICATIONS_TABLE} values (?, ?, ?, ?, ?, ?)",
                    [run_id, started, datetime.now(tz=UTC), len(tables), files, raw_snapshot],
                )
                db.execute("commit")
            except BaseException:
                db.execute("rollback")
                raise
        finally:
            for alias in attached:
                db.execute(f"detach {alias}")
    return tuple(f"{schema}.{table}" for schema, table in tables)


def published_data_time(folder: DataFolder) -> datetime | None:
    """How new the published data is: the newest snapshot time in `pipeline.publications`,
    or None when nothing was published yet."""
    if not folder.warehouse.is_file():
        return None
    with warehouse_connection(folder.warehouse, read_only=True) as db:
        schema, table = PUBLICATIONS_TABLE.split(".")
        if not holds_table(db, schema, table):
            return None
        row = db.execute(
            f"select max(snapshot_run_started_at) from {PUBLICATIONS_TABLE}"
        ).fetchone()
    return None if row is None or row[0] is None else row[0]


def publish_run(
    folder: DataFolder, run_id: str, started: datetime, re_executes: Sequence[str] = ()
) -> Publication:
    """Makes everything run `run_id` wrote current (see the module docstring), with what the
    runs it `re_executes` (newest first) wrote in the steps it skipped; a run that wrote nothing
    publishes nothing. Raises StalePublicationError, leaving the drafts, when a run that started
    later has already published."""
    drafts = [folder.draft(r) for r in [*reversed(re_executes), run_id]]
    drafts = [draft for draft in drafts if draft.root.is_dir()]
    if not drafts:
        return Publication(run_id, (), (), None)
    marker = folder.draft(run_id).root / PUBLISHING_MARKER
    write_text_atomically(
        marker,
        json.dumps(
            {"run_id": run_id, "started": started.isoformat(), "re_executes": list(re_executes)}
        ),
    )
    # Oldest draft first: a later draft's file replaces an earlier's at the same path.
    files = {relative: draft for draft in drafts for relative in _draft_files(draft)}
    pointers = [draft.raw_pointer for draft in drafts if draft.raw_pointer.is_file()]
    raw_snapshot = None
    if pointers:
        raw_snapshot = json.loads(pointers[-1].read_text(encoding="utf-8"))["snapshot_dir"]
    try:
        tables = publish_tables(folder, drafts, run_id, started, len(files), raw_snapshot)
    except Exception:
        # The transaction rolled back: nothing was published, so nothing is left to finish.
        marker.unlink()
        raise
    for relative, draft in sorted(files.items()):
        target = folder.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        source = draft.root / relative
        if source.exists():  # an interrupted publication may have moved it already
            os.replace(source, target)
    if pointers:
        folder.raw.mkdir(parents=True, exist_ok=True)
        os.replace(pointers[-1], folder.raw_pointer)
    for draft in drafts:
        shutil.rmtree(draft.root)
    return Publication(run_id, tables, tuple(str(f) for f in sorted(files)), raw_snapshot)


def finish_interrupted_publications(
    folder: DataFolder, active_run_ids: Collection[str]
) -> list[Publication]:
    """Completes every publication a dead process left half done: a draft with its marker whose
    run is no longer under way (a run still under way may be publishing right now)."""
    finished: list[Publication] = []
    if not folder.runs.is_dir():
        return finished
    for marker in sorted(folder.runs.glob(f"*/{PUBLISHING_MARKER}")):
        if marker.parent.name in active_run_ids:
            continue
        noted = json.loads(marker.read_text(encoding="utf-8"))
        try:
            finished.append(
                publish_run(
                    folder,
                    marker.parent.name,
                    datetime.fromisoformat(noted["started"]),
                    noted.get("re_executes", []),
                )
            )
        except StalePublicationError:
            continue  # superseded meanwhile: the draft stays as an abandoned one
    return finished


def abandoned_drafts(folder: DataFolder, active_run_ids: Collection[str]) -> list[Path]:
    """Drafts of runs that are no longer running and never published, beyond the newest
    `ABANDONED_DRAFTS_KEPT`: the ones safe to remove."""
    if not folder.runs.is_dir():
        return []
    abandoned = sorted(
        (
            draft
            for draft in folder.runs.iterdir()
            if draft.is_dir()
            and draft.name not in active_run_ids
            and not (draft / PUBLISHING_MARKER).exists()
        ),
        key=lambda draft: draft.stat().st_mtime,
        reverse=True,
    )
    return abandoned[ABANDONED_DRAFTS_KEPT:]


def draft_snapshot_folders(folder: DataFolder) -> list[Path]:
    """The raw snapshot folders that unpublished drafts point at (kept by pruning)."""
    if not folder.runs.is_dir():
        return []
    folders = []
    for pointer in folder.runs.glob("*/raw/latest.json"):
        try:
            folders.append(folder.raw / json.loads(pointer.read_text("utf-8"))["snapshot_dir"])
        except (ValueError, KeyError):
            continue
    return folders
