"""One row per (sprint, issue) the sprint tables are built from: who was in the sprint at its
start S and end C, who joined or left in between, and each issue's points and status category at
those instants.

`sprint_scope_changes` shows these rows, `sprint_commitments` sums them the way Jira's sprint
report does and `sprint_velocity` sums the completed ones per board, so the three tables can never
disagree about who was in a sprint or what it weighed. The sprint windows [S, C) come from
`issue_history.sprint_windows`, the one definition of S and C every metric table shares.

Membership follows the staging intervals, which keep an issue in a closed sprint (Jira keeps the
closed sprint in the issue's Sprint field and adds the next one when an unfinished issue is
carried over), so "in the sprint at C" is exact for closed sprints too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.sprints.thresholds import SprintThresholds
from jira_insights_pipeline.metrics.issue_history import (
    DONE,
    sprint_windows,
    utc_column,
    utc_instant,
)
from jira_insights_pipeline.metrics.timeline import values_at

# The instant "just before" an issue left a sprint: its points when it was removed are the ones
# it had then, not a value written in the same instant as the removal.
JUST_BEFORE = pd.Timedelta(microseconds=1)

SIZE_UNESTIMATED = "unestimated"
SIZE_SMALL = "small"
SIZE_MEDIUM = "medium"
SIZE_LARGE = "large"
SIZE_CLASSES = [SIZE_UNESTIMATED, SIZE_SMALL, SIZE_MEDIUM, SIZE_LARGE]

_INSTANT = "datetime64[ns, UTC]"
# Each column of the (sprint, issue) frame, in order, with the dtype it has even when empty.
FRAME_DTYPES: dict[str, object] = {
    "board_id": "Int64",
    "sprint_id": "int64",
    "sprint_name": object,
    "sprint_state": object,
    "sprint_start": _INSTANT,
    "sprint_end": _INSTANT,
    "issue_id": object,
    "issue_key": object,
    "issue_type": object,
    "entered_at": _INSTANT,
    "left_at": _INSTANT,
    "in_sprint_at_start": bool,
    "in_sprint_at_end": bool,
    "added_after_start": bool,
    "removed": bool,
    "points_at_start": float,
    "points_at_end": float,
    "estimated_at_start": bool,
    "estimated_at_end": bool,
    "done_at_end": bool,
    "completed_outside": bool,
    "committed": bool,
    "completed": bool,
    "not_completed": bool,
    "carried_over": bool,
    "growth_pct": float,
    "grew": bool,
    "size_at_start": object,
    "size_at_end": object,
    "became_large": bool,
}
FRAME_COLUMNS = list(FRAME_DTYPES)


def size_class(points: pd.Series, estimated: pd.Series, thresholds: SprintThresholds) -> pd.Series:
    """small (at most `small_max_points`), large (at least `large_min_points`), medium between,
    unestimated when the issue had no estimate."""
    sizes = np.select(
        [
            ~estimated.to_numpy(dtype=bool),
            points.to_numpy() <= thresholds.small_max_points,
            points.to_numpy() >= thresholds.large_min_points,
        ],
        [SIZE_UNESTIMATED, SIZE_SMALL, SIZE_LARGE],
        default=SIZE_MEDIUM,
    )
    return pd.Series(sizes, index=points.index, dtype=object)


def sprint_issue_frame(
    jira_sprints: pd.DataFrame,
    jira_issues: pd.DataFrame,
    jira_sprint_membership: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_status_intervals: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: SprintThresholds,
) -> pd.DataFrame:
    """One row per (sprint, issue) for every issue (sub-tasks left out) that was in a started
    sprint at its start S or entered it before its end C; columns `FRAME_COLUMNS`.

    `entered_at` is S for an issue in the sprint at S, else when it was added; `left_at` is when
    it was removed (null when it was still in the sprint at C). Points are the estimate at
    `entered_at` and at C (for a removed issue: just before it left); no estimate counts 0,
    and `estimated_at_*` tells the two apart. An issue already done when it entered the sprint
    is `completed_outside` and is neither committed, added, removed, completed nor not completed
    for Jira's sprint report (the flags `committed`, `completed`, `not_completed` say so).
    """
    as_of = utc_instant(as_of)
    periods = sprint_windows(jira_sprints, as_of)
    spans = _sprint_spans(jira_sprint_membership, jira_issues, periods)
    if spans.empty:
        return _empty_frame()
    frame = _per_sprint_issue(spans)
    frame = _points_and_status(frame, jira_estimates, jira_status_intervals)
    frame = _flags(frame, thresholds)
    frame["carried_over"] = _carried_over(frame, jira_sprint_membership, jira_sprints, as_of)
    return frame[FRAME_COLUMNS].reset_index(drop=True)


def _column(values: pd.Series) -> pd.Series:
    """`values` on a fresh 0..n-1 index, keeping its dtype (a tz-aware column turned into a NumPy
    array would become slow Python objects)."""
    return values.reset_index(drop=True)


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in FRAME_DTYPES.items()})


def _sprint_spans(
    membership: pd.DataFrame, issues: pd.DataFrame, periods: pd.DataFrame
) -> pd.DataFrame:
    """Membership intervals that overlap their sprint's window: entered before C, not left by S.
    Sub-tasks are dropped here (Jira leaves them out of sprint sums)."""
    spans = pd.DataFrame(
        {
            "issue_id": _column(membership["issue_id"].astype(str)),
            "sprint_id": _column(membership["sprint_id"].astype("int64")),
            "span_start": _column(utc_column(membership["entered_at"])),
            "span_end": _column(utc_column(membership["left_at"])),
        }
    )
    spans = spans.merge(periods, on="sprint_id", how="inner")
    overlapping = (spans["span_start"] < spans["sprint_end"]) & (
        spans["span_end"].isna() | (spans["span_end"] > spans["sprint_start"])
    )
    spans = spans.loc[overlapping]
    stories = pd.DataFrame(
        {
            "issue_id": _column(issues["issue_id"].astype(str)),
            "issue_key": _column(issues["issue_key"].astype(str)),
            "issue_type": _column(issues["issue_type"].astype(str)),
            "is_subtask": _column(issues["is_subtask"].astype(bool)),
        }
    )
    stories = stories.loc[~stories["is_subtask"]].drop(columns="is_subtask")
    return spans.merge(stories, on="issue_id", how="inner")


def _per_sprint_issue(spans: pd.DataFrame) -> pd.DataFrame:
    start, end = spans["sprint_start"], spans["sprint_end"]
    open_at_start = spans["span_end"].isna() | (spans["span_end"] > start)
    open_at_end = spans["span_end"].isna() | (spans["span_end"] > end)
    spans = spans.assign(
        _in_at_start=(spans["span_start"] <= start) & open_at_start,
        _in_at_end=(spans["span_start"] <= end) & open_at_end,
        _added_at=spans["span_start"].where(spans["span_start"] > start),
        _left_at=spans["span_end"].where(spans["span_end"].notna() & (spans["span_end"] <= end)),
    )
    keys = ["sprint_id", "issue_id"]
    firsts = ["board_id", "sprint_name", "sprint_state", "sprint_start", "sprint_end"]
    firsts += ["issue_key", "issue_type"]
    # Most issues have one span per sprint; only the few that left and came back need grouping.
    repeated = spans.duplicated(keys, keep=False).to_numpy()
    single = spans.loc[~repeated, [*keys, *firsts]].assign(
        in_sprint_at_start=spans.loc[~repeated, "_in_at_start"],
        in_sprint_at_end=spans.loc[~repeated, "_in_at_end"],
        first_added_at=spans.loc[~repeated, "_added_at"],
        last_left_at=spans.loc[~repeated, "_left_at"],
    )
    grouped = (
        spans.loc[repeated]
        .groupby(keys, sort=False)
        .agg(
            **{column: (column, "first") for column in firsts},
            in_sprint_at_start=("_in_at_start", "any"),
            in_sprint_at_end=("_in_at_end", "any"),
            first_added_at=("_added_at", "min"),
            last_left_at=("_left_at", "max"),
        )
        .reset_index()
    )
    frame = pd.concat([single, grouped], ignore_index=True) if len(grouped) else single
    frame = frame.reset_index(drop=True)
    frame[["in_sprint_at_start", "in_sprint_at_end"]] = frame[
        ["in_sprint_at_start", "in_sprint_at_end"]
    ].astype(bool)
    frame["board_id"] = frame["board_id"].astype("Int64")
    frame["entered_at"] = frame["sprint_start"].where(
        frame["in_sprint_at_start"], frame["first_added_at"]
    )
    frame["left_at"] = frame["last_left_at"].where(~frame["in_sprint_at_end"])
    frame["added_after_start"] = ~frame["in_sprint_at_start"]
    frame["removed"] = ~frame["in_sprint_at_end"]
    # The instant the issue's end-of-sprint state is read at: C, or just before it left.
    frame["_end_at"] = frame["sprint_end"].where(
        frame["in_sprint_at_end"], frame["left_at"] - JUST_BEFORE
    )
    return frame.drop(columns=["first_added_at", "last_left_at"])


def _points_and_status(
    frame: pd.DataFrame, estimates: pd.DataFrame, status_intervals: pd.DataFrame
) -> pd.DataFrame:
    count = len(frame)
    queries = pd.DataFrame(
        {
            "issue_id": np.concatenate([frame["issue_id"].to_numpy()] * 2),
            "at": pd.concat([frame["entered_at"], frame["_end_at"]], ignore_index=True),
        }
    )
    # DuckDB hands instants back in microseconds; merge_asof needs one unit on both sides.
    estimate_spans = pd.DataFrame(
        {
            "issue_id": _column(estimates["issue_id"]),
            "valid_from": _column(utc_column(estimates["valid_from"])),
            "valid_to": _column(utc_column(estimates["valid_to"])),
            "story_points": _column(estimates["story_points"].astype(float)),
        }
    )
    status_spans = pd.DataFrame(
        {
            "issue_id": _column(status_intervals["issue_id"]),
            "entered_at": _column(utc_column(status_intervals["entered_at"])),
            "left_at": _column(utc_column(status_intervals["left_at"])),
            "status_category": _column(status_intervals["status_category"].astype(object)),
        }
    )
    points = values_at(
        estimate_spans,
        queries,
        start="valid_from",
        end="valid_to",
        value_columns=["story_points"],
    )["story_points"].to_numpy(dtype=float)
    categories = values_at(
        status_spans,
        queries,
        start="entered_at",
        end="left_at",
        value_columns=["status_category"],
    )["status_category"].to_numpy(dtype=object)
    at_entry, at_end = points[:count], points[count:]
    frame["estimated_at_start"] = ~np.isnan(at_entry)
    frame["estimated_at_end"] = ~np.isnan(at_end)
    frame["points_at_start"] = np.nan_to_num(at_entry, nan=0.0)
    frame["points_at_end"] = np.nan_to_num(at_end, nan=0.0)
    frame["_done_at_entry"] = categories[:count] == DONE
    frame["done_at_end"] = (categories[count:] == DONE) & frame["in_sprint_at_end"].to_numpy()
    return frame


def _flags(frame: pd.DataFrame, thresholds: SprintThresholds) -> pd.DataFrame:
    outside = frame["_done_at_entry"]
    frame["completed_outside"] = outside
    frame["committed"] = frame["in_sprint_at_start"] & ~outside
    frame["completed"] = frame["in_sprint_at_end"] & frame["done_at_end"] & ~outside
    frame["not_completed"] = frame["in_sprint_at_end"] & ~frame["done_at_end"] & ~outside
    start = frame["points_at_start"].where(frame["points_at_start"] > 0)
    frame["growth_pct"] = (frame["points_at_end"] - start) / start * 100.0
    frame["grew"] = frame["growth_pct"].gt(thresholds.growth_pct)
    frame["size_at_start"] = size_class(
        frame["points_at_start"], frame["estimated_at_start"], thresholds
    )
    frame["size_at_end"] = size_class(frame["points_at_end"], frame["estimated_at_end"], thresholds)
    frame["became_large"] = frame["size_at_start"].eq(SIZE_SMALL) & frame["size_at_end"].eq(
        SIZE_LARGE
    )
    return frame


def _carried_over(
    frame: pd.DataFrame,
    membership: pd.DataFrame,
    jira_sprints: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.Series:
    """Whether a not-completed issue went on into a later sprint: it was, at some instant after
    C and by "as of", in another sprint that started after this one did (or has not started).

    A closed sprint without a start date (the staging parse leaves out both dates of a sprint
    that starts after it ends) is placed by its completeDate instead: Jira keeps a closed sprint
    in an unfinished issue's Sprint field, so taking an earlier closed sprint for one that has
    not started would call every unfinished issue of the sprint after it carried over."""
    carried = pd.Series(False, index=frame.index)
    unfinished = frame.loc[frame["not_completed"], ["sprint_id", "issue_id", "sprint_start"]]
    unfinished = unfinished.assign(
        _row=unfinished.index, _end=frame.loc[unfinished.index, "sprint_end"]
    )
    if unfinished.empty:
        return carried
    later = pd.DataFrame(
        {
            "issue_id": _column(membership["issue_id"].astype(str)),
            "other_sprint_id": _column(membership["sprint_id"].astype("int64")),
            "other_entered": _column(utc_column(membership["entered_at"])),
            "other_left": _column(utc_column(membership["left_at"])),
        }
    )
    later = later.loc[later["other_entered"] <= as_of]
    other_starts = pd.DataFrame(
        {
            "other_sprint_id": _column(jira_sprints["sprint_id"].astype("int64")),
            "other_start": _column(
                utc_column(jira_sprints["start_date"]).fillna(
                    utc_column(jira_sprints["complete_date"]).where(
                        jira_sprints["state"].eq("closed")
                    )
                )
            ),
        }
    )
    later = later.merge(other_starts, on="other_sprint_id", how="left")
    pairs = unfinished.merge(later, on="issue_id", how="inner")
    follows = (
        (pairs["other_sprint_id"] != pairs["sprint_id"])
        & (pairs["other_start"].isna() | (pairs["other_start"] > pairs["sprint_start"]))
        & (pairs["other_left"].isna() | (pairs["other_left"] > pairs["_end"]))
    )
    carried.loc[pairs.loc[follows, "_row"].unique()] = True
    return carried
