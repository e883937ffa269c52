"""The history tables' daily partitions, and the instant each day's figure is as of.

A history table (hygiene score, work item health) keeps one partition per day: the figure as of
that day's end, computed from the changelog of whatever snapshot the run read. Every figure can
be computed as of any past instant, so a backfill of the last 90 days fills the history from one
snapshot, and the daily schedule adds yesterday's partition each morning.

Days are UTC days. A day that ends after the snapshot was taken is figured as of the snapshot
(the figure so far that day); a day that begins after it has no figure at all: nothing in the
snapshot says what happened then, so it gets no rows rather than a copy of the last known day.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import dagster as dg
import pandas as pd

HISTORY_START_ENV = "JIRA_INSIGHTS_HISTORY_START"
DEFAULT_HISTORY_START = "2025-01-01"
# The partition key's column in every history table: the day, YYYY-MM-DD.
PARTITION_COLUMN = "date"
# Output metadata of a history asset: the last day it could figure (empty: none). The warehouse
# records only the requested days up to it as written, so a day the snapshot cannot know keeps
# whatever an earlier run stored for it.
FIGURED_THROUGH = "figured_through"
ONE_DAY = pd.Timedelta(days=1)
# A day's end: its last instant, so that the "as of" instant still falls on the day.
LAST_INSTANT = ONE_DAY - pd.Timedelta(microseconds=1)


class HistorySettingsError(ValueError):
    """JIRA_INSIGHTS_HISTORY_START holds something other than a date."""


def history_start(environ: Mapping[str, str]) -> str:
    """The first day of the history partitions: JIRA_INSIGHTS_HISTORY_START, else 2025-01-01."""
    value = environ.get(HISTORY_START_ENV, "").strip() or DEFAULT_HISTORY_START
    try:
        date.fromisoformat(value)
    except ValueError:
        raise HistorySettingsError(
            f"{HISTORY_START_ENV}={value!r} is not a date; write the first day the history "
            f"tables should hold as YYYY-MM-DD, or unset it for {DEFAULT_HISTORY_START}."
        ) from None
    return value


# Read when the code location loads, like the schedules' settings: Dagster plans partitions
# from the definition, not at run time.
DAILY_HISTORY = dg.DailyPartitionsDefinition(start_date=history_start(os.environ))


def history_asset_options(group: str) -> dict[str, object]:
    """The options of a history table asset of `group`: daily partitions, stored by the
    warehouse IO manager partition by partition (its `partition_column`), and a backfill of
    any range runs as one run, so 90 days read the snapshot once."""
    return {
        "group_name": group,
        "kinds": {"pandas", "duckdb"},
        "metadata": {"schema": "metrics", "partition_column": PARTITION_COLUMN},
        "partitions_def": DAILY_HISTORY,
        "backfill_policy": dg.BackfillPolicy.single_run(),
    }


@dataclass(frozen=True)
class HistoryDay:
    """One partition: its day, and the instant its figure is as of (None: the day began after
    the snapshot was taken, so nothing is known about it)."""

    date: str
    as_of: pd.Timestamp | None


def history_days(partition_keys: Sequence[str], snapshot_as_of: pd.Timestamp) -> list[HistoryDay]:
    """Each partition day with the instant its figure is as of: the day's last instant, or the
    snapshot's instant on the day the snapshot was taken."""
    snapshot = pd.Timestamp(snapshot_as_of)
    snapshot = (
        snapshot.tz_localize("UTC") if snapshot.tzinfo is None else snapshot.tz_convert("UTC")
    )
    days = []
    for key in sorted(partition_keys):
        start = pd.Timestamp(key, tz="UTC")
        as_of = None if start > snapshot else min(start + LAST_INSTANT, snapshot)
        days.append(HistoryDay(key, as_of))
    return days


def last_days(end: date, count: int) -> tuple[str, str]:
    """The first and last partition key of the `count` days ending on `end`."""
    if count < 1:
        raise ValueError(f"A history range holds at least one day, not {count}.")
    first = end - pd.Timedelta(days=count - 1).to_pytimedelta()
    return first.isoformat(), end.isoformat()


def history_range(data_day: date, count: int) -> tuple[str, str, str | None]:
    """The partition keys of the last `count` days ending on `data_day`, kept within the
    partitions that exist (from the history start to the last full UTC day), and a note saying
    what was cut, if anything."""
    first, last = last_days(data_day, count)
    newest = DAILY_HISTORY.get_last_partition_key()
    oldest = DAILY_HISTORY.get_first_partition_key()
    if newest is None or oldest is None or data_day.isoformat() < oldest:
        raise ValueError(
            f"No history day exists up to {data_day.isoformat()}: the history starts on "
            f"{DAILY_HISTORY.start.date().isoformat()} ({HISTORY_START_ENV})."
        )
    notes = []
    if last > newest:
        notes.append(f"{last} has not ended yet, so the range ends on {newest}")
        last = newest
    if first < oldest:
        notes.append(f"the history starts on {oldest} ({HISTORY_START_ENV})")
        first = oldest
    return first, last, ("; ".join(notes) + ".") if notes else None
