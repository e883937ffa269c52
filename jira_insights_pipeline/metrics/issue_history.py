"""Building blocks the issue metric tables share: sprint windows, the sprint an instant falls in,
status "runs" (an unbroken stay in one status category) and the union of intervals.

All of them are vectorised over whole staging tables, and all take the "as of" instant
explicitly: nothing that happened after it is seen, so an earlier "as of" gives the tables as they
would have been computed on that day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ONE_DAY = pd.Timedelta(days=1)
# The columns, in this order, that every per-sprint metric table starts with.
SPRINT_COLUMNS = [
    "board_id",
    "sprint_id",
    "sprint_name",
    "sprint_state",
    "sprint_start",
    "sprint_end",
]
IN_PROGRESS = "indeterminate"
DONE = "done"
# Issue types are matched by name (case-insensitive, anywhere in the name: "User Story"), with
# the names Jira gives the type in its common languages, since a site's type names follow its
# language (DevLake's Chinese site calls a story 故事).
STORY_TYPE_PATTERN = r"story|stories|histoire|historia|故事|ストーリー"
# Bug types likewise: "Bug", "Defect", "Production Bug", and the names in common languages (缺陷).
BUG_TYPE_PATTERN = r"bug|defect|fehler|bogue|anomalie|缺陷|故障|バグ"


def utc_instant(value: pd.Timestamp | str) -> pd.Timestamp:
    """`value` as a nanosecond UTC timestamp (naive values are taken to be UTC)."""
    instant = pd.Timestamp(value)
    instant = instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")
    return instant.as_unit("ns")


def utc_column(values: pd.Series) -> pd.Series:
    """A column of instants as `datetime64[ns, UTC]`, whatever precision or zone name it was read
    back with (DuckDB returns microseconds in `Etc/UTC`), so columns from different tables can
    be compared and merged."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.as_unit("ns")
    return pd.to_datetime(values, utc=True).dt.as_unit("ns")


def days_between(start: pd.Series, end: pd.Series | pd.Timestamp) -> pd.Series:
    """Exact elapsed days (fractional) from `start` to `end`, both UTC, so daylight-saving
    changes in the site's time zone never add or remove an hour."""
    return (end - start) / ONE_DAY


def closed_by(sprints: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Which sprints (rows of the staging jira_sprints) were closed by `as_of`: the one
    definition of "closed as of". A sprint Jira calls closed counts from when it was completed
    (`completeDate`, else its `endDate`; from the start when it has neither); any sprint with a
    `completeDate` at or before `as_of` counts as closed, whatever its state says now. So an
    earlier "as of" sees a sprint closed later as still running."""
    complete = utc_column(sprints["complete_date"])
    is_closed = sprints["state"].eq("closed")
    closed_at = closed_at_of(sprints).where(is_closed)
    closed = is_closed & (closed_at.isna() | (closed_at <= as_of))
    return (closed | (complete.notna() & (complete <= as_of))).astype(bool)


def closed_at_of(sprints: pd.DataFrame) -> pd.Series:
    """When each sprint closed: `completeDate`, else its `endDate`, else its `startDate` (a
    closed sprint with no end at all ends where it began, so its window never moves with
    "as of"); null for a sprint with none of the three."""
    complete = utc_column(sprints["complete_date"])
    end = utc_column(sprints["end_date"])
    return complete.fillna(end).fillna(utc_column(sprints["start_date"]))


def sprint_windows(sprints: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per sprint that had started by `as_of`: its board, name, state at "as of"
    (`closed_by`) and window [S, C).

    S is `startDate`; C is when it closed (`completeDate`, else `endDate`) for a sprint closed by
    "as of", else "as of" itself for a sprint still running; C is capped at "as of". Future
    sprints (never started) have no window.
    """
    as_of = utc_instant(as_of)
    start = utc_column(sprints["start_date"])
    started = sprints["state"].isin(["active", "closed"]) & start.notna() & (start <= as_of)
    closed = closed_by(sprints, as_of)
    closed_at = closed_at_of(sprints).where(closed)
    sprint_end = closed_at.fillna(as_of).clip(upper=as_of)
    windows = pd.DataFrame(
        {
            "sprint_id": sprints["sprint_id"].astype("int64"),
            "board_id": sprints["board_id"].astype("Int64"),
            "sprint_name": sprints["name"].astype(str),
            "sprint_state": np.where(closed, "closed", "active"),
            "sprint_start": start,
            "sprint_end": sprint_end,
        }
    )
    windows = windows.loc[started.to_numpy()]
    return windows.sort_values(["board_id", "sprint_start", "sprint_id"]).reset_index(drop=True)


def latest_closed_sprints(table: pd.DataFrame) -> pd.DataFrame:
    """Per board, the sprint closed last by "as of": the one definition every check, insight,
    alert and report figure uses. Rows of a per-sprint table (a table without `sprint_state`
    holds closed sprints only), in the table's order; "last" is by sprint end, then start,
    then id. A running sprint's first finished issues are mostly ones carried over from the
    sprint before, so figures of a finished sprint are judged on this one."""
    closed = (
        table
        if "sprint_state" not in table.columns
        else table.loc[table["sprint_state"].eq("closed")]
    )
    order = [column for column in ("sprint_end", "sprint_start") if column in table.columns]
    latest = (
        closed.sort_values([*order, "sprint_id"], kind="stable")
        .groupby("board_id", dropna=False, sort=False)
        .tail(1)
    )
    return table.loc[table.index.isin(latest.index)]


def recent_sprints(table: pd.DataFrame) -> pd.DataFrame:
    """The sprints a Scrum Master acts on now: per board, the active sprint(s) and the one closed
    last (rows of a per-sprint table, in its order). The threshold checks judge these, so an old
    sprint stays in the table as history but no longer raises an alert."""
    latest_closed = table.index.isin(latest_closed_sprints(table).index)
    return table.loc[latest_closed | table["sprint_state"].eq("active").to_numpy()]


def sprint_containing(
    events: pd.DataFrame, windows: pd.DataFrame, *, at: str, board: str = "board_id"
) -> pd.DataFrame:
    """For each event (a `board` and an instant `at`), the sprint of that board whose window
    [S, C) contains the instant: adds `sprint_id` (nullable) and `sprint_name`.

    Where a board ran sprints in parallel, the one that started last wins, so every event gets
    at most one sprint. Returns `events` with the two columns added, same index and order.
    """
    result = events.copy()
    result["sprint_id"] = pd.array([pd.NA] * len(result), dtype="Int64")
    result["sprint_name"] = pd.Series([None] * len(result), index=result.index, dtype=object)
    usable = result[board].notna() & result[at].notna()
    if not usable.any() or windows.empty:
        return result
    queries = pd.DataFrame(
        {
            "_row": result.index[usable.to_numpy()],
            "_board": result.loc[usable, board].astype("int64").to_numpy(),
            "_at": utc_column(result.loc[usable, at]).array,
        }
    )
    right = windows.dropna(subset=["board_id"]).assign(
        _board=lambda w: w["board_id"].astype("int64")
    )[["_board", "sprint_id", "sprint_name", "sprint_start", "sprint_end"]]
    # Fast path: the latest sprint of the board that started at or before the instant.
    nearest = pd.merge_asof(
        queries.sort_values("_at", kind="stable"),
        right.sort_values("sprint_start", kind="stable"),
        left_on="_at",
        right_on="sprint_start",
        by="_board",
        direction="backward",
    )
    inside = nearest["sprint_start"].notna() & (nearest["_at"] < nearest["sprint_end"])
    found = nearest.loc[inside, ["_row", "sprint_id", "sprint_name"]]
    # The latest-starting sprint may have ended while an earlier, longer one still runs: look
    # those few events up against every window of their board.
    missed = queries.loc[queries["_row"].isin(nearest.loc[~inside, "_row"])]
    if not missed.empty:
        candidates = missed.merge(right, on="_board")
        candidates = candidates.loc[
            (candidates["sprint_start"] <= candidates["_at"])
            & (candidates["_at"] < candidates["sprint_end"])
        ]
        candidates = candidates.sort_values(["_row", "sprint_start", "sprint_id"])
        candidates = candidates.drop_duplicates("_row", keep="last")
        found = pd.concat([found, candidates[["_row", "sprint_id", "sprint_name"]]])
    found = found.set_index("_row")
    result.loc[found.index, "sprint_id"] = found["sprint_id"].astype("Int64")
    result.loc[found.index, "sprint_name"] = found["sprint_name"]
    return result


def names_matching(names: pd.Series, pattern: str) -> pd.Series:
    """Which names (issue types, statuses) contain `pattern` (a case-insensitive regex); null
    names never match. The regex runs once per distinct name, not once per row."""
    codes, distinct = pd.factorize(names.astype(object))
    hits = (
        pd.Series(distinct, dtype=object).astype(str).str.contains(pattern, case=False, regex=True)
    )
    # Code -1 (a null name) picks the appended False.
    lookup = np.append(hits.to_numpy(dtype=bool), False)
    return pd.Series(lookup[codes], index=names.index)


def instants_as_int(values: pd.Series) -> np.ndarray:
    """UTC instants as int64 nanoseconds (NaT as the smallest int64), for fast sorting."""
    return utc_column(values).array.asi8


def order_by_issue(frame: pd.DataFrame, issue: str, *instants: str) -> pd.DataFrame:
    """`frame` sorted by issue, then by the given instant columns, stably (rows that tie keep
    their order, which staging sets within an instant). Issues are grouped by an integer code
    instead of compared as strings, which is several times faster at a million rows."""
    codes, _ = pd.factorize(frame[issue])
    keys = [instants_as_int(frame[column]) for column in reversed(instants)]
    return frame.iloc[np.lexsort([*keys, codes])]


def status_history(status_intervals: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The status intervals entered at or before `as_of`, in order per issue, with an interval
    still open at "as of" given a null `left_at` and a `position` (0, 1, ... per issue).

    Ties in `entered_at` (several transitions in one instant) keep a zero-length interval before
    the one that lasted, so the last row of an issue is its status at "as of".
    """
    as_of = utc_instant(as_of)
    history = pd.DataFrame(
        {
            "issue_id": status_intervals["issue_id"].astype(str),
            "issue_key": status_intervals["issue_key"].astype(str),
            "status": status_intervals["status"].astype(str),
            "status_category": status_intervals["status_category"].astype(object),
            "entered_at": utc_column(status_intervals["entered_at"]),
            "left_at": utc_column(status_intervals["left_at"]),
        }
    )
    history = history.loc[history["entered_at"] <= as_of]
    history["left_at"] = history["left_at"].where(history["left_at"] <= as_of)
    # An open interval sorts after a closed one entered in the same instant.
    left = history["left_at"].array.asi8.copy()
    left[history["left_at"].isna().to_numpy()] = np.iinfo(np.int64).max
    codes, _ = pd.factorize(history["issue_id"])
    order = np.lexsort([left, history["entered_at"].array.asi8, codes])
    history = history.iloc[order].reset_index(drop=True)
    history["position"] = history.groupby("issue_id", sort=False).cumcount()
    return history


def current_run_start(history: pd.DataFrame, category: str) -> pd.DataFrame:
    """For each issue whose status at "as of" is in `category`: when it last entered that
    category (moves between two statuses of the same category do not re-enter it), and how many
    times it has entered it.

    `history` comes from `status_history`. A status of unknown category breaks a run, since it
    cannot be shown to belong to it. Returns columns `issue_id`, `run_start`, `entries`.
    """
    in_category = history["status_category"].eq(category).fillna(False).to_numpy(dtype=bool)
    last_row = history.groupby("issue_id", sort=False)["position"].transform("max")
    now_in_category = (
        pd.Series(in_category & (history["position"] == last_row).to_numpy(), index=history.index)
        .groupby(history["issue_id"], sort=False)
        .transform("any")
    )
    previous_in = (
        pd.Series(in_category, index=history.index)
        .groupby(history["issue_id"], sort=False)
        .shift(1, fill_value=False)
        .astype(bool)
    )
    entry = pd.Series(in_category, index=history.index) & ~previous_in
    entries = history.loc[entry & now_in_category, ["issue_id", "entered_at"]]
    grouped = entries.groupby("issue_id", sort=False)["entered_at"]
    return pd.DataFrame({"run_start": grouped.max(), "entries": grouped.size()}).reset_index()


def union_length(
    intervals: pd.DataFrame, *, key: str, start: str, end: str, as_of: pd.Timestamp
) -> pd.Series:
    """Total time covered by the union of each key's intervals up to `as_of`, as a Series of
    days indexed by key. Open ends (null) run to "as of"; overlapping intervals count once."""
    as_of = utc_instant(as_of)
    frame = pd.DataFrame(
        {
            "key": intervals[key].to_numpy(),
            "start": utc_column(intervals[start]).array,
            "end": utc_column(intervals[end]).fillna(as_of).clip(upper=as_of).array,
        }
    )
    frame = frame.loc[frame["start"] < frame["end"]]
    if frame.empty:
        return pd.Series(dtype=float, name="days")
    frame = order_by_issue(frame, "key", "start").reset_index(drop=True)
    reach = frame.groupby("key", sort=False)["end"].cummax()
    reach_before = reach.groupby(frame["key"], sort=False).shift(1)
    starts_block = reach_before.isna() | (frame["start"] > reach_before)
    frame["block"] = starts_block.cumsum()
    blocks = frame.groupby(["key", "block"], sort=False).agg(
        start=("start", "min"), end=("end", "max")
    )
    blocks["days"] = days_between(blocks["start"], blocks["end"])
    return blocks.groupby(level="key", sort=False)["days"].sum().rename("days")
