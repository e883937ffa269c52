"""The Sprint field's values, in the shapes real sites send.

- Jira Cloud (and Data Center 8.x+ via the agile API) sends a list of sprint objects:
  `{"id": 3, "name": "Scrum Sprint 3", "state": "active", "boardId": 2, "startDate": ...}`.
- Jira Server and older sites send a list of strings that are a Java object's `toString()`:
  `com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=12,rapidViewId=3,state=CLOSED,
  name=Sprint 4,goal=a, b,startDate=...,endDate=...,completeDate=<null>,sequence=12]`.
  The key order varies between versions and the name and goal may contain commas, so the
  string is cut at the known key names, never at every comma.
- A changelog Sprint item holds comma-separated sprint ids (`"7, 9"`), and `""` for none.

A sprint date that is no instant (an impossible date such as 2026-02-30) is left out (None) and
kept in `SprintRef.unreadable_dates`, so one bad date neither hides the issue's sprints nor stops
the parse; the staging build records it when it uses the sprint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from jira_insights_pipeline.parsing.timestamps import (
    TimestampError,
    parse_jira_instant,
    parse_jira_instants_keeping_going,
)

# Every key that Server versions 6 to 9 are known to write into the Sprint@ string.
LEGACY_SPRINT_KEYS = (
    "id",
    "rapidViewId",
    "state",
    "name",
    "goal",
    "startDate",
    "endDate",
    "completeDate",
    "activatedDate",
    "sequence",
    "autoStartStop",
    "synced",
    "incompleteIssuesDestinationId",
    "originBoardId",
)
_LEGACY_PREFIX = re.compile(r"^\s*[\w.$]*Sprint@[0-9a-fA-F]+\[(?P<body>.*)\]\s*$", re.DOTALL)
_LEGACY_KEY = re.compile(r"(?:^|,)(" + "|".join(LEGACY_SPRINT_KEYS) + r")=")


class SprintFieldError(ValueError):
    """A Sprint field value in none of the shapes Jira sends."""


@dataclass(frozen=True)
class SprintRef:
    """One sprint as an issue's Sprint field describes it."""

    sprint_id: int
    name: str | None = None
    state: str | None = None
    board_id: int | None = None
    start_date: pd.Timestamp | None = None
    end_date: pd.Timestamp | None = None
    complete_date: pd.Timestamp | None = None
    goal: str | None = None
    # (Jira's key, e.g. "startDate", the value as found, what is wrong with it) for each date
    # that could not be read and is None above.
    unreadable_dates: tuple[tuple[str, str, str], ...] = ()


def _optional_int(value: Any) -> int | None:
    if value is None or value == "" or value == "<null>":
        return None
    return int(value)


def _optional_text(value: Any) -> str | None:
    if value is None or value == "<null>":
        return None
    text = str(value)
    return text if text != "" else None


_DATE_KEYS = ("startDate", "endDate", "completeDate")


def _instants(
    values: Mapping[str, Any],
) -> tuple[dict[str, pd.Timestamp | None], tuple[tuple[str, str, str], ...]]:
    """A sprint's three dates by Jira's key, and those that could not be read."""
    instants: dict[str, pd.Timestamp | None] = {}
    unreadable: list[tuple[str, str, str]] = []
    for key in _DATE_KEYS:
        value = values.get(key)
        if value is None or value in ("", "<null>"):
            instants[key] = None
            continue
        try:
            instants[key] = parse_jira_instant(str(value))
        except TimestampError:
            instants[key] = None
            _, problems = parse_jira_instants_keeping_going([str(value)])
            problem = problems[0].problem if problems else "is not an instant as Jira writes them"
            unreadable.append((key, str(value), problem))
    return instants, tuple(unreadable)


def parse_legacy_sprint(text: str) -> SprintRef:
    """One `com.atlassian.greenhopper.service.sprint.Sprint@...[...]` string."""
    match = _LEGACY_PREFIX.match(text)
    if not match:
        raise SprintFieldError(
            f"{text[:120]!r} is not a Sprint@ string (expected "
            "com.atlassian.greenhopper.service.sprint.Sprint@<hash>[id=..,name=..,...])."
        )
    body = match.group("body")
    keys = list(_LEGACY_KEY.finditer(body))
    values: dict[str, str] = {}
    for position, key in enumerate(keys):
        end = keys[position + 1].start() if position + 1 < len(keys) else len(body)
        values[key.group(1)] = body[key.end() : end]
    if "id" not in values:
        raise SprintFieldError(f"{text[:120]!r} has no id=...: cannot tell which sprint it is.")
    state = _optional_text(values.get("state"))
    instants, unreadable = _instants(values)
    return SprintRef(
        sprint_id=int(values["id"]),
        name=_optional_text(values.get("name")),
        state=state.lower() if state else None,
        board_id=_optional_int(values.get("rapidViewId") or values.get("originBoardId")),
        start_date=instants["startDate"],
        end_date=instants["endDate"],
        complete_date=instants["completeDate"],
        goal=_optional_text(values.get("goal")),
        unreadable_dates=unreadable,
    )


def _from_object(sprint: Mapping[str, Any]) -> SprintRef:
    if sprint.get("id") is None:
        raise SprintFieldError(f"Sprint object without an id: {dict(sprint)!r:.200}")
    state = _optional_text(sprint.get("state"))
    instants, unreadable = _instants(sprint)
    return SprintRef(
        sprint_id=int(sprint["id"]),
        name=_optional_text(sprint.get("name")),
        state=state.lower() if state else None,
        board_id=_optional_int(sprint.get("boardId", sprint.get("originBoardId"))),
        start_date=instants["startDate"],
        end_date=instants["endDate"],
        complete_date=instants["completeDate"],
        goal=_optional_text(sprint.get("goal")),
        unreadable_dates=unreadable,
    )


def parse_sprint_field(value: Any) -> list[SprintRef]:
    """An issue's Sprint field value (list of objects, list of Sprint@ strings, a single one
    of either, or null) as sprint references, in the order Jira lists them."""
    if value is None or value == "" or value == []:
        return []
    items = value if isinstance(value, list) else [value]
    sprints: list[SprintRef] = []
    for item in items:
        if isinstance(item, Mapping):
            sprints.append(_from_object(item))
        elif isinstance(item, str):
            sprints.append(parse_legacy_sprint(item))
        elif item is not None:
            raise SprintFieldError(
                f"Unexpected Sprint field entry {item!r:.200}: expected a sprint object or a "
                "Sprint@ string."
            )
    return sprints


def parse_sprint_ids(value: str | None) -> list[int]:
    """A changelog Sprint item's `from`/`to`: `"7, 9"` -> [7, 9]; None and "" -> []."""
    if value is None:
        return []
    ids: list[int] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise SprintFieldError(
                f"Sprint changelog value {value!r} is not a comma-separated list of sprint ids."
            )
        ids.append(int(part))
    return ids
