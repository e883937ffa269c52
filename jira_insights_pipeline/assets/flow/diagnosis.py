"""Why work got slower: the flow diagnosis.

`status_time_changes`: per board, sprint and status, the median days the issues finished in the
sprint spent in that status between their start and their finish, against the same median over
the issues finished in the board's previous `cycle_time_window` sprints (the window of the
cycle-time rule, so the cause is measured on exactly the issues the rise is). The status whose
median grew by the most days leads: it is where the extra time went.

`aged_work`: per open issue that has started (in the in-progress category at "as of"), its age
since it first started against the board's own 85th percentile cycle time over its last
`age_history_issues` finished issues (the Kanban Guide's service level expectation: most work
finishes within it, so older work is at risk). A board with fewer than `MIN_HISTORY` finished
issues has no percentile worth trusting, so the fixed `age_fallback_days` applies instead, and
the row says which.

Both are pure functions of the `cycle_times` table and the staging tables, with "as of" given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.flow.metrics import PERCENTILE
from jira_insights_pipeline.assets.flow.thresholds import FlowThresholds
from jira_insights_pipeline.metrics.issue_history import (
    DONE,
    IN_PROGRESS,
    SPRINT_COLUMNS,
    days_between,
    names_matching,
    sprint_windows,
    status_history,
    utc_column,
    utc_instant,
)

# Fewer finished issues than this make an 85th percentile that one slow issue can move by days.
MIN_HISTORY = 10
# How many issues a row of `status_time_changes` lists as the ones longest in its status.
LONGEST = 5
# Growth smaller than this many days (about a quarter of an hour) is noise, not a cause.
MIN_GROWTH_DAYS = 0.01

# What waiting in a status means, from its name (case-insensitive), first match wins. Jira knows
# only three categories, so a review or QA column is "in progress" like the work itself; names
# are all that tells them apart, in the languages sites are written in.
STATUS_KINDS: tuple[tuple[str, str], ...] = (
    ("blocked", r"block|hold|imped|bloqu|ブロック"),
    ("review", r"review|approv|pull request|\bpr\b|revis|prüf|審査|レビュー|评审|审核"),
    ("testing", r"\bqa\b|test|verif|staging|\buat\b|validat|测试|テスト"),
)


def status_kind(status: pd.Series, category: pd.Series) -> pd.Series:
    """What time in each status is: `not_started` (a To Do category status, work put back),
    `done` (a done category status left again: reopened), `blocked`, `review` or `testing` by
    name, else `working` (an in-progress status)."""
    kind = pd.Series("working", index=status.index, dtype=object)
    decided = pd.Series(False, index=status.index)
    for name, pattern in STATUS_KINDS:
        hit = names_matching(status, pattern) & ~decided
        kind[hit] = name
        decided |= hit
    kind[category.eq("new").fillna(False).to_numpy(dtype=bool)] = "not_started"
    kind[category.eq(DONE).fillna(False).to_numpy(dtype=bool)] = "done"
    return kind


def _measured(cycle_time_table: pd.DataFrame) -> pd.DataFrame:
    """The finished issues the cycle-time trend counts: in a sprint, with a start, not
    sub-tasks."""
    table = cycle_time_table.loc[
        cycle_time_table["sprint_id"].notna()
        & cycle_time_table["cycle_time_days"].notna()
        & ~cycle_time_table["is_subtask"].astype(bool)
    ]
    return pd.DataFrame(
        {
            "issue_key": table["issue_key"].astype(str),
            "sprint_id": table["sprint_id"].astype("int64"),
            "in_progress_at": utc_column(table["in_progress_at"]),
            "done_at": utc_column(table["done_at"]),
        }
    ).reset_index(drop=True)


def status_days(
    cycle_time_table: pd.DataFrame, status_intervals: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Per finished issue (of `_measured`) and status: the days it held that status between its
    start and its finish (columns issue_key, sprint_id, status, status_category, days). The days
    of one issue add up to its cycle time; statuses it did not hold in that time have no row."""
    finished = _measured(cycle_time_table)
    history = status_history(status_intervals, as_of)
    history["left_at"] = history["left_at"].fillna(utc_instant(as_of))
    spans = history.merge(finished, on="issue_key")
    begin = spans["entered_at"].where(
        spans["entered_at"] > spans["in_progress_at"], spans["in_progress_at"]
    )
    end = spans["left_at"].where(spans["left_at"] < spans["done_at"], spans["done_at"])
    spans["days"] = days_between(begin, end).clip(lower=0.0)
    spans = spans.loc[spans["days"] > 0]
    categories = (
        spans.dropna(subset=["status_category"])
        .drop_duplicates("status")
        .set_index("status")["status_category"]
    )
    days = spans.groupby(["issue_key", "sprint_id", "status"], as_index=False)["days"].sum()
    days["status_category"] = days["status"].map(categories)
    return days[["issue_key", "sprint_id", "status", "status_category", "days"]]


def _earlier_sprints(windows: pd.DataFrame, window: int) -> pd.DataFrame:
    """Each sprint with its board's `window` sprints before it (sprint_id, earlier_sprint_id),
    for sprints that have that many (the rule compares nothing before that)."""
    order = windows[["board_id", "sprint_id", "sprint_order"]]
    pairs = pd.concat(
        [
            order.assign(sprint_order=order["sprint_order"] + back).rename(
                columns={"sprint_id": "earlier_sprint_id"}
            )
            for back in range(1, window + 1)
        ],
        ignore_index=True,
    ).merge(order, on=["board_id", "sprint_order"])
    # A sprint with fewer earlier sprints than the window is compared with nothing, as the
    # cycle-time rule does, so the two never judge a sprint on different grounds.
    return pairs.loc[pairs["sprint_order"] >= window, ["sprint_id", "earlier_sprint_id"]]


def _medians(matrix: pd.DataFrame, groups: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per group, each status's median days (over every issue of the group, 0 for an issue that
    never held it) and how many issues held it."""
    grouped = matrix.groupby(groups.to_numpy())
    return grouped.median(), (matrix > 0).groupby(groups.to_numpy()).sum()


def status_time_changes(
    cycle_time_table: pd.DataFrame,
    status_intervals: pd.DataFrame,
    sprints: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: FlowThresholds,
) -> pd.DataFrame:
    """One row per board, sprint (started by `as_of`, with finished issues) and status held by
    its finished issues or by those of the board's previous `cycle_time_window` sprints: the
    median days in that status per finished issue now and before, the change in days and as a
    ratio, and `leading` for the one status per sprint whose median grew by the most days.

    An issue that never held a status spent 0 days there, so the median is over every finished
    issue and a status only a few issues passed through cannot lead by the delay of those few.
    Done statuses (time between a first and a last finish) are listed but never lead: a reopened
    issue's wait is not a step of the workflow to fix. `longest_keys`/`longest_days` name the
    sprint's issues that spent longest in the status.
    """
    as_of = utc_instant(as_of)
    days = status_days(cycle_time_table, status_intervals, as_of)
    windows = sprint_windows(sprints, as_of).dropna(subset=["board_id"]).reset_index(drop=True)
    windows["sprint_order"] = windows.groupby("board_id").cumcount()
    finished = _measured(cycle_time_table)[["issue_key", "sprint_id"]]
    finished = finished.loc[finished["sprint_id"].isin(windows["sprint_id"])].reset_index(drop=True)
    columns = [
        "as_of",
        *SPRINT_COLUMNS,
        "status",
        "status_category",
        "status_kind",
        "finished_issues",
        "issues_in_status",
        "median_days",
        "previous_finished_issues",
        "previous_issues_in_status",
        "previous_median_days",
        "change_days",
        "change_ratio",
        "leading",
        "longest_keys",
        "longest_days",
    ]
    if finished.empty or days.empty:
        return pd.DataFrame(columns=columns)

    # One row per finished issue, one column per status: the days it held it (0 if none).
    matrix = (
        days.pivot_table(index="issue_key", columns="status", values="days", aggfunc="sum")
        .reindex(finished["issue_key"])
        .fillna(0.0)
    )
    matrix.columns = matrix.columns.astype(str)
    matrix = matrix.reset_index(drop=True)
    now_median, now_held = _medians(matrix, finished["sprint_id"])
    now_count = finished.groupby("sprint_id").size()

    earlier = _earlier_sprints(windows, thresholds.cycle_time_window)
    pooled = earlier.merge(
        finished.reset_index().rename(columns={"sprint_id": "earlier_sprint_id"}),
        on="earlier_sprint_id",
    )
    before_matrix = matrix.iloc[pooled["index"].to_numpy()].reset_index(drop=True)
    before_median, before_held = _medians(before_matrix, pooled["sprint_id"])
    before_count = pooled.groupby("sprint_id").size()

    def long_form(frame: pd.DataFrame, name: str) -> pd.Series:
        return frame.stack().rename(name)

    table = pd.concat(
        [
            long_form(now_median, "median_days"),
            long_form(now_held, "issues_in_status"),
            long_form(before_median, "previous_median_days"),
            long_form(before_held, "previous_issues_in_status"),
        ],
        axis=1,
    )
    table.index = table.index.set_names(["sprint_id", "status"])
    table = table.reset_index()
    # Only sprints with finished issues of their own, and only statuses held in the sprint or
    # in its window (the others belong to other boards' workflows).
    table = table.loc[table["sprint_id"].isin(now_count.index)]
    held = table["issues_in_status"].fillna(0).gt(0) | table["previous_issues_in_status"].fillna(
        0
    ).gt(0)
    table = table.loc[held].copy()
    table["finished_issues"] = table["sprint_id"].map(now_count).astype("int64")
    has_window = table["sprint_id"].isin(before_count.index)
    table["previous_finished_issues"] = table["sprint_id"].map(before_count).astype("Int64")
    table["previous_median_days"] = table["previous_median_days"].where(has_window)
    table["previous_issues_in_status"] = (
        table["previous_issues_in_status"].where(has_window).astype("Int64")
    )
    table["issues_in_status"] = table["issues_in_status"].fillna(0).astype("int64")
    table["change_days"] = table["median_days"] - table["previous_median_days"]
    table["change_ratio"] = (table["median_days"] / table["previous_median_days"]).where(
        table["previous_median_days"] > 0
    )

    categories = days.drop_duplicates("status").set_index("status")["status_category"]
    table["status_category"] = table["status"].map(categories)
    table["status_kind"] = status_kind(table["status"], table["status_category"]).to_numpy()

    # The leading status: the largest growth in days among statuses that are steps of the
    # workflow (not done); ties go to the status named first, so the choice never depends on
    # the order rows were computed in.
    candidates = table.loc[
        table["change_days"].gt(MIN_GROWTH_DAYS) & ~table["status_category"].eq(DONE).fillna(False)
    ].sort_values(["sprint_id", "change_days", "status"], ascending=[True, False, True])
    leaders = candidates.drop_duplicates("sprint_id").index
    table["leading"] = table.index.isin(leaders)

    longest = days.loc[days["sprint_id"].isin(table["sprint_id"])].sort_values(
        ["sprint_id", "status", "days", "issue_key"], ascending=[True, True, False, True]
    )
    longest = longest.groupby(["sprint_id", "status"], sort=False).head(LONGEST)
    listed = longest.groupby(["sprint_id", "status"], sort=False).agg(
        longest_keys=("issue_key", list), longest_days=("days", lambda d: [float(x) for x in d])
    )
    table = table.join(listed, on=["sprint_id", "status"])
    for column in ("longest_keys", "longest_days"):
        table[column] = table[column].map(lambda value: value if isinstance(value, list) else [])

    table = table.merge(windows[SPRINT_COLUMNS], on="sprint_id")
    table.insert(0, "as_of", as_of)
    table = table.sort_values(
        ["board_id", "sprint_start", "sprint_id", "change_days", "status"],
        ascending=[True, True, True, False, True],
        na_position="last",
    )
    return table.reset_index(drop=True)[columns]


def _team_percentiles(
    cycle_time_table: pd.DataFrame, as_of: pd.Timestamp, thresholds: FlowThresholds
) -> pd.DataFrame:
    """Per board: how many issues the percentile is over (its last `age_history_issues`
    finished issues by `as_of`, sub-tasks left out) and their 85th percentile cycle time."""
    finished = cycle_time_table.loc[
        cycle_time_table["board_id"].notna()
        & cycle_time_table["cycle_time_days"].notna()
        & ~cycle_time_table["is_subtask"].astype(bool)
    ]
    finished = pd.DataFrame(
        {
            "board_id": finished["board_id"].astype("int64"),
            "done_at": utc_column(finished["done_at"]),
            "issue_key": finished["issue_key"].astype(str),
            "cycle_time_days": finished["cycle_time_days"].astype(float),
        }
    )
    finished = finished.loc[finished["done_at"] <= as_of]
    last = (
        finished.sort_values(["board_id", "done_at", "issue_key"], ascending=[True, False, True])
        .groupby("board_id", sort=False)
        .head(thresholds.age_history_issues)
    )
    grouped = last.groupby("board_id")["cycle_time_days"]
    return pd.DataFrame(
        {"history_issues": grouped.size(), "team_p85_days": grouped.quantile(PERCENTILE)}
    )


def aged_work(
    issues: pd.DataFrame,
    status_intervals: pd.DataFrame,
    cycle_time_table: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: FlowThresholds,
) -> pd.DataFrame:
    """One row per issue of a board (sub-tasks left out) in the in-progress category at `as_of`:
    when it first entered that category, its age in days since then, the limit its age is held
    against and where that comes from (`team_p85`: the 85th percentile cycle time of the board's
    last `age_history_issues` finished issues; `fixed`: `age_fallback_days`, when the board has
    fewer than `MIN_HISTORY` of them), and `over_limit` (older than the limit). Oldest first.

    The age counts from the first start, as cycle time does, so work sent back and restarted
    keeps the time it already took.
    """
    as_of = utc_instant(as_of)
    history = status_history(status_intervals, as_of)
    in_progress = history["status_category"].eq(IN_PROGRESS).fillna(False).to_numpy(dtype=bool)
    started = history.loc[in_progress].groupby("issue_id", sort=False)["entered_at"].min()
    current = history.groupby("issue_id", sort=False).tail(1).set_index("issue_id")
    open_now = current.loc[current["status_category"].eq(IN_PROGRESS).fillna(False)]

    details = issues.loc[issues["board_id"].notna() & ~issues["is_subtask"].astype(bool)]
    rows = pd.DataFrame(
        {
            "issue_id": details["issue_id"].astype(str),
            "board_id": details["board_id"].astype("int64"),
            "issue_key": details["issue_key"].astype(str),
            "issue_type": details["issue_type"].astype(str),
            "summary": details["summary"],
        }
    )
    rows = rows.loc[rows["issue_id"].isin(open_now.index)]
    rows["status"] = rows["issue_id"].map(open_now["status"])
    rows["started_at"] = utc_column(rows["issue_id"].map(started))
    rows["age_days"] = days_between(rows["started_at"], as_of).astype(float)

    teams = _team_percentiles(cycle_time_table, as_of, thresholds)
    rows = rows.join(teams, on="board_id")
    rows["history_issues"] = rows["history_issues"].fillna(0).astype("int64")
    trusted = rows["history_issues"] >= MIN_HISTORY
    rows["limit_source"] = np.where(trusted, "team_p85", "fixed")
    rows["limit_days"] = (
        rows["team_p85_days"].where(trusted, thresholds.age_fallback_days).astype(float)
    )
    rows["over_limit"] = rows["age_days"] > rows["limit_days"]
    rows.insert(0, "as_of", as_of)
    rows = rows.sort_values(["board_id", "age_days", "issue_key"], ascending=[True, False, True])
    return rows.reset_index(drop=True)[
        [
            "as_of",
            "board_id",
            "issue_key",
            "issue_type",
            "summary",
            "status",
            "started_at",
            "age_days",
            "history_issues",
            "limit_source",
            "limit_days",
            "over_limit",
        ]
    ]
