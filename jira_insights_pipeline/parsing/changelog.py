"""Issue histories flattened to one row per changed item, in time order.

Real histories come in any order (jirametrics' SP-13 and DevLake's site send them newest first),
so rows are sorted by the history's instant, then its numeric id, then the item's position in
it. Each item gets a `field_role` when it changes a field the metrics follow: matched by
`fieldId` when the item has one, else by the field's name (Jira Server and older Cloud histories
carry no `fieldId`). `""` in from/to is Jira's way of saying "nothing" and becomes null.

A history without a usable instant (none at all, or an impossible date such as 2026-02-30) cannot
be placed in time, so none of its items can be: the whole history is left out and listed in
`ChangelogBuilder.dropped`, and the issue's intervals are rebuilt from its other histories.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from jira_insights_pipeline.parsing.fields import DiscoveredFields
from jira_insights_pipeline.parsing.timestamps import (
    UnreadableInstant,
    parse_jira_instants_keeping_going,
)

CHANGELOG_COLUMNS = (
    "issue_id",
    "issue_key",
    "history_id",
    "created",
    "author",
    "item_index",
    "field",
    "field_id",
    "field_type",
    "field_role",
    "from_value",
    "from_string",
    "to_value",
    "to_string",
)

# Names Jira gives these fields in histories when the field listing does not say otherwise.
DEFAULT_ROLE_NAMES = {
    "status": "status",
    "description": "description",
    "sprint": "sprint",
    "flagged": "flagged",
}


class DroppedHistory(NamedTuple):
    """A history left out of the changelog because its instant is missing or unreadable."""

    issue_id: str
    issue_key: str
    history_id: str
    value: str
    problem: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class FieldRoles:
    """Which changelog items change a field the metrics follow."""

    by_field_id: Mapping[str, str]
    by_name: Mapping[str, str]

    @classmethod
    def from_fields(cls, discovered: DiscoveredFields) -> FieldRoles:
        by_field_id = {"status": "status", "description": "description"}
        by_name = dict(DEFAULT_ROLE_NAMES)
        for role, choice in (
            ("sprint", discovered.sprint),
            ("story_points", discovered.story_points),
            ("flagged", discovered.flagged),
            ("acceptance_criteria", discovered.acceptance_criteria),
        ):
            if choice.field_id:
                by_field_id[choice.field_id] = role
            if choice.name:
                by_name[choice.name.casefold()] = role
        if discovered.story_points.field_id and not discovered.story_points.name:
            # An override without a field listing: Server histories name it, with no id.
            by_name.setdefault("story points", "story_points")
            by_name.setdefault("story point estimate", "story_points")
        return cls(by_field_id=by_field_id, by_name=by_name)

    def role(self, field_id: str | None, field_name: str | None) -> str | None:
        if field_id:
            return self.by_field_id.get(field_id)
        if field_name:
            return self.by_name.get(field_name.casefold())
        return None


def _text(value: Any) -> str | None:
    if value.__class__ is str:
        return value or None
    return None if value is None else str(value)


def _author(history: Mapping[str, Any]) -> str | None:
    author = history.get("author")
    if not isinstance(author, Mapping):
        return None
    return _text(author.get("displayName") or author.get("name") or author.get("accountId"))


def _history_number(history_id: str) -> float:
    return float(history_id) if history_id.isdigit() else math.inf


class ChangelogBuilder:
    """Collects changelog rows issue by issue in plain lists, one per column, and makes one
    sorted frame at the end."""

    def __init__(self, roles: FieldRoles) -> None:
        self.roles = roles
        self.columns: dict[str, list[Any]] = {name: [] for name in CHANGELOG_COLUMNS}
        self._history_numbers: list[float] = []
        self._issue_positions: list[int] = []
        self._issues_seen = 0
        self._role_cache: dict[tuple[str | None, Any], str | None] = {}
        self._shared: dict[str | None, str | None] = {}
        self.dropped: list[DroppedHistory] = []

    def add_issue(self, issue: Mapping[str, Any]) -> tuple[int, int | None]:
        """Adds one issue's embedded `changelog.histories`. Returns the number of histories
        and Jira's `changelog.total` (None when absent)."""
        changelog = issue.get("changelog") or {}
        histories = changelog.get("histories") or []
        total = changelog.get("total")
        self.add_histories(str(issue.get("id")), str(issue.get("key")), histories)
        try:
            return len(histories), int(total) if total is not None and total != "" else None
        except (TypeError, ValueError):
            return len(histories), None

    def add_histories(
        self, issue_id: str, issue_key: str, histories: Iterable[Mapping[str, Any]]
    ) -> None:
        position = self._issues_seen
        self._issues_seen += 1
        role_cache = self._role_cache
        role_of = self.roles.role
        (
            issue_ids,
            issue_keys,
            history_ids,
            createds,
            authors,
            item_indexes,
            field_names,
            field_ids,
            field_types,
            field_roles,
            from_values,
            from_strings,
            to_values,
            to_strings,
        ) = (self.columns[name] for name in CHANGELOG_COLUMNS)
        numbers = self._history_numbers
        # One object per distinct value: the few field names, ids and status names repeat a
        # million times, and shared objects keep later column passes cache-friendly.
        shared = self._shared.setdefault
        before = len(issue_ids)
        for history in histories:
            created = history.get("created")
            history_id = str(history.get("id"))
            if not created:
                # Every Jira history has an instant; one without cannot be placed in time.
                self.dropped.append(
                    DroppedHistory(
                        issue_id,
                        issue_key,
                        history_id,
                        "" if created is None else str(created),
                        "has no date at all",
                        _item_fields(history),
                    )
                )
                continue
            history_number = _history_number(history_id)
            author = _author(history)
            author = shared(author, author)
            for item_index, item in enumerate(history.get("items") or ()):
                field_name = item.get("field")
                field_id = _text(item.get("fieldId"))
                cache_key = (field_id, field_name)
                if cache_key in role_cache:
                    role = role_cache[cache_key]
                else:
                    role = role_cache[cache_key] = role_of(field_id, field_name)
                issue_ids.append(issue_id)
                issue_keys.append(issue_key)
                history_ids.append(history_id)
                createds.append(created)
                authors.append(author)
                item_indexes.append(item_index)
                name = "" if field_name is None else str(field_name)
                field_names.append(shared(name, name))
                field_ids.append(shared(field_id, field_id))
                field_type = _text(item.get("fieldtype"))
                field_types.append(shared(field_type, field_type))
                field_roles.append(role)
                value = _text(item.get("from"))
                from_values.append(shared(value, value))
                value = _text(item.get("fromString"))
                from_strings.append(shared(value, value))
                value = _text(item.get("to"))
                to_values.append(shared(value, value))
                value = _text(item.get("toString"))
                to_strings.append(shared(value, value))
                numbers.append(history_number)
        self._issue_positions.extend([position] * (len(issue_ids) - before))

    def to_frame(self) -> pd.DataFrame:
        """The rows as a frame sorted by issue (in the order added), instant, history id and
        item position; `created` in UTC. Histories whose instant cannot be read are left out and
        added to `dropped`."""
        created, unreadable = parse_jira_instants_keeping_going(
            self.columns["created"], "changelog history 'created'"
        )
        keep = self._drop_unreadable(unreadable)
        created_values = created.to_numpy(dtype="datetime64[ns]")
        created_ns = created_values.astype("int64")
        item_index = np.asarray(self.columns["item_index"], dtype="int64")
        numbers = np.asarray(self._history_numbers, dtype="float64")
        keys: list[np.ndarray] = [item_index]
        if np.isinf(numbers).any():
            # Only non-numeric history ids need their text as a tie-breaker.
            keys.append(np.asarray(self.columns["history_id"], dtype=str))
        keys += [numbers, created_ns, np.asarray(self._issue_positions, dtype="int64")]
        order = np.lexsort(keys)
        if keep is not None:
            order = order[keep[order]]
        data: dict[str, Any] = {}
        for name in CHANGELOG_COLUMNS:
            if name == "created":
                data[name] = pd.DatetimeIndex(created_values[order]).tz_localize("UTC")
            elif name == "item_index":
                data[name] = item_index[order]
            else:
                data[name] = np.asarray(self.columns[name], dtype=object)[order]
        return pd.DataFrame(data, columns=list(CHANGELOG_COLUMNS))

    def _drop_unreadable(self, unreadable: list[UnreadableInstant]) -> np.ndarray | None:
        """Which rows to keep (None: all) once the rows of histories with an unreadable instant
        are left out; each such history becomes one `dropped` entry naming its items' fields."""
        if not unreadable:
            return None
        keep = np.ones(len(self.columns["created"]), dtype=bool)
        by_history: dict[tuple[str, str], tuple[str, str, str, str, str, list[str]]] = {}
        columns = self.columns
        for position, value, problem in unreadable:
            keep[position] = False
            issue_id, history_id = columns["issue_id"][position], columns["history_id"][position]
            entry = by_history.setdefault(
                (issue_id, history_id),
                (issue_id, columns["issue_key"][position], history_id, value, problem, []),
            )
            entry[5].append(columns["field"][position])
        self.dropped.extend(
            DroppedHistory(issue_id, key, history_id, value, problem, tuple(dict.fromkeys(fields)))
            for issue_id, key, history_id, value, problem, fields in by_history.values()
        )
        return keep


def _item_fields(history: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of the fields a history's items change, each once, in order."""
    items = history.get("items") or ()
    names = (str(item.get("field")) for item in items if isinstance(item, Mapping))
    return tuple(dict.fromkeys(names))


def flatten_changelog(issue: Mapping[str, Any], roles: FieldRoles) -> pd.DataFrame:
    """One issue's history as sorted changelog rows (the `jira_changelog` columns)."""
    builder = ChangelogBuilder(roles)
    builder.add_issue(issue)
    return builder.to_frame()
