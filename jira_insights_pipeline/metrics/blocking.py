"""When an issue was blocked, rebuilt from Jira's history: the one definition the team-health
and spillover figures share.

Teams mark a blocker either way, so blocked time is the union of two kinds of interval: the
Flagged field ("Impediment" set, cleared to "" or null), replayed from the changelog, and a
status whose name says blocked or on hold ("Blocked", "On Hold", "Blocked / On Hold").
"""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.metrics.issue_history import names_matching, order_by_issue, utc_column

BLOCKED_STATUS_PATTERN = r"block|on[\s_-]*hold"


def flagged_intervals(changelog: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """One row per interval during which an issue was Flagged: `issue_id`, `start`, `end` (null:
    still flagged).

    Rebuilt from the changelog items with field_role "flagged": a non-empty `to_string`
    ("Impediment") sets the flag, "" or null clears it. The current `flagged` column of jira_issues
    settles the final state where the history is silent: flagged with no recorded setting (set on
    creation, or a history Jira did not keep) opens an interval at the last recorded flag change,
    else at creation; not flagged while the history ends flagged closes it at the issue's last
    update, the latest instant the clearing can have happened.
    """
    items = changelog.loc[
        changelog["field_role"].eq("flagged").fillna(False).to_numpy(dtype=bool),
        ["issue_id", "created", "to_string"],
    ].copy()
    items["issue_id"] = items["issue_id"].astype(str)
    items["created"] = utc_column(items["created"])
    items["set"] = names_matching(items["to_string"], r"\S")
    # Staging orders items within an instant; a stable sort keeps that order.
    items = order_by_issue(items, "issue_id", "created")
    was_set = items.groupby("issue_id", sort=False)["set"].shift(1, fill_value=False).astype(bool)
    changes = items.loc[items["set"] != was_set]
    next_change = changes.groupby("issue_id", sort=False)["created"].shift(-1)
    intervals = pd.DataFrame(
        {
            "issue_id": changes["issue_id"],
            "start": changes["created"],
            "end": next_change,
        }
    ).loc[changes["set"].to_numpy()]

    final_state = changes.groupby("issue_id", sort=False)["set"].last()
    last_change = items.groupby("issue_id", sort=False)["created"].max()
    current = pd.DataFrame(
        {
            "issue_id": issues["issue_id"].astype(str).to_numpy(),
            "flagged": issues["flagged"].fillna(False).astype(bool).to_numpy(),
            "created": utc_column(issues["created"]).array,
            "updated": utc_column(issues["updated"]).array,
        }
    )
    current["history_says"] = (
        current["issue_id"].map(final_state).astype("boolean").fillna(False).astype(bool)
    )
    unrecorded_set = current.loc[current["flagged"] & ~current["history_says"]]
    opened = pd.DataFrame(
        {
            "issue_id": unrecorded_set["issue_id"],
            "start": unrecorded_set["issue_id"].map(last_change).fillna(unrecorded_set["created"]),
            "end": pd.Series(pd.NaT, index=unrecorded_set.index, dtype="datetime64[ns, UTC]"),
        }
    )
    unrecorded_clear = current.loc[~current["flagged"] & current["history_says"]]
    close_at = unrecorded_clear.set_index("issue_id")["updated"]
    still_open = intervals["end"].isna() & intervals["issue_id"].isin(close_at.index)
    intervals.loc[still_open, "end"] = intervals.loc[still_open, "issue_id"].map(close_at)
    result = pd.concat([intervals, opened], ignore_index=True)
    result["start"] = utc_column(result["start"])
    result["end"] = utc_column(result["end"])
    return order_by_issue(result, "issue_id", "start").reset_index(drop=True)


def blocked_intervals(
    changelog: pd.DataFrame, issues: pd.DataFrame, status_intervals: pd.DataFrame
) -> pd.DataFrame:
    """Flagged intervals and intervals in a status named like "Blocked", as (`issue_id`,
    `start`, `end`, `reason`); they may overlap."""
    flagged = flagged_intervals(changelog, issues).assign(reason="flagged")
    named_blocked = names_matching(status_intervals["status"], BLOCKED_STATUS_PATTERN)
    in_status = status_intervals.loc[named_blocked.to_numpy()]
    by_status = pd.DataFrame(
        {
            "issue_id": in_status["issue_id"].astype(str),
            "start": utc_column(in_status["entered_at"]),
            "end": utc_column(in_status["left_at"]),
            "reason": "status",
        }
    )
    return pd.concat([flagged, by_status], ignore_index=True)
