"""Generates the bundled sample Jira site: a deterministic, seeded snapshot of a Jira Cloud site
whose boards hold the situations a Scrum Master should be told about (see PLANTED.md).

    python -m jira_insights_pipeline.sample.generator --out DIR --boards 100 --sprints 40

The same arguments always give byte-identical files: every random choice comes from
`random.Random` seeded with the arguments, and no clock is read. The site is exported at
2026-11-20T09:00:00+00:00, while every board's active sprint is running.

Jira numbers issues and changelog histories site-wide in the order they happen. Boards are
simulated one at a time to keep memory flat, so the generator simulates each board twice: the
first pass only collects when every issue and history happened, the second writes them with ids
ranked by those instants, streaming issue by issue into the snapshot.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_insights_pipeline.sample import jira_shapes as shapes
from jira_insights_pipeline.sample.board_plan import BoardPlan, plan_boards
from jira_insights_pipeline.sample.clock import jira_time, to_ms
from jira_insights_pipeline.sample.issues import SimIssue
from jira_insights_pipeline.sample.jira_shapes import Person, Status
from jira_insights_pipeline.sample.simulation import BoardSimulation
from jira_insights_pipeline.snapshot import SnapshotMeta, write_snapshot

EXPORTED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEFAULT_BOARDS = 4
DEFAULT_SPRINTS = 9
DEFAULT_SEED = 20261120
DEFAULT_ISSUES_PER_SPRINT = 25

_FIRST_ISSUE_ID = 10000
_FIRST_HISTORY_ID = 10100
_FIRST_LINK_ID = 10000
_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

_LINK_TYPES: dict[str, tuple[str, str, str]] = {
    "Blocks": ("10000", "is blocked by", "blocks"),
    "Relates": ("10003", "relates to", "relates to"),
    "Problem/Incident": ("10004", "is caused by", "causes"),
}


@dataclass(frozen=True)
class SiteSummary:
    """What a generation wrote."""

    path: Path
    boards: int
    sprints: int
    issues: int
    issues_by_type: dict[str, int] = field(default_factory=dict)
    histories: int = 0
    changelog_items: int = 0

    def line(self) -> str:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.issues_by_type.items()))
        return (
            f"{self.path}: {self.boards} boards, {self.sprints} sprints, {self.issues} issues "
            f"({kinds}), {self.histories} histories, {self.changelog_items} changelog items"
        )


def _ranks(instants: array) -> array:
    """rank[i]: the position of instants[i] in time order (ties keep their recording order)."""
    order = sorted(range(len(instants)), key=instants.__getitem__)
    rank = array("q", bytes(8 * len(instants)))
    for position, index in enumerate(order):
        rank[index] = position
    return rank


def _ordered_events(issue: SimIssue) -> list[tuple[int, Person, list[tuple]]]:
    """Histories oldest first; two at the same instant keep the order they were made in."""
    return [event for _, event in sorted(enumerate(issue.events), key=lambda e: (e[1][0], e[0]))]


def _points_text(points: float | None) -> str | None:
    if points is None:
        return None
    return str(int(points)) if points == int(points) else str(points)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


class _BoardWriter:
    """Turns one simulated board into issues exactly as `GET /rest/api/3/issue/{key}
    ?expand=changelog` returns them."""

    def __init__(
        self,
        plan: BoardPlan,
        issues: list[SimIssue],
        issue_ids: dict[SimIssue, int],
        history_ids: dict[SimIssue, list[int]],
        link_ids: dict[str, int],
        site_ari: str,
        seed: int,
    ) -> None:
        self.plan = plan
        self.issue_ids = issue_ids
        self.history_ids = history_ids
        self.link_ids = link_ids
        self.site_ari = site_ari
        self.rng = random.Random(f"{seed}:render:{plan.index}")
        in_time_order = sorted(issues, key=lambda i: (i.created, i.local))
        self.ordered = in_time_order
        self.keys = {issue: f"{plan.key}-{n}" for n, issue in enumerate(in_time_order, start=1)}
        self.users: dict[Person, dict[str, Any]] = {}
        self.statuses = {s.id: shapes.status_json(s) for s in shapes.STATUS_BY_ID.values()}
        self.types = {
            kind: shapes.issue_type_json(kind)
            for kind in (shapes.EPIC, shapes.STORY, shapes.TASK, shapes.SUBTASK, shapes.BUG)
        }
        self.priorities = {p: shapes.priority_json(p) for p in shapes.PRIORITIES}
        self.project = shapes.project_json(plan.project_id, plan.key, plan.name)
        self.sprints = {s.id: s for s in plan.sprints}
        self.sprint_fields = {s.id: shapes.sprint_field_json(s) for s in plan.sprints}
        # The team-wide component keeps the id it always had; a team's areas come after.
        component_names = [plan.name, *(area for area, _ in plan.team.areas)]
        self.components = {
            name: {
                "self": f"{shapes.API}/component/{component_id}",
                "id": str(component_id),
                "name": name,
            }
            for n, name in enumerate(component_names)
            for component_id in [10000 + plan.index if n == 0 else 20000 + 10 * plan.index + n]
        }

    def user(self, person: Person | None) -> dict[str, Any] | None:
        if person is None:
            return None
        if person not in self.users:
            self.users[person] = shapes.user_json(person)
        return self.users[person]

    def reference(self, issue: SimIssue) -> dict[str, Any]:
        """How one issue names another: in `parent`, `subtasks` and `issuelinks`."""
        issue_id = self.issue_ids[issue]
        return {
            "id": str(issue_id),
            "key": self.keys[issue],
            "self": f"{shapes.API}/issue/{issue_id}",
            "fields": {
                "summary": issue.summary,
                "status": self.statuses[issue.status.id],
                "priority": self.priorities[issue.priority],
                "issuetype": self.types[issue.kind],
            },
        }

    def _sprint_text(self, sprint_ids: tuple[int, ...]) -> tuple[str, str]:
        return (
            ", ".join(str(s) for s in sprint_ids),
            ", ".join(self.sprints[s].name for s in sprint_ids),
        )

    def _description_ref(self, issue_id: int, version: int) -> str:
        return json.dumps(
            {
                "id": f"ari:cloud:jira:{self.site_ari}:issuefieldvalue/{issue_id}/description",
                "version": str(version),
            },
            separators=(",", ":"),
        )

    def item(self, issue: SimIssue, kind: str, old: Any, new: Any) -> dict[str, Any]:
        if kind == "status":
            old_status: Status = old
            new_status: Status = new
            return {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old_status.id,
                "fromString": old_status.name,
                "to": new_status.id,
                "toString": new_status.name,
            }
        if kind == "resolution":
            return {
                "field": "resolution",
                "fieldtype": "jira",
                "fieldId": "resolution",
                "from": shapes.DONE_RESOLUTION_ID if old else None,
                "fromString": old,
                "to": shapes.DONE_RESOLUTION_ID if new else None,
                "toString": new,
            }
        if kind == "points":
            return {
                "field": "Story point estimate",
                "fieldtype": "custom",
                "fieldId": shapes.STORY_POINTS_FIELD,
                "from": None,
                "fromString": _points_text(old),
                "to": None,
                "toString": _points_text(new),
            }
        if kind == "sprint":
            old_ids, old_names = self._sprint_text(old)
            new_ids, new_names = self._sprint_text(new)
            return {
                "field": "Sprint",
                "fieldtype": "custom",
                "fieldId": shapes.SPRINT_FIELD,
                "from": old_ids,
                "fromString": old_names,
                "to": new_ids,
                "toString": new_names,
            }
        if kind == "flag":
            impediment = f"[{shapes.IMPEDIMENT_OPTION_ID}]"
            return {
                "field": "Flagged",
                "fieldtype": "custom",
                "fieldId": shapes.FLAGGED_FIELD,
                "from": impediment if old else None,
                "fromString": "Impediment" if old else None,
                "to": impediment if new else "",
                "toString": "Impediment" if new else "",
            }
        if kind == "description":
            issue_id = self.issue_ids[issue]
            old_version, old_paragraphs, old_criteria = old
            new_version, new_paragraphs, new_criteria = new
            return {
                "field": "description",
                "fieldtype": "jira",
                "fieldId": "description",
                "from": self._description_ref(issue_id, old_version),
                "fromString": shapes.description_wiki(old_paragraphs, old_criteria),
                "to": self._description_ref(issue_id, new_version),
                "toString": shapes.description_wiki(new_paragraphs, new_criteria),
            }
        if kind == "assignee":
            return {
                "field": "assignee",
                "fieldtype": "jira",
                "fieldId": "assignee",
                "from": old.account_id if old else None,
                "fromString": old.display_name if old else None,
                "to": new.account_id,
                "toString": new.display_name,
            }
        if kind == "priority":
            return {
                "field": "priority",
                "fieldtype": "jira",
                "fieldId": "priority",
                "from": old,
                "fromString": shapes.PRIORITIES[old],
                "to": new,
                "toString": shapes.PRIORITIES[new],
            }
        if kind == "rank":
            return {
                "field": "Rank",
                "fieldtype": "custom",
                "fieldId": shapes.RANK_FIELD,
                "from": "",
                "fromString": "",
                "to": "",
                "toString": new,
            }
        if kind == "epic child":
            return {
                "field": "Epic Child",
                "fieldtype": "custom",
                "from": None,
                "fromString": None,
                "to": str(self.issue_ids[new]),
                "toString": self.keys[new],
            }
        if kind == "link":
            other_key = self.keys[new]
            return {
                "field": "Link",
                "fieldtype": "jira",
                "from": None,
                "fromString": None,
                "to": other_key,
                "toString": f"This issue {old} {other_key}",
            }
        raise ValueError(f"unknown changelog item kind {kind!r}")

    def link(self, link_id: str, role: str, other: SimIssue) -> dict[str, Any]:
        type_name, direction = role.split(":")
        type_id, inward, outward = _LINK_TYPES[type_name]
        number = self.link_ids.setdefault(link_id, _FIRST_LINK_ID + len(self.link_ids))
        return {
            "id": str(number),
            "self": f"{shapes.API}/issueLink/{number}",
            "type": {
                "id": type_id,
                "name": type_name,
                "inward": inward,
                "outward": outward,
                "self": f"{shapes.API}/issueLinkType/{type_id}",
            },
            f"{direction}Issue": self.reference(other),
        }

    def issue(self, issue: SimIssue, rank: int) -> tuple[dict[str, Any], int, int]:
        """The issue's JSON, its number of histories and of changelog items."""
        issue_id = self.issue_ids[issue]
        key = self.keys[issue]
        histories = []
        item_count = 0
        for history_id, (at, author, items) in zip(
            self.history_ids[issue], _ordered_events(issue), strict=True
        ):
            rendered = [self.item(issue, kind, old, new) for kind, old, new in items]
            item_count += len(rendered)
            histories.append(
                {
                    "id": str(history_id),
                    "author": self.user(author),
                    "created": jira_time(at),
                    "items": rendered,
                }
            )
        # Jira sends some issues' histories newest first; readers must sort them.
        if self.rng.random() < 0.25:
            histories.reverse()
        done = issue.is_done
        fields: dict[str, Any] = {
            "statuscategorychangedate": jira_time(issue.category_changed_at or issue.created),
            "issuetype": self.types[issue.kind],
        }
        if issue.parent is not None:
            fields["parent"] = self.reference(issue.parent)
        fields.update(
            {
                "timespent": None,
                "project": self.project,
                "fixVersions": [],
                "aggregatetimespent": None,
                "resolution": shapes.RESOLUTION_DONE if done else None,
                "resolutiondate": jira_time(issue.resolved_at)
                if done and issue.resolved_at is not None
                else None,
                "workratio": -1,
                "watches": {
                    "self": f"{shapes.API}/issue/{key}/watchers",
                    "watchCount": 1 + issue.local % 3,
                    "isWatching": False,
                },
                "lastViewed": None,
                "created": jira_time(issue.created),
                shapes.SPRINT_FIELD: [self.sprint_fields[s] for s in issue.sprints] or None,
                shapes.FLAGGED_FIELD: [
                    {
                        "self": f"{shapes.API}/customFieldOption/{shapes.IMPEDIMENT_OPTION_ID}",
                        "value": "Impediment",
                        "id": shapes.IMPEDIMENT_OPTION_ID,
                    }
                ]
                if issue.flagged
                else None,
                "priority": self.priorities[issue.priority],
                "labels": list(issue.labels),
                shapes.STORY_POINTS_FIELD: issue.points,
                "customfield_10017": issue.epic_color,
                shapes.RANK_FIELD: f"0|i{_base36(rank * 7 + 11):0>5}:",
                shapes.LEGACY_STORY_POINTS_FIELD: None,
                "timeestimate": None,
                "aggregatetimeoriginalestimate": None,
                "versions": [],
                "issuelinks": [self.link(*entry) for entry in issue.links],
                "assignee": self.user(issue.assignee),
                "updated": jira_time(issue.last_change),
                "status": self.statuses[issue.status.id],
                "components": [self.components[name] for name in issue.components],
                "timeoriginalestimate": None,
                "description": shapes.description_adf(issue.paragraphs, issue.criteria)
                if issue.has_description
                else None,
                "customfield_10015": None,
                "timetracking": {},
                "security": None,
                "attachment": [],
                "aggregatetimeestimate": None,
                "summary": issue.summary,
                "creator": self.user(issue.reporter),
                "subtasks": [self.reference(c) for c in issue.children if c.kind == shapes.SUBTASK],
                "reporter": self.user(issue.reporter),
                "aggregateprogress": {"progress": 0, "total": 0},
                "environment": shapes.environment_adf(issue.environment)
                if issue.environment
                else None,
                "duedate": None,
                "progress": {"progress": 0, "total": 0},
                "comment": {
                    "comments": [],
                    "self": f"{shapes.API}/issue/{issue_id}/comment",
                    "maxResults": 0,
                    "total": 0,
                    "startAt": 0,
                },
                "votes": {"self": f"{shapes.API}/issue/{key}/votes", "votes": 0, "hasVoted": False},
            }
        )
        document = {
            "expand": _EXPAND,
            "id": str(issue_id),
            "self": f"{shapes.API}/issue/{issue_id}",
            "key": key,
            "changelog": {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            },
            "fields": fields,
        }
        return document, len(histories), item_count


@dataclass
class _Counts:
    issues: int = 0
    histories: int = 0
    items: int = 0
    by_type: Counter[str] = field(default_factory=Counter)


def _validate(boards: int, sprints: int, issues_per_sprint: int) -> None:
    if boards < 1:
        raise ValueError(f"boards={boards}: a site needs at least one board.")
    if sprints < 5:
        raise ValueError(
            f"sprints={sprints}: use at least 5 (four closed sprints give the trends of completed "
            "points and cycle time their three-sprint baseline, plus the active sprint)."
        )
    if issues_per_sprint < 10:
        raise ValueError(
            f"issues_per_sprint={issues_per_sprint}: use at least 10 so every sprint has stories, "
            "tasks, bugs and sub-tasks."
        )


def generate_site(
    dest: str | Path,
    *,
    boards: int = DEFAULT_BOARDS,
    sprints: int = DEFAULT_SPRINTS,
    seed: int = DEFAULT_SEED,
    issues_per_sprint: int = DEFAULT_ISSUES_PER_SPRINT,
    compress: bool = True,
) -> SiteSummary:
    """Writes the sample site as a snapshot folder at `dest` (replacing what is there).

    `sprints` counts each board's closed sprints plus its active one; every board also has one
    future sprint. `issues_per_sprint` is roughly how many issues a board creates per sprint
    (stories, tasks, bugs and sub-tasks; epics come on top): 4 boards x 9 sprints x 25 gives about
    a thousand issues, 100 boards x 40 sprints x 25 about a hundred thousand."""
    _validate(boards, sprints, issues_per_sprint)
    export = to_ms(EXPORTED_AT)
    plans = plan_boards(boards, sprints, seed)

    created_instants = array("q")
    history_instants = array("q")
    for plan in plans:
        for issue in BoardSimulation(plan, seed, issues_per_sprint, export).run():
            created_instants.append(issue.created)
            history_instants.extend(at for at, _, _ in _ordered_events(issue))
    issue_ranks = _ranks(created_instants)
    history_ranks = _ranks(history_instants)
    del created_instants, history_instants

    site_ari = str(uuid.UUID(int=random.Random(f"{seed}:site").getrandbits(128), version=4))
    counts = _Counts()

    def issues() -> Iterator[dict[str, Any]]:
        issue_position = 0
        history_position = 0
        link_ids: dict[str, int] = {}
        for plan in plans:
            board_issues = BoardSimulation(plan, seed, issues_per_sprint, export).run()
            issue_ids: dict[SimIssue, int] = {}
            history_ids: dict[SimIssue, list[int]] = {}
            for issue in board_issues:
                issue_ids[issue] = _FIRST_ISSUE_ID + issue_ranks[issue_position]
                issue_position += 1
                count = len(issue.events)
                history_ids[issue] = [
                    _FIRST_HISTORY_ID + history_ranks[history_position + n] for n in range(count)
                ]
                history_position += count
            writer = _BoardWriter(
                plan, board_issues, issue_ids, history_ids, link_ids, site_ari, seed
            )
            for rank, issue in enumerate(writer.ordered):
                document, history_count, item_count = writer.issue(issue, rank)
                counts.issues += 1
                counts.histories += history_count
                counts.items += item_count
                counts.by_type[issue.kind] += 1
                yield document

    sprint_listing = [shapes.sprint_json(s) for plan in plans for s in plan.sprints]
    path = write_snapshot(
        dest,
        meta=SnapshotMeta(
            site=shapes.SITE,
            exported_at=EXPORTED_AT,
            extra={
                "generator": "jira_insights_pipeline.sample.generator",
                "seed": seed,
                "boards": boards,
                "sprints": sprints,
                "issues_per_sprint": issues_per_sprint,
            },
        ),
        fields=shapes.fields_json(),
        boards=[
            shapes.board_json(p.board_id, p.project_id, p.key, p.name, p.workflow) for p in plans
        ],
        sprints=sprint_listing,
        issues=issues(),
        statuses=shapes.statuses_json(),
        compress=compress,
    )
    return SiteSummary(
        path=path,
        boards=boards,
        sprints=len(sprint_listing),
        issues=counts.issues,
        issues_by_type=dict(counts.by_type),
        histories=counts.histories,
        changelog_items=counts.items,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jira_insights_pipeline.sample.generator",
        description="Write a deterministic sample Jira Cloud site as a snapshot folder.",
    )
    parser.add_argument("--out", required=True, type=Path, help="snapshot folder to (re)write")
    parser.add_argument("--boards", type=int, default=DEFAULT_BOARDS)
    parser.add_argument(
        "--sprints",
        type=int,
        default=DEFAULT_SPRINTS,
        help="closed sprints plus the active one, per board (a future sprint comes on top)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--issues-per-sprint", type=int, default=DEFAULT_ISSUES_PER_SPRINT)
    parser.add_argument(
        "--uncompressed", action="store_true", help="write issues.jsonl instead of .jsonl.gz"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        summary = generate_site(
            args.out,
            boards=args.boards,
            sprints=args.sprints,
            seed=args.seed,
            issues_per_sprint=args.issues_per_sprint,
            compress=not args.uncompressed,
        )
    except ValueError as error:
        parser.error(str(error))
    print(f"{summary.line()} in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
