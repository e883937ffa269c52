"""Status, story-point and sprint-membership intervals, rebuilt from the sorted changelog.

One rule for all three: the first changelog item's `from` side is the value the issue had from
its `created` instant; each item's `to` side holds until the next item; the last holds until
the export (an open end). With no items, the current field value holds from `created`. An
issue whose first change is older than its `created` (moved or imported issues) is taken to
exist from that first change. Adjacent intervals with the same value are merged.

Sprint membership follows sets, not single values: a Sprint item's `from`/`to` list every sprint
the issue was in (`"7, 9"`), and an issue may sit in several sprints at once (an unfinished
issue stays in the closed sprint and joins the next). When the history and the current Sprint
field disagree, the history is incomplete, and membership is reconciled towards the current
field; every interval the history alone cannot vouch for gets `inferred=True`:

- A sprint in the current field that the history never leaves the issue in is added from the
  last recorded Sprint change (the earliest instant the recorded history allows) with an open
  end.
- A sprint the history leaves the issue in but the current field no longer lists is closed at
  the issue's `updated` instant (its removal was a change, so it happened by then).
- A sprint in an item's `from` side that the history had not entered is taken to have been
  entered at the previous recorded Sprint change; one the history had entered but a later
  `from` side omits is taken to have been left at that item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from jira_insights_pipeline.parsing.sprint_field import parse_sprint_ids

NAT = np.iinfo(np.int64).min  # numpy's NaT as int64 nanoseconds


class IssueState(NamedTuple):
    """What the intervals need to know about an issue as exported."""

    issue_id: str
    issue_key: str
    created_ns: int
    updated_ns: int | None
    status_id: str | None
    status_name: str | None
    story_points: float | None
    sprint_ids: tuple[int, ...]


def parse_story_points(value: Any) -> tuple[float | None, str | None]:
    """A story-points value as Jira stores it (number, `"13"`, `"2.5"`, `""`, null, or the
    "no estimate" sentinel -1) as a float or None, and what is wrong with it when it cannot be
    an estimate (a phrase: "is infinite"); such a value is None, counted as no estimate.

    Python's `float` reads "Infinity" and "NaN", and one such value would make every sum it
    enters infinite or NaN, so they are refused like any other value that is no estimate."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, "is not a number"
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if text == "":
            return None, None
        try:
            number = float(text)
        except ValueError:
            return None, "is not a number"
    if math.isnan(number):
        return None, "is not a number (NaN)"
    if math.isinf(number):
        return None, "is infinite"
    if number < 0:
        return None, None if number == -1 else "is negative"
    return number, None


class UnreadableEstimate(NamedTuple):
    """A story-points value of a changelog item that is no estimate: the issue, the history it
    is in (its id and instant), which side of the change it is (`from`: the value before the
    issue's first estimate change; `to`: the value the change set), the value and the problem."""

    issue_id: str
    issue_key: str
    history_id: str
    at_ns: int
    side: str
    value: str
    problem: str


def _changelog_groups(changelog: pd.DataFrame, role: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    rows = changelog[changelog["field_role"] == role]
    created = rows["created"].to_numpy(dtype="datetime64[ns]").astype("int64")
    rows = rows.assign(_created_ns=created)
    return rows, rows.groupby("issue_id", sort=False).indices


def _to_utc(values: Sequence[int | None]) -> pd.Series:
    array = np.array([NAT if v is None else v for v in values], dtype="int64")
    return pd.Series(pd.to_datetime(array.view("datetime64[ns]"), utc=True))


def status_intervals(
    changelog: pd.DataFrame,
    issues: Sequence[IssueState],
    status_names: dict[str, str],
    status_categories: dict[str, str],
) -> pd.DataFrame:
    """`jira_status_intervals` rows. Statuses are named by their current name when their id
    is known (renamed statuses stay one status), else by the name the history used."""
    rows, groups = _changelog_groups(changelog, "status")
    from_values = rows["from_value"].to_numpy(dtype=object)
    from_strings = rows["from_string"].to_numpy(dtype=object)
    to_values = rows["to_value"].to_numpy(dtype=object)
    to_strings = rows["to_string"].to_numpy(dtype=object)
    instants = rows["_created_ns"].to_numpy()

    out_id: list[str] = []
    out_key: list[str] = []
    out_status_id: list[str | None] = []
    out_status: list[str | None] = []
    out_start: list[int] = []
    out_end: list[int | None] = []

    for issue in issues:
        spans: list[tuple[str | None, str | None, int, int | None]] = []
        positions = groups.get(issue.issue_id)
        if positions is None or len(positions) == 0:
            spans.append((issue.status_id, issue.status_name, issue.created_ns, None))
        else:
            first = positions[0]
            start = min(issue.created_ns, int(instants[first]))
            if from_values[first] is not None or from_strings[first] is not None:
                spans.append((from_values[first], from_strings[first], start, int(instants[first])))
            for number, position in enumerate(positions):
                end = int(instants[positions[number + 1]]) if number + 1 < len(positions) else None
                spans.append(
                    (to_values[position], to_strings[position], int(instants[position]), end)
                )
        for status_id, name, start, end in _merge(spans):
            shown = status_names.get(status_id, name) if status_id is not None else name
            if shown is None:
                continue
            out_id.append(issue.issue_id)
            out_key.append(issue.issue_key)
            out_status_id.append(status_id)
            out_status.append(shown)
            out_start.append(start)
            out_end.append(end)

    frame = pd.DataFrame(
        {
            "issue_id": out_id,
            "issue_key": out_key,
            "status": out_status,
            "status_id": out_status_id,
            "status_category": [status_categories.get(s) if s else None for s in out_status_id],
            "entered_at": _to_utc(out_start),
            "left_at": _to_utc(out_end),
        }
    )
    return frame


def _merge(
    spans: list[tuple[Any, Any, int, int | None]],
) -> list[tuple[Any, Any, int, int | None]]:
    """Joins adjacent spans whose value (the first element, else the second) is the same."""
    merged: list[tuple[Any, Any, int, int | None]] = []
    for span in spans:
        if merged:
            last = merged[-1]
            same = (
                (last[0], last[1]) == (span[0], span[1]) if span[0] is None else last[0] == span[0]
            )
            if same:
                merged[-1] = (last[0], last[1], last[2], span[3])
                continue
        merged.append(span)
    return merged


@dataclass
class EstimateOutcome:
    frame: pd.DataFrame
    unreadable: list[UnreadableEstimate]


def estimate_intervals(changelog: pd.DataFrame, issues: Sequence[IssueState]) -> EstimateOutcome:
    """`jira_estimates` rows: every issue is covered from its `created` on (a null value
    meaning no estimate). Changelog values are strings ("13", "2.5", ""); one that is no
    estimate (`parse_story_points`) counts as none until the next change and is listed in
    `EstimateOutcome.unreadable`."""
    rows, groups = _changelog_groups(changelog, "story_points")
    from_values = rows["from_value"].to_numpy(dtype=object)
    from_strings = rows["from_string"].to_numpy(dtype=object)
    to_values = rows["to_value"].to_numpy(dtype=object)
    to_strings = rows["to_string"].to_numpy(dtype=object)
    history_ids = rows["history_id"].to_numpy(dtype=object)
    instants = rows["_created_ns"].to_numpy()
    unreadable: list[UnreadableEstimate] = []

    def value(issue: IssueState, position: int, side: str) -> float | None:
        strings, values = (from_strings, from_values) if side == "from" else (to_strings, to_values)
        raw = strings[position] if strings[position] is not None else values[position]
        number, problem = parse_story_points(raw)
        if problem is not None:
            unreadable.append(
                UnreadableEstimate(
                    issue.issue_id,
                    issue.issue_key,
                    str(history_ids[position]),
                    int(instants[position]),
                    side,
                    str(raw),
                    problem,
                )
            )
        return number

    out_id: list[str] = []
    out_key: list[str] = []
    out_points: list[float | None] = []
    out_start: list[int] = []
    out_end: list[int | None] = []
    for issue in issues:
        spans: list[tuple[Any, Any, int, int | None]] = []
        positions = groups.get(issue.issue_id)
        if positions is None or len(positions) == 0:
            spans.append((issue.story_points, None, issue.created_ns, None))
        else:
            first = positions[0]
            start = min(issue.created_ns, int(instants[first]))
            initial = value(issue, first, "from")
            spans.append((initial, None, start, int(instants[first])))
            for number, position in enumerate(positions):
                end = int(instants[positions[number + 1]]) if number + 1 < len(positions) else None
                points = value(issue, position, "to")
                spans.append((points, None, int(instants[position]), end))
        for points, _, start, end in _merge(spans):
            out_id.append(issue.issue_id)
            out_key.append(issue.issue_key)
            out_points.append(points)
            out_start.append(start)
            out_end.append(end)

    frame = pd.DataFrame(
        {
            "issue_id": out_id,
            "issue_key": out_key,
            "story_points": pd.array(out_points, dtype="Float64").astype("float64"),
            "valid_from": _to_utc(out_start),
            "valid_to": _to_utc(out_end),
        }
    )
    return EstimateOutcome(frame=frame, unreadable=unreadable)


@dataclass
class MembershipOutcome:
    frame: pd.DataFrame
    reconciled_issues: list[str]


def sprint_membership(changelog: pd.DataFrame, issues: Sequence[IssueState]) -> MembershipOutcome:
    """`jira_sprint_membership` rows (see the module docstring for the reconciliation rule)."""
    rows, groups = _changelog_groups(changelog, "sprint")
    from_values = rows["from_value"].to_numpy(dtype=object)
    to_values = rows["to_value"].to_numpy(dtype=object)
    instants = rows["_created_ns"].to_numpy()

    out: list[tuple[str, str, int, int, int | None, bool]] = []
    reconciled: list[str] = []
    for issue in issues:
        current = list(dict.fromkeys(issue.sprint_ids))
        positions = groups.get(issue.issue_id)
        if positions is None or len(positions) == 0:
            out.extend(
                (issue.issue_id, issue.issue_key, s, issue.created_ns, None, False) for s in current
            )
            continue
        closed: list[tuple[int, int, int | None, bool]] = []
        open_since: dict[int, tuple[int, bool]] = {}
        first = positions[0]
        previous = min(issue.created_ns, int(instants[first]))
        for sprint in parse_sprint_ids(from_values[first]):
            open_since[sprint] = (previous, False)
        was_reconciled = False
        for position in positions:
            at = int(instants[position])
            stated_before = parse_sprint_ids(from_values[position])
            for sprint in stated_before:
                if sprint not in open_since:
                    open_since[sprint] = (previous, True)
                    was_reconciled = True
            for sprint in [s for s in open_since if s not in stated_before]:
                entered, _ = open_since.pop(sprint)
                closed.append((sprint, entered, at, True))
                was_reconciled = True
            after = parse_sprint_ids(to_values[position])
            for sprint in [s for s in open_since if s not in after]:
                entered, inferred = open_since.pop(sprint)
                closed.append((sprint, entered, at, inferred))
            for sprint in after:
                if sprint not in open_since:
                    open_since[sprint] = (at, False)
            previous = at
        for sprint, (entered, inferred) in open_since.items():
            if sprint in current:
                closed.append((sprint, entered, None, inferred))
            else:
                left = max(issue.updated_ns or previous, entered)
                closed.append((sprint, entered, left, True))
                was_reconciled = True
        for sprint in current:
            if sprint not in open_since:
                closed.append((sprint, previous, None, True))
                was_reconciled = True
        if was_reconciled:
            reconciled.append(issue.issue_key)
        out.extend(
            (issue.issue_id, issue.issue_key, sprint, entered, left, inferred)
            for sprint, entered, left, inferred in sorted(closed, key=lambda r: (r[1], r[0]))
        )

    frame = pd.DataFrame(
        {
            "issue_id": [r[0] for r in out],
            "issue_key": [r[1] for r in out],
            "sprint_id": np.array([r[2] for r in out], dtype="int64"),
            "entered_at": _to_utc([r[3] for r in out]),
            "left_at": _to_utc([r[4] for r in out]),
            "inferred": np.array([r[5] for r in out], dtype=bool),
        }
    )
    return MembershipOutcome(frame=frame, reconciled_issues=reconciled)
