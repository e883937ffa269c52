"""`SimIssue`: one issue of the sample site as the simulation builds it, with its changelog.

Every change the simulation makes to an issue goes through a `SimIssue` method that records it
as a changelog history, so an issue's current fields are always exactly what its changelog
replays to. A change at or after the export instant is dropped (the site is read at that
instant); a change out of time order is a bug in the generator and raises `GeneratorBug`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jira_insights_pipeline.sample.jira_shapes import SUBTASK, TO_DO, Person, Status

# Item kinds that must replay in time order; links, epic children and rank moves carry no
# value to replay.
_CHAINED = frozenset({"status", "points", "sprint", "flag", "description", "assignee", "priority"})


class GeneratorBug(RuntimeError):
    """The simulation tried to change a field at an instant before its previous change."""


@dataclass(eq=False)
class SimIssue:
    """One issue as the simulation knows it: its current fields and every change so far.

    `events` holds (instant, author, items) in the order they were recorded; an item is
    (kind, old, new) with raw values (Status, float, tuple of sprint ids, ...) that the
    generator writes out in Jira's changelog form."""

    local: int
    kind: str
    created: int
    reporter: Person
    summary: str
    thing: str
    export: int
    status: Status = TO_DO
    resolved_at: int | None = None
    category_changed_at: int | None = None
    points: float | None = None
    sprints: tuple[int, ...] = ()
    flagged: bool = False
    paragraphs: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    description_version: int = 1
    has_description: bool = True
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    environment: str | None = None
    priority: str = "3"
    assignee: Person | None = None
    parent: SimIssue | None = None
    children: list[SimIssue] = field(default_factory=list)
    links: list[tuple[str, str, SimIssue]] = field(default_factory=list)
    events: list[tuple[int, Person, list[tuple]]] = field(default_factory=list)
    field_times: dict[str, int] = field(default_factory=dict)
    frozen: bool = False
    epic_color: str | None = None

    @property
    def is_done(self) -> bool:
        return self.status.category == "done"

    @property
    def last_change(self) -> int:
        return max((at for at, _, _ in self.events), default=self.created)

    def record(self, at: int, author: Person, items: list[tuple]) -> bool:
        """Adds one history; False (and nothing changes) when it falls at or after the export,
        which is how the active sprint's plans are cut off at the instant the site is read."""
        if at < self.created:
            raise GeneratorBug(f"{self.summary!r}: a change at {at} before creation {self.created}")
        for kind, _, _ in items:
            if kind in _CHAINED:
                if at < self.field_times.get(kind, self.created):
                    raise GeneratorBug(f"{self.summary!r}: {kind} changed out of time order")
                self.field_times[kind] = at
        if at >= self.export:
            return False
        self.events.append((at, author, items))
        return True

    def move_to(self, at: int, status: Status, author: Person) -> bool:
        if status is self.status:
            return False
        items: list[tuple] = []
        if status.category == "done" and not self.is_done:
            items.append(("resolution", None, "Done"))
        elif self.is_done and status.category != "done":
            items.append(("resolution", "Done", None))
        items.append(("status", self.status, status))
        if not self.record(at, author, items):
            return False
        if status.category != self.status.category:
            self.category_changed_at = at
        if status.category == "done":
            self.resolved_at = at
        elif self.is_done:
            self.resolved_at = None
        self.status = status
        return True

    def estimate(self, at: int, points: float | None, author: Person) -> None:
        if self.record(at, author, [("points", self.points, points)]):
            self.points = points

    def change_sprints(self, at: int, sprints: tuple[int, ...], author: Person) -> None:
        """Jira keeps sub-tasks in their parent's sprints, so they move along."""
        new = tuple(sorted(sprints))
        if self.record(at, author, [("sprint", self.sprints, new)]):
            self.sprints = new
        for child in self.children:
            if child.kind == SUBTASK and child.created <= at:
                child.change_sprints(at, sprints, author)

    def flag(self, at: int, on: bool, author: Person) -> None:
        if self.record(at, author, [("flag", self.flagged, on)]):
            self.flagged = on

    def add_criteria(self, at: int, lines: list[str], author: Person) -> None:
        before = (self.description_version, list(self.paragraphs), list(self.criteria))
        after = (self.description_version + 1, list(self.paragraphs), [*self.criteria, *lines])
        if self.record(at, author, [("description", before, after)]):
            self.description_version += 1
            self.criteria = after[2]

    def assign(self, at: int, person: Person, author: Person) -> None:
        if self.record(at, author, [("assignee", self.assignee, person)]):
            self.assignee = person

    def reprioritise(self, at: int, priority: str, author: Person) -> None:
        if self.record(at, author, [("priority", self.priority, priority)]):
            self.priority = priority

    def note_link(self, at: int, relation: str, other: SimIssue, author: Person) -> None:
        self.record(at, author, [("link", relation, other)])

    def note_rank(self, at: int, author: Person, higher: bool) -> None:
        self.record(at, author, [("rank", None, "Ranked higher" if higher else "Ranked lower")])
