"""The snapshot guard: refuses a snapshot that would make a team look falsely healthy.

An empty issues file, a site without boards, a Scrum site whose Sprint field was not found, or a
snapshot with far fewer issues than the last published one all parse without error, and then
every figure is zero and every insight says "healthy". Those are almost always a broken export
or a wrong filter, so staging stops with an error that names the setting to set when it really
is intended. The guard is a resource of its own (key `snapshot_guard`) because run config
replaces the whole config of a resource it names; sharing one with the data folder would move
the data folder.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from pydantic import Field

RESOURCE_KEY = "snapshot_guard"


def _setting(name: str, value: object) -> str:
    return f"resources.{RESOURCE_KEY}.config.{name}: {str(value).lower()}"


@dataclass(frozen=True)
class SnapshotCounts:
    """What the guard looks at in a parsed snapshot."""

    issues: int
    boards: int
    scrum_boards: int
    sprints: int
    sprint_field_found: bool


class SnapshotGuard(dg.ConfigurableResource):
    """Which implausible snapshots staging accepts (all refused by default)."""

    allow_no_issues: bool = Field(
        default=False, description="Accept a snapshot whose issues file holds no issue."
    )
    allow_no_boards: bool = Field(
        default=False, description="Accept a snapshot whose boards.json lists no board."
    )
    allow_no_sprint_field: bool = Field(
        default=False,
        description="Accept a site with Scrum boards or sprints but no Sprint field found.",
    )
    min_issue_ratio: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Refuse a snapshot with fewer issues than this share of the last published "
        "one (0 turns the check off).",
    )

    def refusals(self, counts: SnapshotCounts, published_issues: int | None) -> list[str]:
        """Why the snapshot is refused, one sentence each (empty: accepted)."""
        found = []
        if counts.issues == 0 and not self.allow_no_issues:
            found.append(
                "it holds no issues, so every figure would be zero and every insight "
                "'healthy'. Check the export (an empty issues.jsonl, a JQL or project filter "
                f"that matches nothing), or set {_setting('allow_no_issues', True)}"
            )
        if counts.boards == 0 and not self.allow_no_boards:
            found.append(
                "boards.json lists no board, so no figure can be given per board. Export the "
                f"boards (GET /rest/agile/1.0/board), or set {_setting('allow_no_boards', True)}"
            )
        if (
            not counts.sprint_field_found
            and (counts.scrum_boards or counts.sprints)
            and not self.allow_no_sprint_field
        ):
            found.append(
                f"the site has {counts.scrum_boards} Scrum board(s) and {counts.sprints} "
                "sprint(s) but no Sprint field was found in fields.json, so no issue would "
                "belong to a sprint and every sprint would read '0 of 0'. Name the field in "
                "meta.json as sprint_field, or set "
                f"{_setting('allow_no_sprint_field', True)}"
            )
        if (
            published_issues
            and counts.issues
            and counts.issues < self.min_issue_ratio * published_issues
        ):
            found.append(
                f"it holds {counts.issues} issues against {published_issues} in the last "
                f"published snapshot (under {self.min_issue_ratio:.0%} of them), which looks "
                "like a cut-short export or a narrowed filter. If the site really shrank, set "
                f"{_setting('min_issue_ratio', 0)} for this run"
            )
        return found
