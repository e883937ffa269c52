"""Tests of the sample Jira site generator (jira_insights_pipeline/sample).

The sample site is what demos and pipeline tests run on, so it must be:
- deterministic: the same arguments give byte-identical files, and the shipped site is exactly
  what the generator makes today (so it never goes stale);
- shaped like Jira Cloud's own JSON: Cloud's field ids, board configuration, sprint objects,
  ADF descriptions, changelog items as real sites write them;
- consistent: every issue's changelog replays to its current status, story points, sprints,
  flag and description, and ids grow with time;
- true to PLANTED.md: the "Checked figures" table there is recomputed here by plain Python over
  the JSON, independent of the pipeline's own metrics, from the definitions the use cases use.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.sample.generator import (
    DEFAULT_SEED,
    EXPORTED_AT,
    generate_site,
    main,
)
from jira_insights_pipeline.snapshot import load_snapshot

PLANTED_MD = SITE_DIR.parent / "PLANTED.md"
SITE_FILES = (
    "meta.json",
    "fields.json",
    "statuses.json",
    "boards.json",
    "sprints.json",
    "issues.jsonl.gz",
)
JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
AGILE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# ---------------------------------------------------------------------------------------------
# Reading the site back, by hand
# ---------------------------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    if text.endswith("Z"):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def sprint_ids(text: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in (text or "").split(",") if part.strip())


def points_value(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None


def adf_to_wiki(node: dict[str, Any] | None) -> str | None:
    """The wiki text of our ADF descriptions: paragraphs, an h2 heading and a bullet list."""
    if node is None:
        return None
    blocks = []
    for block in node["content"]:
        text = "".join(t["text"] for t in block.get("content", []) if t["type"] == "text")
        if block["type"] == "paragraph":
            blocks.append(text)
        elif block["type"] == "heading":
            blocks.append(f"h{block['attrs']['level']}. {text}")
        elif block["type"] == "bulletList":
            items = [item["content"][0]["content"][0]["text"] for item in block["content"]]
            blocks.append("\n".join(f"* {item}" for item in items))
        else:
            raise AssertionError(f"unexpected ADF block {block['type']}")
    return "\n\n".join(blocks)


@dataclass
class Change:
    at: datetime
    history_id: int
    old: str | None
    old_text: str | None
    new: str | None
    new_text: str | None


@dataclass
class Issue:
    """One issue and its changes, field by field, in time order."""

    raw: dict[str, Any]
    changes: dict[str, list[Change]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.raw["key"]

    @property
    def fields(self) -> dict[str, Any]:
        return self.raw["fields"]

    @property
    def kind(self) -> str:
        return self.fields["issuetype"]["name"]

    @property
    def project(self) -> str:
        return self.fields["project"]["key"]

    @property
    def created(self) -> datetime:
        return parse_time(self.fields["created"])

    def _replay(self, name: str, initial: Any, t: datetime, pick) -> Any:
        changes = self.changes.get(name, [])
        value = pick(changes[0], "old") if changes else initial
        for change in changes:
            if change.at > t:
                break
            value = pick(change, "new")
        return value

    def status_at(self, t: datetime) -> str:
        return self._replay(
            "status",
            self.fields["status"]["id"],
            t,
            lambda c, side: c.old if side == "old" else c.new,
        )

    def points_at(self, t: datetime) -> float | None:
        return self._replay(
            "Story point estimate",
            self.fields["customfield_10016"],
            t,
            lambda c, side: points_value(c.old_text if side == "old" else c.new_text),
        )

    def sprints_at(self, t: datetime) -> tuple[int, ...]:
        current = tuple(s["id"] for s in self.fields["customfield_10020"] or [])
        return self._replay(
            "Sprint", current, t, lambda c, side: sprint_ids(c.old if side == "old" else c.new)
        )

    def entered(self, category: str, categories: dict[str, str]) -> list[datetime]:
        """Instants at which the status moved into `category` from another category."""
        return [
            c.at
            for c in self.changes.get("status", [])
            if categories[c.new] == category and categories[c.old] != category
        ]


def read_issue(raw: dict[str, Any]) -> Issue:
    issue = Issue(raw)
    histories = sorted(
        raw["changelog"]["histories"], key=lambda h: (parse_time(h["created"]), int(h["id"]))
    )
    for history in histories:
        for item in history["items"]:
            issue.changes.setdefault(item["field"], []).append(
                Change(
                    parse_time(history["created"]),
                    int(history["id"]),
                    item["from"],
                    item["fromString"],
                    item["to"],
                    item["toString"],
                )
            )
    return issue


@dataclass
class Site:
    root: Path
    meta: dict[str, Any]
    fields: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    boards: list[dict[str, Any]]
    sprints: list[dict[str, Any]]
    issues: list[Issue]

    @property
    def exported_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["exported_at"])

    @property
    def categories(self) -> dict[str, str]:
        return {s["id"]: s["statusCategory"]["key"] for s in self.statuses}

    def board(self, project_key: str) -> dict[str, Any]:
        return next(b for b in self.boards if b["location"]["projectKey"] == project_key)

    def board_sprints(self, project_key: str) -> list[dict[str, Any]]:
        board_id = self.board(project_key)["id"]
        return sorted(
            (s for s in self.sprints if s["originBoardId"] == board_id), key=lambda s: s["id"]
        )

    def board_issues(self, project_key: str) -> list[Issue]:
        return [i for i in self.issues if i.project == project_key]

    def sprint_named(self, name: str) -> dict[str, Any]:
        return next(s for s in self.sprints if s["name"] == name)


def read_site(root: Path) -> Site:
    def load(name: str) -> Any:
        return json.loads((root / name).read_text(encoding="utf-8"))

    with gzip.open(root / "issues.jsonl.gz", "rt", encoding="utf-8") as lines:
        issues = [read_issue(json.loads(line)) for line in lines]
    return Site(
        root,
        load("meta.json"),
        load("fields.json"),
        load("statuses.json"),
        load("boards.json"),
        load("sprints.json"),
        issues,
    )


# ---------------------------------------------------------------------------------------------
# The use cases' figures, computed by hand from the definitions
# ---------------------------------------------------------------------------------------------

PRODUCTION_LABELS = {"production", "prod-incident"}
QA_LABELS = {"qa", "staging"}


def environment_class(issue: Issue) -> str | None:
    labels = set(issue.fields["labels"])
    environment = adf_to_wiki(issue.fields["environment"]) or ""
    if labels & PRODUCTION_LABELS or "Production" in environment:
        return "production"
    if labels & QA_LABELS or environment in ("Staging", "QA"):
        return "qa"
    return None


@dataclass
class SprintFigures:
    name: str
    state: str
    committed_stories: list[str] = field(default_factory=list)
    grown: list[str] = field(default_factory=list)
    small_to_large: list[str] = field(default_factory=list)
    added_after_start: list[str] = field(default_factory=list)
    committed_points: float = 0.0
    completed_points: float = 0.0
    spillover: list[str] = field(default_factory=list)
    production_bugs: list[str] = field(default_factory=list)
    qa_bugs: list[str] = field(default_factory=list)
    cycle_days: list[float] = field(default_factory=list)

    @property
    def grown_share(self) -> float:
        return len(self.grown) / len(self.committed_stories) if self.committed_stories else 0.0

    @property
    def completion(self) -> float:
        return self.completed_points / self.committed_points if self.committed_points else 1.0

    @property
    def escape_rate(self) -> float | None:
        classified = len(self.production_bugs) + len(self.qa_bugs)
        return len(self.production_bugs) / classified if classified else None


def sprint_figures(site: Site, project_key: str) -> list[SprintFigures]:
    """One entry per closed or active sprint of the board, oldest first."""
    categories = site.categories
    sprints = [s for s in site.board_sprints(project_key) if s["state"] != "future"]
    issues = [i for i in site.board_issues(project_key) if i.kind != "Sub-task"]
    figures = []
    for position, sprint in enumerate(sprints):
        start = parse_time(sprint["startDate"])
        end = parse_time(sprint["completeDate"]) if "completeDate" in sprint else site.exported_at
        following = sprints[position + 1]["id"] if position + 1 < len(sprints) else None
        row = SprintFigures(sprint["name"], sprint["state"])
        for issue in issues:
            at_start = sprint["id"] in issue.sprints_at(start)
            at_end = sprint["id"] in issue.sprints_at(end)
            if at_start:
                row.committed_points += issue.points_at(start) or 0.0
            if issue.kind == "Story" and at_start and issue.points_at(start) is not None:
                row.committed_stories.append(issue.key)
                before, after = issue.points_at(start), issue.points_at(end) or 0.0
                if after > 1.3 * before:
                    row.grown.append(issue.key)
                if before <= 3 and after >= 8:
                    row.small_to_large.append(issue.key)
            if not at_start and any(
                sprint["id"] in sprint_ids(c.new) and start < c.at <= end
                for c in issue.changes.get("Sprint", [])
            ):
                row.added_after_start.append(issue.key)
            done_at_end = categories[issue.status_at(end)] == "done"
            if at_end and done_at_end:
                row.completed_points += issue.points_at(end) or 0.0
                finished = [t for t in issue.entered("done", categories) if t <= end]
                started = issue.entered("indeterminate", categories)
                if finished and started and start < finished[-1]:
                    row.cycle_days.append((finished[-1] - started[0]) / timedelta(days=1))
            if at_end and not done_at_end and following in issue.sprints_at(end):
                row.spillover.append(issue.key)
            if issue.kind == "Bug" and start <= issue.created < end:
                environment = environment_class(issue)
                if environment == "production":
                    row.production_bugs.append(issue.key)
                elif environment == "qa":
                    row.qa_bugs.append(issue.key)
        figures.append(row)
    return figures


@dataclass
class Hygiene:
    open_issues: list[str]
    stale: list[str]
    missing_estimate: list[str]
    blocked: dict[str, float]
    long_in_progress: list[str]

    @property
    def problems(self) -> set[str]:
        return {*self.stale, *self.missing_estimate, *self.blocked, *self.long_in_progress}

    @property
    def score(self) -> float:
        healthy = [k for k in self.open_issues if k not in self.problems]
        return 100.0 * len(healthy) / len(self.open_issues)


def hygiene(site: Site, project_key: str) -> Hygiene:
    """As of the export: stale (no update for more than 14 days), a story in an active or future
    sprint without an estimate, blocked now (flagged or in status Blocked, with the days since),
    in progress for more than 10 days."""
    now = site.exported_at
    categories = site.categories
    states = {s["id"]: s["state"] for s in site.sprints}
    open_issues = [
        i for i in site.board_issues(project_key) if categories[i.fields["status"]["id"]] != "done"
    ]
    report = Hygiene([i.key for i in open_issues], [], [], {}, [])
    for issue in open_issues:
        f = issue.fields
        if now - parse_time(f["updated"]) > timedelta(days=14):
            report.stale.append(issue.key)
        planned = any(states[s["id"]] in ("active", "future") for s in f["customfield_10020"] or [])
        if issue.kind == "Story" and planned and f["customfield_10016"] is None:
            report.missing_estimate.append(issue.key)
        if f["customfield_10021"] or f["status"]["name"] == "Blocked":
            flags = issue.changes.get("Flagged", [])
            blocks = [c for c in issue.changes.get("status", []) if c.new_text == "Blocked"]
            since = (flags or blocks)[-1].at
            report.blocked[issue.key] = round((now - since) / timedelta(days=1), 1)
        if categories[f["status"]["id"]] == "indeterminate" and now - parse_time(
            f["statuscategorychangedate"]
        ) > timedelta(days=10):
            report.long_in_progress.append(issue.key)
    return report


def velocity_drop(rows: list[SprintFigures]) -> float:
    """The last closed sprint's completed points over the mean of the three before it."""
    closed = [r for r in rows if r.state == "closed"]
    baseline = statistics.mean(r.completed_points for r in closed[-4:-1])
    return closed[-1].completed_points / baseline


def cycle_time_rise(rows: list[SprintFigures]) -> float:
    """The last closed sprint's median cycle time over the median of the three before it."""
    closed = [r for r in rows if r.state == "closed"]
    before = [d for r in closed[-4:-1] for d in r.cycle_days]
    return statistics.median(closed[-1].cycle_days) / statistics.median(before)


def status_days(site: Site, project_key: str) -> dict[str, dict[str, dict[str, float]]]:
    """Per sprint name, per issue finished in it (done at the export, its last move into done
    inside the sprint's window, started before that; sub-tasks left out), the days it held
    each status between its first start and that last finish: {sprint: {key: {status: days}}}.
    """
    categories = site.categories
    names = {s["id"]: s["name"] for s in site.statuses}
    windows = [
        (
            s["name"],
            parse_time(s["startDate"]),
            parse_time(s["completeDate"]) if "completeDate" in s else site.exported_at,
        )
        for s in site.board_sprints(project_key)
        if s["state"] != "future"
    ]
    found: dict[str, dict[str, dict[str, float]]] = {name: {} for name, _, _ in windows}
    for issue in site.board_issues(project_key):
        moves = issue.changes.get("status", [])
        if issue.kind == "Sub-task" or not moves:
            continue
        if categories[issue.fields["status"]["id"]] != "done":
            continue
        finished = issue.entered("done", categories)
        started = [t for t in issue.entered("indeterminate", categories) if t <= finished[-1]]
        if not started:
            continue
        begin, end = started[0], finished[-1]
        sprint = next((n for n, s, c in windows if s <= end < c), None)
        if sprint is None:
            continue
        held: dict[str, float] = {}
        stays = [(issue.created, moves[0].old)] + [(c.at, c.new) for c in moves]
        for (since, status), (until, _) in zip(stays, [*stays[1:], (end, None)], strict=True):
            overlap = (min(until, end) - max(since, begin)) / timedelta(days=1)
            if overlap > 0:
                held[names[status]] = held.get(names[status], 0.0) + overlap
        found[sprint][issue.key] = held
    return found


def slowest_status(site: Site, project_key: str, sprint: str) -> str:
    """The status (not done) whose median days per issue finished in `sprint` grew most against
    the issues of the three sprints before it, pooled (an issue that never held a status counts
    0 days), with both medians: "In Review 1.9 to 6.9"; "none" if none grew."""
    names = [s["name"] for s in site.board_sprints(project_key) if s["state"] != "future"]
    position = names.index(sprint)
    by_sprint = status_days(site, project_key)
    now = list(by_sprint[sprint].values())
    before = [days for name in names[position - 3 : position] for days in by_sprint[name].values()]
    done = {s["name"] for s in site.statuses if s["statusCategory"]["key"] == "done"}
    statuses = {name for days in now + before for name in days} - done
    growth = {
        name: (
            statistics.median(d.get(name, 0.0) for d in before),
            statistics.median(d.get(name, 0.0) for d in now),
        )
        for name in statuses
    }
    grown = {name: after - was for name, (was, after) in growth.items() if after - was > 0.01}
    if not grown:
        return "none"
    name = min(grown, key=lambda n: (-grown[n], n))
    return f"{name} {growth[name][0]:.1f} to {growth[name][1]:.1f}"


# The planted causes (issue 11), each by plain Python over the JSON like the figures above.

TESTING_STATUSES = {"In Review", "QA"}


def _window(site: Site, sprint: str) -> tuple[datetime, datetime]:
    found = site.sprint_named(sprint)
    end = parse_time(found["completeDate"]) if "completeDate" in found else site.exported_at
    return parse_time(found["startDate"]), end


def never_started(site: Site, board: str, sprint: str) -> str:
    """Of the issues that spilled over from `sprint`, those never in the In Progress category
    while it ran (not in it at the start, never moved into it before the close): "8/13"."""
    start, end = _window(site, sprint)
    categories = site.categories
    by_key = {i.key: i for i in site.issues}
    spilled = _sprint_row(site, board, sprint).spillover
    untouched = [
        key
        for key in spilled
        if categories[by_key[key].status_at(start)] != "indeterminate"
        and not any(start < t <= end for t in by_key[key].entered("indeterminate", categories))
    ]
    return f"{len(untouched)}/{len(spilled)}"


def longest_carry_over(site: Site, board: str) -> str:
    """The issue that spilled over from the most closed sprints in a row up to the last closed
    one, with how many: "MOB-119 3" (ties: the lowest key)."""
    closed = [r for r in sprint_figures(site, board) if r.state == "closed"]
    streaks: dict[str, int] = {}
    for key in closed[-1].spillover:
        streak = 0
        for row in reversed(closed):
            if key not in row.spillover:
                break
            streak += 1
        streaks[key] = streak
    key = min(streaks, key=lambda k: (-streaks[k], int(k.split("-")[1])))
    return f"{key} {streaks[key]}"


def criteria_before_reestimate(site: Site, board: str, sprint: str) -> str:
    """The grown stories of `sprint` whose Acceptance Criteria gained bullets after the start
    and before the upward re-estimate that made them grow."""
    start, end = _window(site, sprint)
    by_key = {i.key: i for i in site.issues}
    found = []
    for key in _sprint_row(site, board, sprint).grown:
        issue = by_key[key]
        raises = [
            c.at
            for c in issue.changes.get("Story point estimate", [])
            if start < c.at <= end
            and (points_value(c.new_text) or 0) > (points_value(c.old_text) or 0)
        ]
        grew = [
            c.at
            for c in issue.changes.get("description", [])
            if c.new_text.count("\n* ") > (c.old_text or "").count("\n* ")
        ]
        if raises and any(start < t <= raises[0] for t in grew):
            found.append(key)
    return _keys(found)


def traced_escapes(site: Site, board: str, sprint: str) -> list[tuple[Issue, Issue]]:
    """(production bug, the story it "is caused by") of `sprint`, or of every sprint."""
    rows = sprint_figures(site, board)
    keys = [k for r in rows if sprint in ("all", r.name) for k in r.production_bugs]
    by_key = {i.key: i for i in site.issues}
    pairs = []
    for key in keys:
        bug = by_key[key]
        for link in bug.fields["issuelinks"]:
            if "inwardIssue" in link and link["type"]["inward"] == "is caused by":
                pairs.append((bug, by_key[link["inwardIssue"]["key"]]))
    return pairs


def untested_escapes(site: Site, board: str, sprint: str) -> str:
    """Of the traced production bugs, those whose story was done before the bug without ever
    entering In Review or QA first: "untested/traced"."""
    categories = site.categories
    names = {s["id"]: s["name"] for s in site.statuses}
    pairs = traced_escapes(site, board, sprint)
    untested = 0
    for bug, story in pairs:
        done = [t for t in story.entered("done", categories) if t <= bug.created]
        if not done:
            continue
        tested = any(
            names[c.new] in TESTING_STATUSES and c.at < done[-1]
            for c in story.changes.get("status", [])
        )
        untested += not tested
    return f"{untested}/{len(pairs)}"


def escape_component(site: Site, board: str, sprint: str) -> str:
    """The component most traced production bugs of `sprint` are filed under: "Gateway 2/2"."""
    pairs = traced_escapes(site, board, sprint)
    counts: dict[str, int] = {}
    for bug, _ in pairs:
        for component in bug.fields["components"]:
            counts[component["name"]] = counts.get(component["name"], 0) + 1
    name = min(counts, key=lambda n: (-counts[n], n))
    return f"{name} {counts[name]}/{len(pairs)}"


def bugs_added_after_start(site: Site, board: str, sprint: str) -> str:
    """Bugs added to `sprint` after its start, against the mean of the three sprints before."""
    rows = sprint_figures(site, board)
    position = next(n for n, r in enumerate(rows) if r.name == sprint)
    kinds = {i.key: i.kind for i in site.issues}

    def bugs(row: SprintFigures) -> int:
        return sum(kinds[k] == "Bug" for k in row.added_after_start)

    before = statistics.mean(bugs(r) for r in rows[position - 3 : position])
    return f"{bugs(rows[position])} against {before:.1f}"


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@cache
def shipped_site() -> Site:
    return read_site(SITE_DIR)


@pytest.fixture(scope="module")
def site() -> Site:
    return shipped_site()


@pytest.fixture(scope="module")
def fresh_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("fresh") / "site"
    generate_site(dest)
    return dest


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


def _bytes(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(root.iterdir())}


def test_same_arguments_give_identical_bytes(tmp_path: Path, fresh_default: Path) -> None:
    again = tmp_path / "again"
    summary = generate_site(again)
    assert _bytes(again) == _bytes(fresh_default)
    assert summary.issues == sum(summary.issues_by_type.values())


def test_a_different_seed_gives_a_different_site(tmp_path: Path, fresh_default: Path) -> None:
    other = tmp_path / "other"
    generate_site(other, seed=DEFAULT_SEED + 1)
    ours, theirs = _bytes(fresh_default), _bytes(other)
    assert ours["issues.jsonl.gz"] != theirs["issues.jsonl.gz"]
    assert ours["sprints.json"] != theirs["sprints.json"]
    # The site's structure does not depend on the seed.
    assert ours["fields.json"] == theirs["fields.json"]
    assert ours["statuses.json"] == theirs["statuses.json"]


def test_shipped_site_is_a_fresh_generation_with_the_default_arguments(
    fresh_default: Path,
) -> None:
    assert sorted(p.name for p in SITE_DIR.iterdir()) == sorted(SITE_FILES)
    shipped, fresh = _bytes(SITE_DIR), _bytes(fresh_default)
    stale = [name for name in SITE_FILES if shipped[name] != fresh[name]]
    assert not stale, (
        f"{stale} differ from a fresh generation: regenerate the shipped site with "
        "`python -m jira_insights_pipeline.sample.generator "
        "--out jira_insights_pipeline/sample/site`"
    )
    assert len(shipped["issues.jsonl.gz"]) < 3_000_000


def test_cli_writes_a_site_and_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "cli"
    assert main(["--out", str(dest), "--boards", "5", "--sprints", "5", "--seed", "7"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    assert re.search(r": 5 boards, 30 sprints, \d+ issues \(", printed[0])
    snapshot = load_snapshot(dest)
    assert [b["name"] for b in snapshot.boards] == [
        "CHK board",
        "MOB board",
        "PAY board",
        "PLAT board",
        "SRCH board",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"boards": 0}, "at least one board"),
        ({"sprints": 4}, "at least 5"),
        ({"issues_per_sprint": 9}, "at least 10"),
    ],
)
def test_arguments_that_cannot_make_a_site_are_refused(
    tmp_path: Path, arguments: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate_site(tmp_path / "never", **arguments)
    assert not (tmp_path / "never").exists()


# ---------------------------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------------------------


def test_snapshot_loader_accepts_the_site() -> None:
    snapshot = load_snapshot(SITE_DIR)
    assert snapshot.meta.exported_at == EXPORTED_AT
    assert snapshot.meta.site == "https://sample-shop.atlassian.net"
    assert snapshot.meta.story_points_field is None  # found from the boards, not overridden
    assert sum(1 for _ in snapshot.iter_issues()) == len(shipped_site().issues)


def test_boards_sprints_and_issue_counts(site: Site) -> None:
    assert [b["location"]["projectKey"] for b in site.boards] == ["CHK", "MOB", "PAY", "PLAT"]
    for board in site.boards:
        states = [s["state"] for s in site.board_sprints(board["location"]["projectKey"])]
        assert states == ["closed"] * 8 + ["active", "future"]
    for sprint in site.sprints:
        if sprint["state"] == "future":
            assert "startDate" not in sprint
            continue
        start, end = parse_time(sprint["startDate"]), parse_time(sprint["endDate"])
        assert end - start == timedelta(days=14) - timedelta(
            seconds=start.second, microseconds=start.microsecond
        )
        if sprint["state"] == "active":
            assert start < site.exported_at < end
        else:
            assert start < parse_time(sprint["completeDate"]) < site.exported_at
    kinds: dict[str, int] = {}
    for issue in site.issues:
        kinds[issue.kind] = kinds.get(issue.kind, 0) + 1
    assert len(site.issues) >= 600
    assert set(kinds) == {"Epic", "Story", "Task", "Sub-task", "Bug"}
    assert kinds["Story"] > kinds["Bug"] > kinds["Epic"] >= 4
    assert kinds["Sub-task"] >= 100


def test_field_ids_are_those_of_a_cloud_site(site: Site) -> None:
    by_id = {f["id"]: f for f in site.fields}
    assert by_id["customfield_10016"]["name"] == "Story point estimate"
    assert by_id["customfield_10016"]["schema"]["custom"] == (
        "com.pyxis.greenhopper.jira:jsw-story-points"
    )
    assert by_id["customfield_10020"]["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"
    assert by_id["customfield_10021"]["name"] == "Flagged"
    assert by_id["customfield_10021"]["schema"]["custom"].endswith(":multicheckboxes")
    assert by_id["customfield_10019"]["schema"]["custom"].endswith(":gh-lexo-rank")
    # A second points field, as real sites have, that only the board configuration rules out.
    assert by_id["customfield_10026"]["name"] == "Story Points"
    for board in site.boards:
        configuration = board["configuration"]
        assert configuration["estimation"]["field"]["fieldId"] == "customfield_10016"
        column_statuses = {
            s["id"]
            for column in configuration["columnConfig"]["columns"]
            for s in column["statuses"]
        }
        used = {
            i.fields["status"]["id"] for i in site.board_issues(board["location"]["projectKey"])
        }
        assert used <= column_statuses
    categories = {s["name"]: s["statusCategory"]["key"] for s in site.statuses}
    assert categories["To Do"] == "new"
    for name in ("In Progress", "In Review", "Blocked", "QA"):
        assert categories[name] == "indeterminate"
    assert categories["Done"] == "done"


def test_issues_have_the_shape_of_the_issue_endpoint(site: Site) -> None:
    sprint_keys = {"id", "name", "state", "boardId", "goal"}
    for issue in site.issues:
        raw, f = issue.raw, issue.fields
        assert raw["self"].endswith(f"/rest/api/3/issue/{raw['id']}")
        assert JIRA_TIME.match(f["created"]) and JIRA_TIME.match(f["updated"])
        assert f["issuetype"]["hierarchyLevel"] == {"Epic": 1, "Sub-task": -1}.get(issue.kind, 0)
        assert f["issuetype"]["subtask"] == (issue.kind == "Sub-task")
        assert {"id", "name", "statusCategory"} <= f["status"].keys()
        for sprint in f["customfield_10020"] or []:
            assert sprint_keys <= sprint.keys()
            if sprint["state"] == "closed":
                assert AGILE_TIME.match(sprint["completeDate"])
        if f["customfield_10021"] is not None:
            assert [o["value"] for o in f["customfield_10021"]] == ["Impediment"]
        if f["description"] is not None:
            assert f["description"]["type"] == "doc" and f["description"]["version"] == 1
        if issue.kind == "Sub-task":
            assert f["parent"]["fields"]["issuetype"]["name"] in ("Story", "Task", "Bug")
        for link in f["issuelinks"]:
            assert ("inwardIssue" in link) != ("outwardIssue" in link)
            assert link["type"]["name"] in ("Blocks", "Relates", "Problem/Incident")
        changelog = raw["changelog"]
        assert changelog["total"] == changelog["maxResults"] == len(changelog["histories"])
        for history in changelog["histories"]:
            assert JIRA_TIME.match(history["created"])
            for item in history["items"]:
                assert set(item) >= {"field", "fieldtype", "from", "fromString", "to", "toString"}
                if item["field"] == "Sprint":
                    assert item["fieldId"] == "customfield_10020"
                if item["field"] == "Story point estimate":
                    assert item["fieldId"] == "customfield_10016"
    offsets = {i.fields["created"][-5:] for i in site.issues}
    assert offsets == {"+0100", "+0200"}  # Berlin, before and after the October change
    newest_first = [
        i
        for i in site.issues
        if len(i.raw["changelog"]["histories"]) > 1
        and parse_time(i.raw["changelog"]["histories"][0]["created"])
        > parse_time(i.raw["changelog"]["histories"][-1]["created"])
    ]
    assert len(newest_first) > 0.1 * len(site.issues)


def test_every_changelog_replays_to_the_current_fields(site: Site) -> None:
    categories = site.categories
    for issue in site.issues:
        f = issue.fields
        for name, changes in issue.changes.items():
            if name in ("Link", "Rank", "Epic Child"):
                continue
            for before, after in itertools.pairwise(changes):
                assert (before.new, before.new_text) == (after.old, after.old_text), (
                    f"{issue.key}: {name} changes do not chain"
                )
        assert issue.status_at(site.exported_at) == f["status"]["id"]
        if "status" in issue.changes:
            assert issue.changes["status"][-1].new_text == f["status"]["name"]
        assert issue.points_at(site.exported_at) == f["customfield_10016"]
        current_sprints = tuple(s["id"] for s in f["customfield_10020"] or [])
        assert issue.sprints_at(site.exported_at) == current_sprints
        if "Sprint" in issue.changes:
            assert issue.changes["Sprint"][-1].new == ", ".join(str(s) for s in current_sprints)
        flags = issue.changes.get("Flagged", [])
        if flags:
            assert (flags[-1].new_text == "Impediment") == (f["customfield_10021"] is not None)
        else:
            assert f["customfield_10021"] is None
        descriptions = issue.changes.get("description", [])
        if descriptions:
            assert descriptions[-1].new_text == adf_to_wiki(f["description"]), issue.key
        done = categories[f["status"]["id"]] == "done"
        assert (f["resolutiondate"] is not None) == done == (f["resolution"] is not None)
        if done and "status" in issue.changes:
            assert parse_time(f["resolutiondate"]) == issue.entered("done", categories)[-1]
        instants = [c.at for changes in issue.changes.values() for c in changes]
        assert parse_time(f["updated"]) == max([issue.created, *instants])
        assert min(instants, default=issue.created) >= issue.created


def test_ids_increase_with_time(site: Site) -> None:
    by_created = sorted(site.issues, key=lambda i: (i.created, int(i.raw["id"])))
    assert [int(i.raw["id"]) for i in by_created] == sorted(int(i.raw["id"]) for i in site.issues)
    histories = sorted(
        (parse_time(h["created"]), int(h["id"]))
        for i in site.issues
        for h in i.raw["changelog"]["histories"]
    )
    assert [hid for _, hid in histories] == sorted(hid for _, hid in histories)
    for project in ("CHK", "MOB", "PAY", "PLAT"):
        issues = sorted(site.board_issues(project), key=lambda i: i.created)
        assert [i.key for i in issues] == [f"{project}-{n}" for n in range(1, len(issues) + 1)]


def test_acceptance_criteria_grow_in_the_changelog(site: Site) -> None:
    grown = 0
    for issue in site.issues:
        for change in issue.changes.get("description", []):
            assert change.old.startswith('{"id":"ari:cloud:jira:')
            before = (change.old_text or "").count("\n* ")
            after = change.new_text.count("\n* ")
            assert "h2. Acceptance Criteria" in change.new_text
            assert after > before
            grown += 1
    assert grown >= 20


# ---------------------------------------------------------------------------------------------
# Planted situations: the "Checked figures" table of PLANTED.md, recomputed
# ---------------------------------------------------------------------------------------------


def planted_rows() -> list[tuple[str, str, str, str]]:
    """(check, board, sprint, value) rows of PLANTED.md's "Checked figures" table."""
    text = PLANTED_MD.read_text(encoding="utf-8")
    table = text.split("## Checked figures", 1)[1]
    rows = []
    for line in table.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("check", "") and not set(cells[0]) <= {"-"}:
            rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def _keys(values: Iterable[str]) -> str:
    ordered = sorted(values, key=lambda k: (k.split("-")[0], int(k.split("-")[1])))
    return ", ".join(ordered) or "none"


def _sprint_row(site: Site, board: str, sprint: str) -> SprintFigures:
    return next(r for r in sprint_figures(site, board) if r.name == sprint)


def computed_figure(site: Site, check: str, board: str, sprint: str) -> str:
    """The figure a check names, from the definitions of the use cases (issue 3)."""
    if check == "grown stories":
        row = _sprint_row(site, board, sprint)
        return f"{len(row.grown)}/{len(row.committed_stories)}"
    if check == "grown keys":
        return _keys(_sprint_row(site, board, sprint).grown)
    if check == "small became large":
        return _keys(_sprint_row(site, board, sprint).small_to_large)
    if check == "added after start":
        return _keys(_sprint_row(site, board, sprint).added_after_start)
    if check == "completion":
        row = _sprint_row(site, board, sprint)
        return f"{row.completed_points:g}/{row.committed_points:g}"
    if check == "spillover":
        return str(len(_sprint_row(site, board, sprint).spillover))
    if check == "velocity ratio":
        return f"{velocity_drop(sprint_figures(site, board)):.2f}"
    if check == "cycle time ratio":
        return f"{cycle_time_rise(sprint_figures(site, board)):.2f}"
    if check == "slowest status":
        return slowest_status(site, board, sprint)
    if check == "escape rate":
        rows = sprint_figures(site, board)
        if sprint != "all":
            rows = [r for r in rows if r.name == sprint]
        production = sum(len(r.production_bugs) for r in rows)
        qa = sum(len(r.qa_bugs) for r in rows)
        return f"{production}/{production + qa}"
    if check == "never started":
        return never_started(site, board, sprint)
    if check == "longest carry-over":
        return longest_carry_over(site, board)
    if check == "criteria grew before re-estimate":
        return criteria_before_reestimate(site, board, sprint)
    if check == "untested escapes":
        return untested_escapes(site, board, sprint)
    if check == "escape component":
        return escape_component(site, board, sprint)
    if check == "bugs added after start":
        return bugs_added_after_start(site, board, sprint)
    if check == "max sprint grown share":
        return f"{max(r.grown_share for r in sprint_figures(site, board)):.2f}"
    if check == "min completion":
        closed = [r for r in sprint_figures(site, board) if r.state == "closed"]
        return f"{min(r.completion for r in closed):.2f}"
    report = hygiene(site, board)
    if check == "stale":
        return _keys(report.stale)
    if check == "missing estimate":
        return _keys(report.missing_estimate)
    if check == "blocked now":
        return ", ".join(f"{k} {d:g}d" for k, d in sorted(report.blocked.items())) or "none"
    if check == "in progress over 10 days":
        return _keys(report.long_in_progress)
    if check == "hygiene score":
        return f"{report.score:.1f}"
    raise AssertionError(f"PLANTED.md names an unknown check {check!r}")


def test_planted_md_lists_checked_figures() -> None:
    checks = {row[0] for row in planted_rows()}
    assert {
        "grown stories",
        "small became large",
        "added after start",
        "completion",
        "velocity ratio",
        "cycle time ratio",
        "escape rate",
        "stale",
        "missing estimate",
        "blocked now",
        "in progress over 10 days",
        "hygiene score",
        "never started",
        "longest carry-over",
        "criteria grew before re-estimate",
        "untested escapes",
        "escape component",
        "bugs added after start",
    } <= checks


@pytest.mark.parametrize(("check", "board", "sprint", "value"), planted_rows())
def test_planted_figure_holds(site: Site, check: str, board: str, sprint: str, value: str) -> None:
    assert computed_figure(site, check, board, sprint) == value


def test_scope_creep_is_planted_in_the_active_sprint_of_checkout(site: Site) -> None:
    rows = sprint_figures(site, "CHK")
    active = rows[-1]
    assert active.state == "active"
    assert active.grown_share > 0.2 and len(active.small_to_large) >= 2
    assert len(active.added_after_start) == 3
    assert all(r.grown_share <= 0.2 for r in rows[:-1])


def test_escape_rate_of_payments_is_high_and_of_platform_low(site: Site) -> None:
    for row in sprint_figures(site, "PAY"):
        assert row.escape_rate is not None and row.escape_rate > 0.2
    for row in sprint_figures(site, "PLAT"):
        assert row.escape_rate == 0.0
    production = [k for r in sprint_figures(site, "PAY") for k in r.production_bugs]
    by_key = {i.key: i for i in site.issues}
    categories = site.categories
    caused_by_done = 0
    for key in production:
        bug = by_key[key]
        for link in bug.fields["issuelinks"]:
            if "inwardIssue" not in link or link["type"]["inward"] != "is caused by":
                continue
            story = by_key[link["inwardIssue"]["key"]]
            finished = story.entered("done", categories)
            if finished and finished[0] < bug.created:
                caused_by_done += 1
    assert caused_by_done >= len(production) * 0.8


def test_platform_trips_no_alert(site: Site) -> None:
    rows = sprint_figures(site, "PLAT")
    closed = [r for r in rows if r.state == "closed"]
    assert max(r.grown_share for r in rows) <= 0.2
    assert min(r.completion for r in closed) >= 0.85
    assert velocity_drop(rows) >= 0.7
    assert cycle_time_rise(rows) <= 1.2
    assert hygiene(site, "PLAT").score >= 90


def test_a_bigger_site_keeps_every_board_consistent(tmp_path: Path) -> None:
    dest = tmp_path / "bigger"
    summary = generate_site(dest, boards=9, sprints=6, seed=11, issues_per_sprint=12)
    bigger = read_site(dest)
    assert summary.boards == 9 and summary.sprints == 9 * 7
    assert len(bigger.issues) == summary.issues
    assert bigger.boards[8]["location"]["projectKey"] == "CHK2"
    categories = bigger.categories
    for issue in bigger.issues:
        assert issue.status_at(bigger.exported_at) == issue.fields["status"]["id"]
        assert issue.points_at(bigger.exported_at) == issue.fields["customfield_10016"]
        current = tuple(s["id"] for s in issue.fields["customfield_10020"] or [])
        assert issue.sprints_at(bigger.exported_at) == current
        assert categories[issue.fields["status"]["id"]] in ("new", "indeterminate", "done")
