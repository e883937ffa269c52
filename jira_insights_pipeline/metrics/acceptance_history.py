"""The length of an issue's acceptance criteria at a past instant, rebuilt from its changelog.

`jira_issues.acceptance_criteria_length` is the length today. The past comes from the changelog
rows whose `field_role` is `description` or `acceptance_criteria` (the custom field, where a site
has one): a field's text at instant T is the `to_string` of its last change at or before T, else
the `from_string` of its first change after T. The texts are measured by the same
`acceptance_criteria_text` the parser uses (the custom field's text when it has any, else the
description's "Acceptance Criteria" section), so past and present lengths measure alike.

Two rules keep the answer honest:
- At or after an issue's last change, and for an issue that never changed, the length is
  today's length.
- A field that never changed has a text the changelog cannot show. When the changed fields alone
  do not give today's length back (say the custom field holds the criteria and only the
  description was edited), the unseen field decides, so the length is taken as unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from jira_insights_pipeline.metrics.issue_history import utc_column, utc_instant
from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text

DESCRIPTION = "description"
CRITERIA_FIELD = "acceptance_criteria"
TEXT_ROLES = (DESCRIPTION, CRITERIA_FIELD)

# A description can only hold an acceptance-criteria section under a heading naming it
# ("Acceptance Criteria", any case, or "AC" in capitals). Texts without either are measured as 0
# without parsing them line by line; at 100k issues most descriptions have no such heading.
_MAY_HOLD_CRITERIA = re.compile(r"(?i:acceptance\s+criteri)|AC")


def description_criteria_length(text: object) -> int:
    """Length of the acceptance criteria a description holds (no custom field)."""
    if not isinstance(text, str) or not _MAY_HOLD_CRITERIA.search(text):
        return 0
    return len(acceptance_criteria_text(text))


def field_criteria_length(text: object) -> int | None:
    """Length of the criteria a custom-field text holds; None when the field is blank, in which
    case the description decides."""
    if not isinstance(text, str) or not text.strip():
        return None
    return len(acceptance_criteria_text(None, text))


def acceptance_criteria_lengths_at(
    jira_changelog: pd.DataFrame,
    jira_issues: pd.DataFrame,
    queries: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.Series:
    """For each query row (`issue_id`, `at`), the length in characters of the issue's acceptance
    criteria at `at`. Changes after `as_of` are not seen. Returns an int Series on `queries`'
    index (0 for an issue unknown to `jira_issues`)."""
    as_of = utc_instant(as_of)
    issue_ids = queries["issue_id"].astype(str).to_numpy()
    current_by_issue = pd.Series(
        jira_issues["acceptance_criteria_length"].astype("int64").to_numpy(),
        index=jira_issues["issue_id"].astype(str).to_numpy(),
    )
    lengths = current_by_issue.reindex(issue_ids).fillna(0).astype("int64").to_numpy()
    changes = _text_changes(jira_changelog, set(issue_ids), as_of)
    if changes.empty:
        return pd.Series(lengths, index=queries.index, dtype="int64")

    last_change = changes.groupby("issue_id", sort=False)["created"].max()
    at = utc_column(queries["at"]).reset_index(drop=True)
    before_last = (at < pd.Series(issue_ids).map(last_change)).to_numpy(dtype=bool)
    if not before_last.any():
        return pd.Series(lengths, index=queries.index, dtype="int64")

    past_issues = issue_ids[before_last]
    changes = changes.loc[changes["issue_id"].isin(set(past_issues))].reset_index(drop=True)
    past = pd.DataFrame(
        {
            "_row": np.arange(len(past_issues)),
            "issue_id": past_issues,
            "at": at[before_last].reset_index(drop=True),
        }
    )
    measure = _Measure()
    description = _length_at(changes, past, DESCRIPTION, measure.description)
    criteria = _length_at(changes, past, CRITERIA_FIELD, measure.field)
    rebuilt = _combine(description, criteria)
    reliable = _history_gives_current_length(changes, current_by_issue, measure)
    trusted = past["issue_id"].map(reliable).fillna(False).to_numpy(dtype=bool)
    rows = np.flatnonzero(before_last)
    lengths[rows[trusted]] = rebuilt[trusted]
    return pd.Series(lengths, index=queries.index, dtype="int64")


class _Measure:
    """Measures each distinct text once (a text recurs: the `to_string` of one change is the
    `from_string` of the next)."""

    def __init__(self) -> None:
        self._descriptions: dict[str, int] = {}
        self._fields: dict[str, int | None] = {}

    def description(self, text: object) -> float:
        if not isinstance(text, str):
            return 0.0
        if text not in self._descriptions:
            self._descriptions[text] = description_criteria_length(text)
        return float(self._descriptions[text])

    def field(self, text: object) -> float:
        """NaN for a blank field (the description decides)."""
        if not isinstance(text, str):
            return np.nan
        if text not in self._fields:
            self._fields[text] = field_criteria_length(text)
        length = self._fields[text]
        return np.nan if length is None else float(length)


def _combine(description: np.ndarray, criteria: np.ndarray) -> np.ndarray:
    """The field's length where it holds text, else the description's (NaN: unknown, as 0)."""
    chosen = np.where(np.isnan(criteria), description, criteria)
    return np.nan_to_num(chosen, nan=0.0).astype("int64")


def _text_changes(
    changelog: pd.DataFrame, issue_ids: set[str], as_of: pd.Timestamp
) -> pd.DataFrame:
    relevant = changelog["field_role"].isin(TEXT_ROLES).to_numpy(dtype=bool)
    rows = changelog.loc[relevant]
    rows = rows.loc[rows["issue_id"].astype(str).isin(issue_ids).to_numpy()]
    changes = pd.DataFrame(
        {
            "issue_id": rows["issue_id"].astype(str),
            "created": utc_column(rows["created"]),
            "field_role": rows["field_role"],
            "from_string": rows["from_string"].astype(object),
            "to_string": rows["to_string"].astype(object),
        }
    )
    changes = changes.loc[changes["created"] <= as_of]
    # Staging keeps the changelog in history order; a stable sort on the instant keeps that
    # order among items written in the same instant.
    return changes.sort_values("created", kind="stable").reset_index(drop=True)


def _length_at(
    changes: pd.DataFrame, past: pd.DataFrame, role: str, measure: Callable[[object], float]
) -> np.ndarray:
    """The role's criteria length at each `past` instant, measured by `measure` (a callable on
    one text); NaN where the role never changed."""
    lengths = np.full(len(past), np.nan)
    role_changes = changes.loc[changes["field_role"] == role]
    if role_changes.empty:
        return lengths
    left = past.sort_values("at", kind="stable")
    right = role_changes[["issue_id", "created"]].assign(_change=role_changes.index)
    before = pd.merge_asof(
        left, right, left_on="at", right_on="created", by="issue_id", direction="backward"
    )
    after = pd.merge_asof(
        left,
        right,
        left_on="at",
        right_on="created",
        by="issue_id",
        direction="forward",
        allow_exact_matches=False,
    )
    # merge_asof returns the queries sorted by instant; `_row` puts each answer back in place.
    target = before["_row"].to_numpy()
    use_before = before["_change"].notna().to_numpy()
    use_after = ~use_before & after["_change"].notna().to_numpy()
    to_strings = changes["to_string"].to_numpy(dtype=object)
    from_strings = changes["from_string"].to_numpy(dtype=object)
    picked = np.full(len(past), np.nan)
    before_changes = before["_change"].to_numpy()
    after_changes = after["_change"].to_numpy()
    for position in np.flatnonzero(use_before):
        picked[position] = measure(to_strings[int(before_changes[position])])
    for position in np.flatnonzero(use_after):
        picked[position] = measure(from_strings[int(after_changes[position])])
    lengths[target] = picked
    return lengths


def _history_gives_current_length(
    changes: pd.DataFrame, current: pd.Series, measure: _Measure
) -> pd.Series:
    """Per issue: whether the latest text of each changed field yields today's length."""
    latest = changes.drop_duplicates(["issue_id", "field_role"], keep="last")
    issues = pd.Index(latest["issue_id"].unique())
    description = np.full(len(issues), np.nan)
    criteria = np.full(len(issues), np.nan)
    positions = issues.get_indexer(latest["issue_id"])
    for position, role, text in zip(
        positions, latest["field_role"].to_numpy(), latest["to_string"].to_numpy(), strict=True
    ):
        if role == DESCRIPTION:
            description[position] = measure.description(text)
        else:
            criteria[position] = measure.field(text)
    rebuilt = _combine(description, criteria)
    today = current.reindex(issues).fillna(-1).to_numpy()
    return pd.Series(rebuilt == today, index=issues)
