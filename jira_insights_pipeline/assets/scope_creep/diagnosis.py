"""Why a sprint's scope grew: the scope-creep diagnosis behind a scope-creep insight.

`growth_causes` takes every grown story of the sprint ledger (an estimated committed story,
`estimated_committed_stories`, whose `grew` is set: points at the end C above points at the
start S by more than the ledger's `growth_pct`) and reads, from `jira_estimates` and the
changelog, what happened to it:

- the re-estimate: the first upward estimate change inside the sprint, after S and by C (or by
  just before the story left the sprint), with the points it went from and to and how many days
  after S it came. "Upward" compares with the last estimate the story had, so clearing the
  estimate and setting a larger one counts as one upward change;
- the refinement gap: whether the story's acceptance criteria (their length, measured by
  `metrics/acceptance_history.py` as the ledger measures them) were longer at the re-estimate
  than at the start of the criteria window, with the instant of the last change that lengthened
  them and the lengths at both ends. The criteria window opens at the later of two instants:
  `criteria_lookback_days` before S (criteria that grew between sprint planning and the start
  of the sprint in Jira, such as a Friday planning for a Monday start, were not in the estimate
  the team committed to either) and the story's last estimate change at or before S (criteria
  that grew before the story was last estimated are in that estimate, so they cannot explain a
  later re-estimate). It closes at the re-estimate, inclusive: criteria edited in the same
  history as the new estimate count.

`sprint_scope_causes` sums them per started sprint and adds the work added after the start as a
share of the sprint's final scope. The final scope is every issue of the ledger (sub-tasks left
out) in the sprint at C, leaving out issues already done when they entered it (Jira's sprint
report counts those nowhere), at their points at C; the added work is the part of it that
entered after S, and of it the bugs (by issue type, as every use case tells bugs: what a
drop in points cites when the added work was bug fixing). Both sides are read at C, so the share
is a part of a whole: an issue added and removed again is in neither. The largest cause is
decided here once, in points: the points the refinement-gap stories grew by (points at C minus
points at S) against the points at C of the added work; the larger one leads when it is above
zero, a tie going to the refinement gap (the cause a team can act on before planning).
Unestimated added work weighs 0 points, as in Jira's sprint report; its issue share still
shows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds
from jira_insights_pipeline.assets.sprints.commitments import estimated_committed_stories
from jira_insights_pipeline.assets.sprints.sprint_frame import JUST_BEFORE
from jira_insights_pipeline.metrics.acceptance_history import (
    TEXT_ROLES,
    acceptance_criteria_lengths_at,
)
from jira_insights_pipeline.metrics.issue_history import (
    BUG_TYPE_PATTERN,
    SPRINT_COLUMNS,
    names_matching,
    utc_column,
    utc_instant,
)

REFINEMENT_GAP = "refinement_gap"
ADDED_LATE = "added_late"
NO_CAUSE = "none"
# Tie order: what the team can act on before planning first, then what arrives during the sprint.
CAUSES = [REFINEMENT_GAP, ADDED_LATE]
CAUSE_VALUES = [*CAUSES, NO_CAUSE]
# How an insight's facts name each cause (the `largest_cause` fact the wording reads).
CAUSE_LABELS = {
    REFINEMENT_GAP: "acceptance criteria grown before the re-estimate",
    ADDED_LATE: "work added after the start",
}

GROWTH_CAUSE_COLUMNS = [
    *SPRINT_COLUMNS,
    "issue_key",
    "issue_id",
    "issue_type",
    "points_at_start",
    "points_at_end",
    "growth_points",
    "growth_pct",
    "reestimated_at",
    "reestimate_from_points",
    "reestimate_to_points",
    "reestimate_days_after_start",
    "criteria_window_start",
    "criteria_length_before",
    "criteria_length_at_reestimate",
    REFINEMENT_GAP,
    "criteria_grown_at",
    "criteria_days_before_reestimate",
    "as_of",
]

SCOPE_CAUSE_COLUMNS = [
    *SPRINT_COLUMNS,
    "grown_stories",
    "refinement_gap_stories",
    "refinement_gap_share",
    "growth_points",
    "refinement_gap_points",
    "final_scope_issues",
    "final_scope_points",
    "added_issues_in_scope",
    "added_points_in_scope",
    "added_bugs_in_scope",
    "added_issue_share",
    "added_point_share",
    "dominant_cause",
    "as_of",
]

_DAY = pd.Timedelta(days=1)


def _column(values: pd.Series) -> pd.Series:
    return values.reset_index(drop=True)


def _grown_stories(scope_changes: pd.DataFrame) -> pd.DataFrame:
    """The ledger's grown stories (those `sprint_commitments.grown_stories` counts), with the
    instant their end-of-sprint points were read at: C, or just before they left."""
    counted = estimated_committed_stories(scope_changes) & scope_changes["grew"].astype(bool)
    grown = scope_changes.loc[counted].reset_index(drop=True)
    grown = grown.assign(
        issue_id=grown["issue_id"].astype(str),
        sprint_start=utc_column(grown["sprint_start"]),
        sprint_end=utc_column(grown["sprint_end"]),
    )
    left = utc_column(grown["left_at"])
    grown["_end_at"] = grown["sprint_end"].where(left.isna(), left - JUST_BEFORE)
    return grown


def _estimate_changes(jira_estimates: pd.DataFrame, issue_ids: set[str]) -> pd.DataFrame:
    """Each estimate interval of the issues as a change at its `valid_from`, with the last
    estimate before it (`previous_points`, carried over a cleared estimate) and whether it
    raised the estimate."""
    changes = pd.DataFrame(
        {
            "issue_id": _column(jira_estimates["issue_id"].astype(str)),
            "changed_at": _column(utc_column(jira_estimates["valid_from"])),
            "points": _column(jira_estimates["story_points"].astype(float)),
        }
    )
    changes = changes.loc[changes["issue_id"].isin(issue_ids)]
    changes = changes.sort_values(["issue_id", "changed_at"], kind="stable").reset_index(drop=True)
    known = changes.groupby("issue_id", sort=False)["points"].ffill()
    changes["previous_points"] = known.groupby(changes["issue_id"], sort=False).shift(1)
    changes["upward"] = changes["points"].gt(changes["previous_points"])
    return changes


def _reestimates(grown: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Per grown row (`_row`): the first upward change in (S, end], and the last estimate
    change at or before S."""
    pairs = grown[["_row", "issue_id", "sprint_start", "_end_at"]].merge(
        changes, on="issue_id", how="inner"
    )
    inside = (
        pairs["upward"]
        & (pairs["changed_at"] > pairs["sprint_start"])
        & (pairs["changed_at"] <= pairs["_end_at"])
    )
    first_up = (
        pairs.loc[inside]
        .sort_values(["_row", "changed_at"], kind="stable")
        .drop_duplicates("_row", keep="first")
        .set_index("_row")
    )
    before_start = pairs.loc[pairs["changed_at"] <= pairs["sprint_start"]]
    last_estimated = before_start.groupby("_row")["changed_at"].max()
    return pd.DataFrame(
        {
            "reestimated_at": first_up["changed_at"],
            "reestimate_from_points": first_up["previous_points"],
            "reestimate_to_points": first_up["points"],
        }
    ).join(last_estimated.rename("estimated_before_start_at"), how="outer")


def _lengths(
    jira_changelog: pd.DataFrame,
    jira_issues: pd.DataFrame,
    issue_ids: pd.Series,
    instants: pd.Series,
    as_of: pd.Timestamp,
) -> np.ndarray:
    queries = pd.DataFrame({"issue_id": _column(issue_ids), "at": _column(instants)})
    return acceptance_criteria_lengths_at(jira_changelog, jira_issues, queries, as_of).to_numpy()


def _criteria_grown_at(
    rows: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_issues: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.Series:
    """Per row (`_row`, where the criteria grew in its window): the instant of the last text
    change inside (window start, re-estimate] after which the criteria were longer than just
    before it."""
    texts = jira_changelog.loc[jira_changelog["field_role"].isin(TEXT_ROLES).to_numpy(dtype=bool)]
    edits = pd.DataFrame(
        {
            "issue_id": _column(texts["issue_id"].astype(str)),
            "created": _column(utc_column(texts["created"])),
        }
    ).drop_duplicates()
    pairs = rows[["_row", "issue_id", "criteria_window_start", "reestimated_at"]].merge(
        edits, on="issue_id", how="inner"
    )
    pairs = pairs.loc[
        (pairs["created"] > pairs["criteria_window_start"])
        & (pairs["created"] <= pairs["reestimated_at"])
        & (pairs["created"] <= as_of)
    ].reset_index(drop=True)
    if pairs.empty:
        return pd.Series(dtype="datetime64[ns, UTC]")
    before = _lengths(
        jira_changelog, jira_issues, pairs["issue_id"], pairs["created"] - JUST_BEFORE, as_of
    )
    after = _lengths(jira_changelog, jira_issues, pairs["issue_id"], pairs["created"], as_of)
    lengthened = pairs.loc[after > before]
    return lengthened.groupby("_row")["created"].max()


def growth_causes(
    sprint_scope_changes: pd.DataFrame,
    jira_estimates: pd.DataFrame,
    jira_changelog: pd.DataFrame,
    jira_issues: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: ScopeCreepThresholds,
) -> pd.DataFrame:
    """One row per (sprint, grown story) of the ledger, with `GROWTH_CAUSE_COLUMNS`: its points
    at S and C, the first upward re-estimate inside the sprint (instant, from and to points, days
    after S), the criteria window and the criteria lengths at its start and at the re-estimate,
    `refinement_gap` (longer at the re-estimate) with the last lengthening change and the days
    from it to the re-estimate. See the module docstring for each rule."""
    as_of = utc_instant(as_of)
    grown = _grown_stories(sprint_scope_changes)
    grown["_row"] = np.arange(len(grown))
    changes = _estimate_changes(jira_estimates, set(grown["issue_id"]))
    found = _reestimates(grown, changes).reindex(grown["_row"])
    for column in found.columns:
        grown[column] = found[column].to_numpy()
    grown["reestimated_at"] = utc_column(grown["reestimated_at"])
    lookback_start = grown["sprint_start"] - pd.Timedelta(days=thresholds.criteria_lookback_days)
    estimated = utc_column(grown["estimated_before_start_at"])
    grown["criteria_window_start"] = lookback_start.where(
        estimated.isna() | (estimated < lookback_start), estimated
    )
    # A grown story always has its upward change inside the sprint (its points rose between S
    # and C); the fallback to C only keeps the lengths defined should staging ever disagree.
    at_reestimate = grown["reestimated_at"].fillna(grown["_end_at"])
    grown["criteria_length_before"] = _lengths(
        jira_changelog, jira_issues, grown["issue_id"], grown["criteria_window_start"], as_of
    ).astype("int64")
    grown["criteria_length_at_reestimate"] = _lengths(
        jira_changelog, jira_issues, grown["issue_id"], at_reestimate, as_of
    ).astype("int64")
    grown[REFINEMENT_GAP] = grown["reestimated_at"].notna() & (
        grown["criteria_length_at_reestimate"] > grown["criteria_length_before"]
    )
    gaps = grown.loc[grown[REFINEMENT_GAP]]
    grown_at = _criteria_grown_at(gaps, jira_changelog, jira_issues, as_of)
    grown["criteria_grown_at"] = utc_column(grown["_row"].map(grown_at))
    start = grown["sprint_start"]
    grown["growth_points"] = grown["points_at_end"].astype(float) - grown["points_at_start"]
    grown["reestimate_days_after_start"] = (grown["reestimated_at"] - start) / _DAY
    grown["criteria_days_before_reestimate"] = (
        grown["reestimated_at"] - grown["criteria_grown_at"]
    ) / _DAY
    grown["as_of"] = as_of
    order = ["board_id", "sprint_start", "sprint_id", "issue_key"]
    grown = grown.sort_values(order, kind="stable").reset_index(drop=True)
    return grown[GROWTH_CAUSE_COLUMNS]


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return part / whole.where(whole > 0)


def sprint_scope_causes(
    growth_causes_table: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    sprint_commitments: pd.DataFrame,
) -> pd.DataFrame:
    """One row per sprint of `sprint_commitments` (every sprint started by "as of"), with
    `SCOPE_CAUSE_COLUMNS`: the grown stories and how many of them had a refinement gap (with the
    points each side grew by), the final scope at C, the added work in it and its share in
    issues and points, and `dominant_cause` (see the module docstring)."""
    growth = growth_causes_table
    gap = growth[REFINEMENT_GAP].astype(bool)
    per_story = pd.DataFrame(
        {
            "sprint_id": growth["sprint_id"].astype("int64"),
            "grown_stories": 1,
            "refinement_gap_stories": gap.astype("int64"),
            "growth_points": growth["growth_points"].astype(float),
            "refinement_gap_points": growth["growth_points"].astype(float).where(gap, 0.0),
        }
    )
    scope = sprint_scope_changes
    final = ~scope["removed"].astype(bool) & ~scope["completed_outside"].astype(bool)
    added = final & scope["added_after_start"].astype(bool)
    at_end = scope["points_at_end"].astype(float)
    is_bug = names_matching(scope["issue_type"].astype(str), BUG_TYPE_PATTERN)
    per_issue = pd.DataFrame(
        {
            "sprint_id": scope["sprint_id"].astype("int64"),
            "final_scope_issues": final.astype("int64"),
            "final_scope_points": at_end.where(final, 0.0),
            "added_issues_in_scope": added.astype("int64"),
            "added_points_in_scope": at_end.where(added, 0.0),
            "added_bugs_in_scope": (added & is_bug).astype("int64"),
        }
    )
    table = sprint_commitments[SPRINT_COLUMNS].reset_index(drop=True)
    for parts in (per_story, per_issue):
        sums = parts.groupby("sprint_id", sort=False).sum()
        table = table.merge(sums, left_on="sprint_id", right_index=True, how="left")
    counts = ["grown_stories", "refinement_gap_stories", "final_scope_issues"]
    counts += ["added_issues_in_scope", "added_bugs_in_scope"]
    sums_of_points = ["growth_points", "refinement_gap_points", "final_scope_points"]
    sums_of_points.append("added_points_in_scope")
    table[counts] = table[counts].fillna(0).astype("int64")
    table[sums_of_points] = table[sums_of_points].fillna(0.0).astype(float)
    table["refinement_gap_share"] = _share(table["refinement_gap_stories"], table["grown_stories"])
    table["added_issue_share"] = _share(table["added_issues_in_scope"], table["final_scope_issues"])
    table["added_point_share"] = _share(table["added_points_in_scope"], table["final_scope_points"])
    gap_points, added_points = table["refinement_gap_points"], table["added_points_in_scope"]
    table["dominant_cause"] = np.select(
        [
            (gap_points > 0) & (gap_points >= added_points),
            added_points > 0,
        ],
        [REFINEMENT_GAP, ADDED_LATE],
        default=NO_CAUSE,
    ).astype(object)
    table["as_of"] = sprint_commitments["as_of"].reset_index(drop=True)
    table = table.sort_values(["board_id", "sprint_start", "sprint_id"], kind="stable")
    return table[SCOPE_CAUSE_COLUMNS].reset_index(drop=True)


def worst_growth_causes(table: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """Refinement gaps first, then the largest growth: the stories a reader should see first."""
    ranked = table.sort_values(
        [REFINEMENT_GAP, "growth_points"], ascending=[False, False], kind="stable"
    )
    columns = [
        "board_id",
        "sprint_name",
        "issue_key",
        "points_at_start",
        "points_at_end",
        "reestimated_at",
        "reestimate_days_after_start",
        REFINEMENT_GAP,
        "criteria_grown_at",
    ]
    return ranked.head(rows)[columns]


def worst_scope_causes(table: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """The sprints with the most refinement gaps first, then the largest added share."""
    ranked = table.sort_values(
        ["refinement_gap_stories", "added_point_share"],
        ascending=[False, False],
        na_position="last",
        kind="stable",
    )
    columns = [
        "board_id",
        "sprint_name",
        "grown_stories",
        "refinement_gap_stories",
        "added_issues_in_scope",
        "added_point_share",
        "dominant_cause",
    ]
    return ranked.head(rows)[columns]
