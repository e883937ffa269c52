"""Which custom field holds the sprint, the story points, the flag, the epic link and the
acceptance criteria on this site.

Every Jira site numbers its custom fields differently (`customfield_10020` here,
`customfield_12310921` there), and names are translatable and not unique, so each field is
found by the most reliable evidence available, and the report says which evidence was used.

Story points, in this order:

1. `meta.json`'s `story_points_field`: the user knows best.
2. The boards' configuration (`estimation.field.fieldId`): the field Jira itself sums on the
   board. If boards disagree, the one most boards use wins (a warning says so).
3. The schema type `com.pyxis.greenhopper.jira:jsw-story-points` ("Story point estimate"): the
   field Jira Software manages as its estimate, the same on every Cloud site.
4. A custom number field named "Story Points": the field older (and Server) sites created for
   Jira Agile. Several may share the name (jira.atlassian.com has three); the lowest id, the
   oldest field, wins and a warning lists the others.
5. A field named "Story point estimate" that lacks the Jira Software schema type.

Sites with both 3 and 4 (several public sites have them) are ambiguous without a board
configuration: the warning names both so the user can set `story_points_field`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
STORY_POINTS_SCHEMA = "com.pyxis.greenhopper.jira:jsw-story-points"
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
MULTICHECKBOX_SCHEMA = "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes"

# Board estimation by time is not story points: these are seconds.
TIME_ESTIMATE_FIELDS = frozenset({"timeoriginalestimate", "timeestimate", "aggregatetimeestimate"})


@dataclass(frozen=True)
class FieldChoice:
    """One discovered field: its id (None when the site has none), its name when known, and
    how it was found, in words a user can check."""

    field_id: str | None
    name: str | None
    how: str

    def as_dict(self) -> dict[str, str | None]:
        return {"field_id": self.field_id, "name": self.name, "how": self.how}


@dataclass(frozen=True)
class DiscoveredFields:
    """The site's fields that the pipeline needs, and warnings about ambiguous choices."""

    sprint: FieldChoice
    story_points: FieldChoice
    flagged: FieldChoice
    epic_link: FieldChoice
    acceptance_criteria: FieldChoice
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, dict[str, str | None]]:
        return {
            "sprint": self.sprint.as_dict(),
            "story_points": self.story_points.as_dict(),
            "flagged": self.flagged.as_dict(),
            "epic_link": self.epic_link.as_dict(),
            "acceptance_criteria": self.acceptance_criteria.as_dict(),
        }


def _schema_custom(definition: Mapping[str, Any]) -> str:
    return str((definition.get("schema") or {}).get("custom") or "")


def _schema_type(definition: Mapping[str, Any]) -> str:
    return str((definition.get("schema") or {}).get("type") or "")


def _name_key(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


def _id_order(field_id: str) -> tuple[int, str]:
    match = re.search(r"(\d+)$", field_id)
    return (int(match.group(1)) if match else 1 << 62, field_id)


def _by_id_order(definitions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(definitions, key=lambda d: _id_order(str(d.get("id"))))


def _override(field_id: str | None, names: Mapping[str, str]) -> FieldChoice | None:
    if not field_id:
        return None
    return FieldChoice(field_id, names.get(field_id), "meta.json override")


def _none(what: str) -> FieldChoice:
    return FieldChoice(None, None, f"no {what} field on this site")


def _board_estimation_fields(boards: Iterable[Mapping[str, Any]]) -> dict[int | str, str]:
    found: dict[int | str, str] = {}
    for board in boards:
        configuration = board.get("configuration") or {}
        estimation = configuration.get("estimation") or {}
        field_id = (estimation.get("field") or {}).get("fieldId")
        if field_id:
            found[board.get("id", configuration.get("id", "?"))] = str(field_id)
    return found


def discover_fields(
    fields: Iterable[Mapping[str, Any]],
    boards: Iterable[Mapping[str, Any]] = (),
    *,
    story_points_override: str | None = None,
    sprint_override: str | None = None,
    flagged_override: str | None = None,
) -> DiscoveredFields:
    """Finds the sprint, story points, flagged, epic link and acceptance criteria fields in a
    `/rest/api/{2,3}/field` listing (and the boards' configuration, for story points)."""
    definitions = [d for d in fields if isinstance(d, Mapping) and d.get("id")]
    names = {str(d["id"]): str(d.get("name") or "") for d in definitions}
    warnings: list[str] = []

    sprint = _override(sprint_override, names) or _by_schema(
        definitions, SPRINT_SCHEMA, "Sprint", warnings
    )
    flagged = _override(flagged_override, names) or _flagged(definitions, warnings)
    story_points = _override(story_points_override, names) or _story_points(
        definitions, list(boards), names, warnings
    )
    epic_link = _by_schema(definitions, EPIC_LINK_SCHEMA, "Epic Link", warnings)
    acceptance = _by_name(definitions, "Acceptance Criteria", warnings, custom_only=True)
    return DiscoveredFields(
        sprint=sprint,
        story_points=story_points,
        flagged=flagged,
        epic_link=epic_link,
        acceptance_criteria=acceptance,
        warnings=tuple(warnings),
    )


def _by_schema(
    definitions: list[Mapping[str, Any]], schema: str, what: str, warnings: list[str]
) -> FieldChoice:
    matches = _by_id_order(d for d in definitions if _schema_custom(d) == schema)
    if not matches:
        return _none(what)
    chosen = matches[0]
    if len(matches) > 1:
        others = ", ".join(str(d["id"]) for d in matches[1:])
        warnings.append(
            f"Several {what} fields ({schema}); using {chosen['id']}, not {others}. "
            f"Set it in meta.json if that is wrong."
        )
    return FieldChoice(str(chosen["id"]), str(chosen.get("name") or ""), f"schema type {schema}")


def _by_name(
    definitions: list[Mapping[str, Any]],
    name: str,
    warnings: list[str],
    *,
    custom_only: bool = False,
    schema_types: frozenset[str] | None = None,
    exclude_schema: str | None = None,
) -> FieldChoice:
    wanted = _name_key(name)
    matches = _by_id_order(
        d
        for d in definitions
        if _name_key(d.get("name")) == wanted
        and (not custom_only or d.get("custom") is True or str(d["id"]).startswith("customfield_"))
        and (schema_types is None or _schema_type(d) in schema_types)
        and (exclude_schema is None or _schema_custom(d) != exclude_schema)
    )
    if not matches:
        return _none(name)
    chosen = matches[0]
    how = f'name "{name}"'
    if len(matches) > 1:
        others = ", ".join(str(d["id"]) for d in matches[1:])
        how += f" (lowest of {len(matches)} fields with that name)"
        warnings.append(
            f'{len(matches)} fields are named "{name}": using {chosen["id"]} (the oldest), '
            f"not {others}. If the boards use another, add their configuration to boards.json "
            "or set the field in meta.json."
        )
    return FieldChoice(str(chosen["id"]), str(chosen.get("name") or ""), how)


def _flagged(definitions: list[Mapping[str, Any]], warnings: list[str]) -> FieldChoice:
    choice = _by_name(definitions, "Flagged", warnings, custom_only=True)
    if choice.field_id is None:
        return choice
    chosen = next(d for d in definitions if str(d["id"]) == choice.field_id)
    if _schema_custom(chosen) != MULTICHECKBOX_SCHEMA:
        warnings.append(
            f'Field {choice.field_id} is named "Flagged" but is not a multi-checkbox field '
            f"({_schema_custom(chosen) or 'no schema'}); it is used anyway."
        )
    return FieldChoice(choice.field_id, choice.name, choice.how + " and multi-checkbox schema")


def _story_points(
    definitions: list[Mapping[str, Any]],
    boards: list[Mapping[str, Any]],
    names: Mapping[str, str],
    warnings: list[str],
) -> FieldChoice:
    by_board = _board_estimation_fields(boards)
    time_boards = sorted(str(b) for b, f in by_board.items() if f in TIME_ESTIMATE_FIELDS)
    if time_boards:
        warnings.append(
            f"Board(s) {', '.join(time_boards)} estimate in time, not story points; their "
            "estimation field is not used as story points."
        )
    usable = {b: f for b, f in by_board.items() if f not in TIME_ESTIMATE_FIELDS}
    if usable:
        counts = Counter(usable.values())
        ranked = sorted(counts, key=lambda f: (-counts[f], _id_order(f)))
        chosen = ranked[0]
        if len(ranked) > 1:
            warnings.append(
                "Boards estimate with different fields ("
                + ", ".join(f"{f}: {counts[f]} board(s)" for f in ranked)
                + f"); using {chosen} for every issue. Set story_points_field in meta.json "
                "to choose."
            )
        boards_using = sorted(str(b) for b, f in usable.items() if f == chosen)
        return FieldChoice(
            chosen,
            names.get(chosen),
            f"board configuration estimation field (board {', '.join(boards_using)})",
        )

    by_schema = _by_schema(definitions, STORY_POINTS_SCHEMA, "story point estimate", warnings)
    by_name = _by_name(
        definitions,
        "Story Points",
        warnings,
        custom_only=True,
        schema_types=frozenset({"number"}),
        exclude_schema=STORY_POINTS_SCHEMA,
    )
    if by_schema.field_id and by_name.field_id:
        warnings.append(
            f"This site has both {by_schema.field_id} ({by_schema.name}, Jira Software's "
            f"estimate) and {by_name.field_id} ({by_name.name}); using {by_schema.field_id}. "
            "Company-managed boards often use the other: add the boards' configuration to "
            "boards.json or set story_points_field in meta.json."
        )
    if by_schema.field_id:
        return by_schema
    if by_name.field_id:
        return by_name
    estimate = _by_name(definitions, "Story point estimate", warnings, custom_only=True)
    if estimate.field_id:
        return estimate
    return _none("story points")
