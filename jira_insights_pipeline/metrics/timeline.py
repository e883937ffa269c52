"""Point-in-time lookups on the staging interval tables.

Every metric asks "what was true at instant T" (an issue's points at sprint start, its status
category when a bug was filed, its sprints at sprint end). The staging tables hold the answers as
intervals `[start, end)` with a null end meaning "still so"; these functions answer many such
questions at once, vectorised, so the metric tables stay fast at 100k issues.
"""

from __future__ import annotations

import pandas as pd


def values_at(
    intervals: pd.DataFrame,
    queries: pd.DataFrame,
    *,
    start: str,
    end: str,
    value_columns: list[str],
    key: str = "issue_id",
    at: str = "at",
) -> pd.DataFrame:
    """For each query row (`key`, `at`), the values of the interval of that key containing `at`.

    `intervals` holds at most one interval per key at any instant (status, estimate). Returns
    `queries` with `value_columns` added, in the same order and index; a query that falls in no
    interval (before the first, or in a gap) gets nulls. Interval ends are exclusive, so a value
    that changed exactly at `at` is the new value.
    """
    result = queries.copy()
    if result.empty or intervals.empty:
        for column in value_columns:
            result[column] = pd.Series(
                [None] * len(result), index=result.index, dtype=_null_dtype(intervals, column)
            )
        return result
    left = result[[key, at]].reset_index(names="_query_row")
    # merge_asof needs both sides in one resolution; DuckDB hands back microseconds.
    left["_at"] = pd.to_datetime(left[at], utc=True).dt.as_unit("ns")
    left = left.sort_values("_at", kind="stable")
    right = intervals[[key, start, end, *value_columns]].copy()
    right["_start"] = pd.to_datetime(right[start], utc=True).dt.as_unit("ns")
    right["_end"] = pd.to_datetime(right[end], utc=True).dt.as_unit("ns")
    right = right.sort_values("_start", kind="stable").drop(columns=[start, end])
    # `key` is shared by both sides; merge_asof matches within it.
    right_key = right.rename(columns={key: "_key"})
    left_key = left.rename(columns={key: "_key"})
    left_key["_key"] = left_key["_key"].astype(str)
    right_key["_key"] = right_key["_key"].astype(str)
    merged = pd.merge_asof(
        left_key,
        right_key,
        left_on="_at",
        right_on="_start",
        by="_key",
        direction="backward",
        allow_exact_matches=True,
    )
    outside = merged["_start"].isna() | (merged["_end"].notna() & (merged["_end"] <= merged["_at"]))
    for column in value_columns:
        merged[column] = merged[column].mask(outside)
    merged = merged.set_index("_query_row").sort_index()
    for column in value_columns:
        result[column] = merged[column].to_numpy()
    return result


def _null_dtype(intervals: pd.DataFrame, column: str) -> object:
    if column in intervals.columns:
        return intervals[column].dtype
    return object


def resolve_as_of(exported_at: pd.Timestamp | str, override: str | None = None) -> pd.Timestamp:
    """The instant every figure is computed at: `override` (JIRA_INSIGHTS_AS_OF) when given,
    else the snapshot's `exported_at`. Never the wall clock, so a snapshot gives the same tables
    on any day."""
    raw = override if override else exported_at
    try:
        instant = pd.Timestamp(raw)
    except ValueError as error:
        raise ValueError(
            f"JIRA_INSIGHTS_AS_OF={raw!r} is not an ISO-8601 instant; "
            "write it as e.g. 2026-11-20T09:00:00+00:00."
        ) from error
    if instant.tzinfo is None:
        raise ValueError(
            f"'as of' instant {raw!r} has no UTC offset; "
            "write it as e.g. 2026-11-20T09:00:00+00:00."
        )
    return instant.tz_convert("UTC")
