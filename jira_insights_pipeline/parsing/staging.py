"""A snapshot's raw Jira JSON turned into the staging tables of `schemas.STAGING_SCHEMAS`.

`build_staging_tables` reads the snapshot once, issue by issue, collecting plain lists; each
table is then built as one DataFrame, its instants parsed in one vectorised call, and validated
by its Pandera model. The `StagingReport` says how the fields were found and what a user should
know about the data (unknown status categories, cut-short changelogs, reconciled sprints).

A value that cannot be used (story points that are infinite, NaN, negative or not a number; an
impossible date; a sprint that starts after it ends; a status of unknown category) is left out
of the figures it would distort and becomes a row of `jira_data_quality` saying what was left
out; the rest is computed. Only a snapshot that cannot be read as a whole stops the parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text
from jira_insights_pipeline.parsing.adf import rich_text
from jira_insights_pipeline.parsing.changelog import ChangelogBuilder, DroppedHistory, FieldRoles
from jira_insights_pipeline.parsing.fields import DiscoveredFields, discover_fields
from jira_insights_pipeline.parsing.intervals import (
    IssueState,
    UnreadableEstimate,
    estimate_intervals,
    parse_story_points,
    sprint_membership,
    status_intervals,
)
from jira_insights_pipeline.parsing.sprint_field import SprintFieldError, parse_sprint_field
from jira_insights_pipeline.parsing.timestamps import parse_jira_instants_keeping_going
from jira_insights_pipeline.schemas import (
    STAGING_SCHEMAS,
    STATUS_CATEGORIES,
    JiraBoardsSchema,
    JiraChangelogSchema,
    JiraDataQualitySchema,
    JiraEstimatesSchema,
    JiraIssueLinksSchema,
    JiraIssuesSchema,
    JiraSnapshotSchema,
    JiraSprintMembershipSchema,
    JiraSprintsSchema,
    JiraStatusIntervalsSchema,
)
from jira_insights_pipeline.snapshot import Snapshot

SPRINT_STATES = ("future", "active", "closed")
# How many issue keys a warning names before it just counts.
KEYS_SHOWN = 20


@dataclass
class StagingReport:
    """What the Dagster asset shows beside the tables: how each field was found, statuses of
    unknown category, row counts, and warnings a user should read."""

    fields: dict[str, dict[str, str | None]]
    unknown_status_categories: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    truncated_changelogs: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        lines = ["| field | id | found by |", "|---|---|---|"]
        for role, choice in self.fields.items():
            lines.append(f"| {role} | {choice['field_id'] or '-'} | {choice['how']} |")
        lines += ["", "| table | rows |", "|---|---|"]
        lines += [f"| {name} | {count} |" for name, count in self.counts.items()]
        if self.unknown_status_categories:
            lines += [
                "",
                "Statuses of unknown category: " + ", ".join(self.unknown_status_categories),
            ]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"- {warning}" for warning in self.warnings]
        return "\n".join(lines)


@dataclass
class StagingTables:
    """One validated DataFrame per staging table, and the report."""

    jira_snapshot: pd.DataFrame
    jira_boards: pd.DataFrame
    jira_issues: pd.DataFrame
    jira_changelog: pd.DataFrame
    jira_sprints: pd.DataFrame
    jira_sprint_membership: pd.DataFrame
    jira_status_intervals: pd.DataFrame
    jira_estimates: pd.DataFrame
    jira_issue_links: pd.DataFrame
    jira_data_quality: pd.DataFrame
    report: StagingReport

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in `STAGING_SCHEMAS` order."""
        return {name: getattr(self, name) for name in STAGING_SCHEMAS}


def _key_list(keys: list[str]) -> str:
    shown = ", ".join(keys[:KEYS_SHOWN])
    return shown + (f" and {len(keys) - KEYS_SHOWN} more" if len(keys) > KEYS_SHOWN else "")


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("displayName") or value.get("name") or value.get("value")
        return str(name) if name is not None else None
    return None


def _when(instant_ns: int) -> str:
    """An instant as a Scrum Master reads it in a sentence: `2022-04-15 00:52 UTC`."""
    return pd.Timestamp(instant_ns, tz="UTC").strftime("%Y-%m-%d %H:%M UTC")


# --------------------------------------------------------------------------------------------
# Data quality: values left out, one row each
# --------------------------------------------------------------------------------------------

_DATA_QUALITY_COLUMNS = ("subject", "key", "field", "value", "reason")

# What leaving out each unreadable date of an issue means for the figures.
_ISSUE_DATE_CONSEQUENCES = {
    "updated": (
        "so it is left empty: the issue's last activity is taken from its change history instead"
    ),
    "resolutiondate": (
        "so it is left empty: the issue shows no resolution date (its status history still "
        "says when it was done)"
    ),
}
_SPRINT_DATE_CONSEQUENCES = {
    "startDate": (
        "so it is left empty: a sprint without a start is not judged (it gets no row in the "
        "sprint tables: scope changes, commitments, scope creep, targets, points completed)"
    ),
    "endDate": (
        "so it is left empty: the sprint's close is taken from its completeDate (a running "
        "sprint is measured up to the export)"
    ),
    "completeDate": "so it is left empty: the sprint counts as closed at its end date instead",
}
_SPRINT_DATE_COLUMNS = {
    "startDate": "start_date",
    "endDate": "end_date",
    "completeDate": "complete_date",
}


class _DataQuality:
    """The rows of `jira_data_quality`, collected while the tables are built."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, subject: str, key: str, field_name: str, value: Any, reason: str) -> None:
        self.rows.append((subject, key, field_name, "" if value is None else str(value), reason))

    def issue_points(self, key: str, value: Any, problem: str) -> None:
        self.add(
            "issue",
            key,
            "story_points",
            value,
            f"The story points value {problem}, so it is left out: the issue counts as not "
            "estimated in every sprint sum (commitment, completed points, the average per sprint).",
        )

    def changelog_points(self, unreadable: UnreadableEstimate) -> None:
        change = f"change history {unreadable.history_id} of {_when(unreadable.at_ns)}"
        if unreadable.side == "from":
            reason = (
                f"The story points value the issue had before its first estimate change "
                f"({change}) {unreadable.problem}, so it is left out: the issue counts as not "
                "estimated until that change, in every sprint sum."
            )
        else:
            reason = (
                f"The story points value set by {change} {unreadable.problem}, so it is left "
                "out: the issue counts as not estimated from that change until the next one, in "
                "every sprint sum."
            )
        self.add("issue", unreadable.issue_key, "story_points change", unreadable.value, reason)

    def dropped_history(self, dropped: DroppedHistory) -> None:
        changes = ", ".join(dropped.fields) or "no field"
        self.add(
            "issue",
            dropped.issue_key,
            "changelog created",
            dropped.value,
            f"The date of change history {dropped.history_id} {dropped.problem}, so that "
            f"change ({changes}) is left out: the issue's status, estimate and sprint history "
            "are rebuilt from its other changes.",
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(_DATA_QUALITY_COLUMNS), dtype=object)


# --------------------------------------------------------------------------------------------
# Statuses
# --------------------------------------------------------------------------------------------


@dataclass
class _Statuses:
    names: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    from_listing: set[str] = field(default_factory=set)
    learned: dict[str, str] = field(default_factory=dict)
    learned_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_listing_json(cls, statuses: list[dict[str, Any]] | None) -> _Statuses:
        known = cls()
        for status in statuses or []:
            status_id = status.get("id")
            if status_id is None:
                continue
            status_id = str(status_id)
            if status.get("name"):
                known.names[status_id] = str(status["name"])
            category = (status.get("statusCategory") or {}).get("key")
            if category in STATUS_CATEGORIES:
                known.categories[status_id] = category
                known.from_listing.add(status_id)
        return known

    def learn(self, status: Mapping[str, Any]) -> None:
        status_id = status.get("id")
        if status_id is None:
            return
        status_id = str(status_id)
        if status_id not in self.learned_names and status.get("name"):
            self.learned_names[status_id] = str(status["name"])
        category = (status.get("statusCategory") or {}).get("key")
        if category in STATUS_CATEGORIES and status_id not in self.learned:
            self.learned[status_id] = category

    def finish(self) -> list[str]:
        """Merges what the issues taught into the listing's answers; returns disagreements."""
        disagreements = []
        for status_id, category in self.learned.items():
            listed = self.categories.get(status_id)
            if listed is None:
                self.categories[status_id] = category
            elif listed != category and status_id in self.from_listing:
                disagreements.append(
                    f"{self.names.get(status_id, status_id)} ({status_id}): statuses.json says "
                    f"{listed}, the issues say {category}"
                )
        for status_id, name in self.learned_names.items():
            self.names.setdefault(status_id, name)
        return disagreements


# --------------------------------------------------------------------------------------------
# Boards and sprints
# --------------------------------------------------------------------------------------------


def _board_project_key(board: Mapping[str, Any]) -> str | None:
    location = board.get("location") or {}
    configuration_location = (board.get("configuration") or {}).get("location") or {}
    key = (
        location.get("projectKey")
        or configuration_location.get("key")
        or configuration_location.get("projectKey")
    )
    return str(key) if key else None


def _boards_frame(boards: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    seen: set[int] = set()
    for board in boards:
        board_id = _int_or_none(board.get("id"))
        if board_id is None or board_id in seen:
            continue
        seen.add(board_id)
        configuration = board.get("configuration") or {}
        estimation = ((configuration.get("estimation") or {}).get("field") or {}).get("fieldId")
        rows.append(
            {
                "board_id": board_id,
                "name": str(board.get("name") or configuration.get("name") or board_id),
                "board_type": board.get("type") or configuration.get("type"),
                "project_key": _board_project_key(board),
                "estimation_field": estimation,
            }
        )
    columns = ["board_id", "name", "board_type", "project_key", "estimation_field"]
    return pd.DataFrame(rows, columns=columns).astype({"board_id": "int64"})


def _sprint_key(name: Any, sprint_id: int) -> str:
    return f"{name} ({sprint_id})"


def _sprints_frame(
    listed: list[dict[str, Any]],
    from_issues: dict[int, Any],
    warnings: list[str],
    quality: _DataQuality,
) -> pd.DataFrame:
    rows: dict[int, dict[str, Any]] = {}
    odd_states: list[str] = []
    for sprint in listed:
        sprint_id = _int_or_none(sprint.get("id"))
        if sprint_id is None:
            continue
        state = str(sprint.get("state") or "").lower()
        if state not in SPRINT_STATES:
            odd_states.append(f"{sprint_id} ({sprint.get('state')!r})")
            continue
        rows[sprint_id] = {
            "sprint_id": sprint_id,
            "board_id": _int_or_none(sprint.get("originBoardId", sprint.get("boardId"))),
            "name": str(sprint.get("name") or sprint_id),
            "state": state,
            "start_date": sprint.get("startDate"),
            "end_date": sprint.get("endDate"),
            "complete_date": sprint.get("completeDate"),
            "goal": sprint.get("goal") or None,
        }
    added = 0
    for sprint_id, ref in from_issues.items():
        if sprint_id in rows or ref.state not in SPRINT_STATES:
            continue
        added += 1
        for jira_key, value, problem in ref.unreadable_dates:
            quality.add(
                "sprint",
                _sprint_key(ref.name or sprint_id, sprint_id),
                jira_key,
                value,
                f"The sprint's {jira_key} (from an issue's Sprint field) {problem}, "
                f"{_SPRINT_DATE_CONSEQUENCES[jira_key]}.",
            )
        rows[sprint_id] = {
            "sprint_id": sprint_id,
            "board_id": ref.board_id,
            "name": ref.name or str(sprint_id),
            "state": ref.state,
            "start_date": ref.start_date.isoformat() if ref.start_date is not None else None,
            "end_date": ref.end_date.isoformat() if ref.end_date is not None else None,
            "complete_date": (
                ref.complete_date.isoformat() if ref.complete_date is not None else None
            ),
            "goal": ref.goal,
        }
    if odd_states:
        warnings.append(
            f"Sprints with a state Jira does not use were left out: {', '.join(odd_states)}."
        )
    if added:
        warnings.append(
            f"{added} sprint(s) appear only in issues' Sprint field, not in sprints.json (another "
            "board's sprints?); they were added from what the issues say."
        )
    columns = [
        "sprint_id",
        "board_id",
        "name",
        "state",
        "start_date",
        "end_date",
        "complete_date",
        "goal",
    ]
    frame = pd.DataFrame(list(rows.values()), columns=columns)
    raw = frame[["start_date", "end_date"]].copy()
    for jira_key, column in _SPRINT_DATE_COLUMNS.items():
        frame[column], unreadable = parse_jira_instants_keeping_going(
            frame[column], f"sprints.json {column}"
        )
        for position, value, problem in unreadable:
            quality.add(
                "sprint",
                _sprint_key(frame["name"].iat[position], frame["sprint_id"].iat[position]),
                jira_key,
                value,
                f"The sprint's {jira_key} {problem}, {_SPRINT_DATE_CONSEQUENCES[jira_key]}.",
            )
    _leave_out_impossible_sprints(frame, raw, quality)
    frame["board_id"] = frame["board_id"].astype("Int64")
    frame["sprint_id"] = frame["sprint_id"].astype("int64")
    return frame.sort_values("sprint_id").reset_index(drop=True)


def _leave_out_impossible_sprints(
    frame: pd.DataFrame, raw: pd.DataFrame, quality: _DataQuality
) -> None:
    """A sprint that starts after it ends cannot be: which of its dates is wrong is unknown, so
    both are left empty. `sprint_windows` gives a sprint without a start no window, so no
    sprint table counts or judges it (its commitment would be measured over a window that ends
    before it begins), while its issues keep their membership and its completeDate still says
    when it closed."""
    impossible = (
        frame["start_date"].notna()
        & frame["end_date"].notna()
        & (frame["start_date"] > frame["end_date"])
    ).to_numpy()
    for position in np.flatnonzero(impossible):
        quality.add(
            "sprint",
            _sprint_key(frame["name"].iat[position], frame["sprint_id"].iat[position]),
            "startDate",
            raw["start_date"].iat[position],
            f"The sprint starts after it ends (endDate {raw['end_date'].iat[position]}), which "
            "cannot be, so both dates are left out and the sprint is not judged: it gets no "
            "row in the sprint tables (scope changes, commitments, scope creep, targets, "
            "points completed), while its issues keep their membership.",
        )
    frame.loc[impossible, ["start_date", "end_date"]] = pd.NaT


# --------------------------------------------------------------------------------------------
# Issues
# --------------------------------------------------------------------------------------------

_ISSUE_COLUMNS = (
    "issue_id",
    "issue_key",
    "project_key",
    "issue_type",
    "is_subtask",
    "summary",
    "status",
    "status_id",
    "created",
    "updated",
    "resolved",
    "assignee",
    "labels",
    "components",
    "environment",
    "story_points",
    "parent_key",
    "epic_key",
    "flagged",
    "acceptance_criteria_length",
)

_LINK_COLUMNS = (
    "issue_id",
    "issue_key",
    "link_id",
    "link_type",
    "direction",
    "relation",
    "linked_issue_id",
    "linked_issue_key",
    "linked_issue_type",
)


def _is_epic(issue_ref: Mapping[str, Any]) -> bool:
    issue_type = (issue_ref.get("fields") or {}).get("issuetype") or {}
    # The name is translatable ("长篇故事"); Cloud's hierarchy level is not.
    return (
        issue_type.get("hierarchyLevel") == 1
        or str(issue_type.get("name", "")).casefold() == "epic"
    )


def _flag_is_set(value: Any) -> bool:
    if value is None or value == "" or value == []:
        return False
    if isinstance(value, list):
        return any(_flag_is_set(v) for v in value)
    if isinstance(value, Mapping):
        return bool(value.get("value") or value.get("id"))
    return bool(value)


class _IssueCollector:
    def __init__(
        self, discovered: DiscoveredFields, statuses: _Statuses, quality: _DataQuality
    ) -> None:
        self.discovered = discovered
        self.statuses = statuses
        self.quality = quality
        self.roles = FieldRoles.from_fields(discovered)
        self.changelog = ChangelogBuilder(self.roles)
        self.columns: dict[str, list[Any]] = {name: [] for name in _ISSUE_COLUMNS}
        self.links: dict[str, list[Any]] = {name: [] for name in _LINK_COLUMNS}
        self.sprint_ids: list[tuple[int, ...]] = []
        self.sprints_seen: dict[int, Any] = {}
        self._sprint_cache: dict[int | str, int] = {}
        self.truncated: list[str] = []
        self.bad_sprint_values: list[str] = []
        self.unreadable_points: list[str] = []

    def add(self, issue: Mapping[str, Any]) -> None:
        fields: Mapping[str, Any] = issue.get("fields") or {}
        issue_id = str(issue.get("id"))
        key = str(issue.get("key"))
        cols = self.columns
        discovered = self.discovered

        status = fields.get("status") or {}
        self.statuses.learn(status)
        issue_type = fields.get("issuetype") or {}
        project = fields.get("project") or {}
        parent = fields.get("parent") or {}

        raw_points = (
            fields.get(discovered.story_points.field_id)
            if discovered.story_points.field_id
            else None
        )
        points, problem = parse_story_points(raw_points)
        if problem is not None:
            self.unreadable_points.append(key)
            self.quality.issue_points(key, raw_points, problem)

        epic_key = parent.get("key") if parent and _is_epic(parent) else None
        if epic_key is None and discovered.epic_link.field_id:
            link = fields.get(discovered.epic_link.field_id)
            epic_key = link.get("key") if isinstance(link, Mapping) else link
            epic_key = str(epic_key) if epic_key else None

        if discovered.flagged.field_id:
            flagged = _flag_is_set(fields.get(discovered.flagged.field_id))
        else:
            # The agile API adds a plain `flagged` boolean when no Flagged field is listed.
            flagged = fields.get("flagged") is True

        custom_ac = (
            fields.get(discovered.acceptance_criteria.field_id)
            if discovered.acceptance_criteria.field_id
            else None
        )
        criteria = acceptance_criteria_text(rich_text(fields.get("description")), custom_ac)

        cols["issue_id"].append(issue_id)
        cols["issue_key"].append(key)
        cols["project_key"].append(str(project.get("key") or key.rsplit("-", 1)[0]))
        cols["issue_type"].append(str(issue_type.get("name") or ""))
        cols["is_subtask"].append(bool(issue_type.get("subtask", False)))
        cols["summary"].append(fields.get("summary"))
        cols["status"].append(status.get("name"))
        cols["status_id"].append(str(status["id"]) if status.get("id") is not None else None)
        cols["created"].append(fields.get("created"))
        cols["updated"].append(fields.get("updated"))
        cols["resolved"].append(fields.get("resolutiondate"))
        cols["assignee"].append(_name(fields.get("assignee")))
        cols["labels"].append([str(label) for label in fields.get("labels") or []])
        cols["components"].append(
            [str(c.get("name")) for c in fields.get("components") or [] if isinstance(c, Mapping)]
        )
        cols["environment"].append(rich_text(fields.get("environment")))
        cols["story_points"].append(points)
        cols["parent_key"].append(parent.get("key"))
        cols["epic_key"].append(epic_key)
        cols["flagged"].append(flagged)
        cols["acceptance_criteria_length"].append(len(criteria))

        sprint_ids: tuple[int, ...] = ()
        if discovered.sprint.field_id:
            try:
                sprint_ids = self._sprint_ids(fields.get(discovered.sprint.field_id))
            except (SprintFieldError, ValueError):
                self.bad_sprint_values.append(key)
        self.sprint_ids.append(sprint_ids)

        self._add_links(issue_id, key, fields.get("issuelinks") or [])

        histories, total = self.changelog.add_issue(issue)
        if total is not None and total > histories:
            self.truncated.append(key)

    def _sprint_ids(self, value: Any) -> tuple[int, ...]:
        """The sprint ids of a Sprint field value; each sprint is parsed in full only the first
        time it is seen (thousands of issues share a few sprints)."""
        if value is None or value == []:
            return ()
        ids = []
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            cache_key = item.get("id") if isinstance(item, Mapping) else item
            known = self._sprint_cache.get(cache_key) if isinstance(cache_key, int | str) else None
            if known is None:
                (ref,) = parse_sprint_field([item])
                known = ref.sprint_id
                self.sprints_seen.setdefault(ref.sprint_id, ref)
                if isinstance(cache_key, int | str):
                    self._sprint_cache[cache_key] = known
            ids.append(known)
        return tuple(ids)

    def _add_links(self, issue_id: str, key: str, links: list[Any]) -> None:
        out = self.links
        for link in links:
            if not isinstance(link, Mapping):
                continue
            link_type = link.get("type") or {}
            for direction in ("inward", "outward"):
                other = link.get(f"{direction}Issue")
                if not isinstance(other, Mapping):
                    continue
                other_type = ((other.get("fields") or {}).get("issuetype") or {}).get("name")
                out["issue_id"].append(issue_id)
                out["issue_key"].append(key)
                out["link_id"].append(str(link.get("id")))
                out["link_type"].append(str(link_type.get("name") or ""))
                out["direction"].append(direction)
                out["relation"].append(link_type.get(direction))
                out["linked_issue_id"].append(
                    str(other["id"]) if other.get("id") is not None else None
                )
                out["linked_issue_key"].append(str(other.get("key")))
                out["linked_issue_type"].append(other_type)


def _issue_boards(
    issues: pd.DataFrame,
    membership: pd.DataFrame,
    sprints: pd.DataFrame,
    boards: pd.DataFrame,
) -> pd.Series:
    """The origin board of the latest sprint each issue was ever in; else the lowest-id board
    of the issue's project; else null. "Latest" is by start date, a sprint not yet started
    counting as later than any started one, then by sprint id."""
    known = sprints.dropna(subset=["board_id"])
    start = known["start_date"].to_numpy(dtype="datetime64[ns]").astype("int64")
    start = np.where(known["start_date"].isna().to_numpy(), np.iinfo(np.int64).max, start)
    rank = pd.DataFrame(
        {"sprint_id": known["sprint_id"].to_numpy(), "start": start, "board": known["board_id"]}
    )
    joined = membership[["issue_id", "sprint_id"]].drop_duplicates().merge(rank, on="sprint_id")
    latest = (
        joined.sort_values(["issue_id", "start", "sprint_id"])
        .drop_duplicates("issue_id", keep="last")
        .set_index("issue_id")["board"]
    )
    by_project = (
        boards.dropna(subset=["project_key"])
        .sort_values("board_id")
        .drop_duplicates("project_key")
        .set_index("project_key")["board_id"]
    )
    from_sprint = issues["issue_id"].map(latest)
    from_project = issues["project_key"].map(by_project)
    return from_sprint.fillna(from_project).astype("Int64")


# Jira's name of the field each instant column of jira_issues comes from.
_ISSUE_DATE_FIELDS = {"created": "created", "updated": "updated", "resolved": "resolutiondate"}


def _issues_frame(collector: _IssueCollector) -> tuple[pd.DataFrame, np.ndarray]:
    """The issue rows, and which of them have no readable `created` (the caller leaves those
    issues out). An unreadable `updated` or `resolutiondate` is left empty; each unreadable date
    is recorded."""
    frame = pd.DataFrame(collector.columns, columns=list(_ISSUE_COLUMNS))
    no_created = np.zeros(len(frame), dtype=bool)
    keys = frame["issue_key"].to_numpy(dtype=object)
    for column, jira_field in _ISSUE_DATE_FIELDS.items():
        frame[column], unreadable = parse_jira_instants_keeping_going(
            frame[column], f"issues' {column}"
        )
        for position, value, problem in unreadable:
            if column == "created":
                no_created[position] = True
                consequence = (
                    "so the whole issue is left out of every table and figure: without it the "
                    "issue's age, lead time and the start of its history are unknown, and "
                    "guessing one would move them"
                )
            else:
                consequence = _ISSUE_DATE_CONSEQUENCES[jira_field]
            collector.quality.add(
                "issue",
                keys[position],
                jira_field,
                value,
                f"The issue's {jira_field} date {problem}, {consequence}.",
            )
    # A `created` Jira always sends, left null (a damaged export), is no more usable.
    missing = frame["created"].isna().to_numpy() & ~no_created
    for position in np.flatnonzero(missing):
        no_created[position] = True
        collector.quality.add(
            "issue",
            keys[position],
            "created",
            None,
            "The issue has no created date, so the whole issue is left out of every table and "
            "figure: without it the issue's age, lead time and the start of its history are "
            "unknown.",
        )
    frame["story_points"] = frame["story_points"].astype("float64")
    frame["acceptance_criteria_length"] = frame["acceptance_criteria_length"].astype("int64")
    return frame, no_created


# --------------------------------------------------------------------------------------------
# The whole build
# --------------------------------------------------------------------------------------------


def build_staging_tables(snapshot: Snapshot, source: str = "snapshot") -> StagingTables:
    """Parses every table of `schemas.STAGING_SCHEMAS` from a snapshot (see the module
    docstring); `source` names where the snapshot came from (sample, snapshot, rest, browser)."""
    meta = snapshot.meta
    discovered = discover_fields(
        snapshot.fields,
        snapshot.boards,
        story_points_override=meta.story_points_field,
        sprint_override=meta.sprint_field,
        flagged_override=meta.flagged_field,
    )
    warnings = list(discovered.warnings)
    if discovered.sprint.field_id is None:
        warnings.append(
            "No Sprint field was found in fields.json, so sprint membership stays empty; name "
            "it in meta.json as sprint_field if the site has one."
        )
    if discovered.story_points.field_id is None:
        warnings.append(
            "No story points field was found in fields.json or the boards' configuration, so "
            "every estimate is null; name it in meta.json as story_points_field if the site "
            "has one."
        )
    statuses = _Statuses.from_listing_json(snapshot.statuses)
    quality = _DataQuality()

    collector = _IssueCollector(discovered, statuses, quality)
    for issue in snapshot.iter_issues():
        collector.add(issue)
    disagreements = statuses.finish()

    issues, no_created = _issues_frame(collector)
    duplicated = issues["issue_key"][issues["issue_key"].duplicated()].tolist()
    if duplicated:
        raise ValueError(
            f"{snapshot.issues_path}: issues {_key_list(duplicated)} appear more than once; "
            "each issue must be one line. Re-export the snapshot."
        )
    if len(issues) and no_created.all():
        # One unreadable date is a value to leave out; none readable is a snapshot that cannot
        # be read, and empty tables would pass for a site without issues.
        raise ValueError(
            f"{snapshot.issues_path}: not one issue has a readable created date (the first, "
            f"{issues['issue_key'].iat[0]}, has {collector.columns['created'][0]!r}); the "
            "snapshot cannot be read as a whole. Re-export it."
        )
    changelog = collector.changelog.to_frame()
    for dropped in collector.changelog.dropped:
        quality.dropped_history(dropped)
    skipped_ids = set(issues.loc[no_created, "issue_id"])
    sprint_ids = collector.sprint_ids
    if skipped_ids:
        sprint_ids = [ids for ids, skip in zip(sprint_ids, no_created, strict=True) if not skip]
        issues = issues.loc[~no_created].reset_index(drop=True)
        changelog = changelog.loc[~changelog["issue_id"].isin(skipped_ids)].reset_index(drop=True)

    created_ns = issues["created"].to_numpy(dtype="datetime64[ns]").astype("int64")
    updated_ns = issues["updated"].to_numpy(dtype="datetime64[ns]").astype("int64")
    updated_missing = issues["updated"].isna().to_numpy()
    states = [
        IssueState(
            issue_id=issue_id,
            issue_key=key,
            created_ns=int(created_ns[i]),
            updated_ns=None if updated_missing[i] else int(updated_ns[i]),
            status_id=status_id,
            status_name=status,
            story_points=None if pd.isna(points) else float(points),
            sprint_ids=sprint_ids[i],
        )
        for i, (issue_id, key, status_id, status, points) in enumerate(
            zip(
                issues["issue_id"],
                issues["issue_key"],
                issues["status_id"],
                issues["status"],
                issues["story_points"],
                strict=True,
            )
        )
    ]

    intervals = status_intervals(changelog, states, statuses.names, statuses.categories)
    estimates = estimate_intervals(changelog, states)
    for unreadable in estimates.unreadable:
        quality.changelog_points(unreadable)
    membership = sprint_membership(changelog, states)

    sprints = _sprints_frame(snapshot.sprints, collector.sprints_seen, warnings, quality)
    boards = _boards_frame(snapshot.boards)

    issues["status"] = [
        statuses.names.get(s, name) if s is not None else name
        for s, name in zip(issues["status_id"], issues["status"], strict=True)
    ]
    issues["status_category"] = [statuses.categories.get(s) for s in issues["status_id"]]
    issues["board_id"] = _issue_boards(issues, membership.frame, sprints, boards)

    links = pd.DataFrame(collector.links, columns=list(_LINK_COLUMNS))
    if skipped_ids:
        links = links.loc[~links["issue_id"].isin(skipped_ids)].reset_index(drop=True)
    snapshot_row = pd.DataFrame(
        {
            "site": [meta.site],
            "source": [source],
            "exported_at": [pd.Timestamp(meta.exported_at).tz_convert("UTC")],
            "snapshot_dir": [str(snapshot.root)],
        }
    )

    unknown = _unknown_statuses(intervals, issues, statuses, quality)
    _add_data_warnings(
        warnings,
        collector=collector,
        disagreements=disagreements,
        unknown=unknown,
        unreadable_changes=len(estimates.unreadable),
        reconciled=membership.reconciled_issues,
        quality_rows=len(quality.rows),
    )

    tables = StagingTables(
        jira_snapshot=JiraSnapshotSchema.validate(snapshot_row),
        jira_boards=JiraBoardsSchema.validate(boards),
        jira_issues=JiraIssuesSchema.validate(issues),
        jira_changelog=JiraChangelogSchema.validate(changelog),
        jira_sprints=JiraSprintsSchema.validate(sprints),
        jira_sprint_membership=JiraSprintMembershipSchema.validate(membership.frame),
        jira_status_intervals=JiraStatusIntervalsSchema.validate(intervals),
        jira_estimates=JiraEstimatesSchema.validate(estimates.frame),
        jira_issue_links=JiraIssueLinksSchema.validate(links),
        jira_data_quality=JiraDataQualitySchema.validate(quality.frame()),
        report=StagingReport(
            fields=discovered.as_dict(),
            unknown_status_categories=unknown,
            warnings=warnings,
            truncated_changelogs=list(collector.truncated),
        ),
    )
    tables.report.counts = {name: len(frame) for name, frame in tables.tables().items()}
    return tables


def _unknown_statuses(
    intervals: pd.DataFrame, issues: pd.DataFrame, statuses: _Statuses, quality: _DataQuality
) -> list[str]:
    """The statuses (`name (id)`) that neither statuses.json nor any issue gives a category,
    sorted; each becomes a row naming the issues whose history or current status uses it."""
    users: dict[str, dict[str, None]] = {}
    for frame in (intervals, issues):
        for status_id, name, key in zip(
            frame["status_id"], frame["status"], frame["issue_key"], strict=True
        ):
            if status_id is None or status_id not in statuses.categories:
                users.setdefault(f"{name} ({status_id})", {})[key] = None
    unknown = sorted(users)
    for label in unknown:
        keys = list(users[label])
        name = label.rsplit(" (", 1)[0]
        quality.add(
            "status",
            label,
            "status",
            name,
            "No category (to do, in progress, done) is known for this status, so time in it "
            "counts in none of them: an issue in it is never taken for in progress or done. "
            f"{len(keys)} issue(s) use it: {_key_list(keys)}. A statuses.json listing it (GET "
            "/rest/api/3/status) would give its category.",
        )
    return unknown


def _add_data_warnings(
    warnings: list[str],
    *,
    collector: _IssueCollector,
    disagreements: list[str],
    unknown: list[str],
    unreadable_changes: int,
    reconciled: list[str],
    quality_rows: int,
) -> None:
    if collector.truncated:
        warnings.append(
            f"{len(collector.truncated)} issue(s) have a cut-short changelog (changelog.total is "
            f"more than the histories saved): {_key_list(collector.truncated)}. Their intervals "
            "are rebuilt from what is there; export complete changelogs for exact history."
        )
    if disagreements:
        warnings.append(
            "statuses.json and the issues disagree on some status categories (statuses.json "
            "is used): " + "; ".join(disagreements) + "."
        )
    if unknown:
        warnings.append(
            f"{len(unknown)} status(es) have no known category: {', '.join(unknown)}. Their "
            "intervals keep a null category (see jira_data_quality for the issues using them); "
            "a statuses.json listing them (GET /rest/api/3/status) would give it."
        )
    if collector.unreadable_points or unreadable_changes:
        warnings.append(
            "Some story-point values are not usable numbers (infinite, NaN, negative or not a "
            "number) and count as no estimate: "
            f"{len(collector.unreadable_points)} issue value(s)"
            + (
                f" ({_key_list(collector.unreadable_points)})"
                if collector.unreadable_points
                else ""
            )
            + f", {unreadable_changes} changelog value(s); jira_data_quality lists each."
        )
    if collector.bad_sprint_values:
        warnings.append(
            f"Sprint field values that could not be read: {_key_list(collector.bad_sprint_values)}."
        )
    if reconciled:
        warnings.append(
            f"{len(reconciled)} issue(s) have a sprint history that does not match their "
            f"current Sprint field: {_key_list(reconciled)}. Their membership was reconciled "
            "towards the current field (rows marked inferred)."
        )
    if quality_rows:
        warnings.append(
            f"{quality_rows} value(s) of the snapshot could not be used as found: the table "
            "jira_data_quality lists each (its issue, sprint or status, the field, the value) "
            "with what was left out because of it; the rest is computed as usual."
        )
