"""The scope-creep diagnosis: why a sprint's committed stories grew (`scope_growth_causes`,
`sprint_scope_causes`, `assets/scope_creep/diagnosis.py`) and how the insight states it.

A scope-creep insight used to guess ("the stories were likely not refined before planning").
Now it states what Jira's history shows: which grown stories had their acceptance criteria grow
before the re-estimate (a refinement gap, with both instants) and how much of the sprint's final
scope was added after the start; the larger cause leads the message and decides the advice.
These tests hold the figures to answers found without the pipeline:
- a hand-made history where each rule of the criteria window (the lookback before the start,
  bounded by the story's last estimate; a change after the re-estimate does not count) and of
  the re-estimate (the first upward change, after a downward one) has its own story;
- the sample site, where CHK Sprint 16's five grown stories each had their criteria grown
  shortly before the re-estimate (PLANTED.md), re-counted by plain Python over the snapshot JSON;
- a real Jira site (jirametrics' improvingflow, `tests/data/live_improvingflow`), whose added
  story and final scope were read off the raw histories by hand;
- the CHK Sprint 16 insight without the model: the refinement gap with its figure and keys leads
  the message, and every answer the plans allow passes the grounding checks.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from metrics_sprint_site import CRITERIA_AFTER, CRITERIA_BEFORE, SprintSite, sprint_tables

from jira_insights_pipeline.assets.scope_creep.diagnosis import (
    ADDED_LATE,
    CAUSE_LABELS,
    NO_CAUSE,
    REFINEMENT_GAP,
    growth_causes,
    sprint_scope_causes,
)
from jira_insights_pipeline.assets.scope_creep.schemas import (
    ScopeGrowthCausesSchema,
    SprintScopeCausesSchema,
)
from jira_insights_pipeline.assets.scope_creep.wording import CAUSE_ADVICE, NO_CAUSE_ADVICE
from jira_insights_pipeline.insights.engine import write_insight
from jira_insights_pipeline.insights.grounding import (
    check_draft,
    fill_draft,
    parse_draft,
    validate_draft,
)
from jira_insights_pipeline.insights.plans import plan_answers, plans_for
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.insights.values import Fact, InsightFacts
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.registry import Thresholds, use_case
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import load_snapshot

DATA = Path(__file__).parent / "data"
THRESHOLDS = Thresholds()


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    staging: dict[str, pd.DataFrame]
    scope_changes: pd.DataFrame
    commitments: pd.DataFrame
    scope_creep: pd.DataFrame
    growth: pd.DataFrame
    causes: pd.DataFrame


def diagnose(staging: dict[str, pd.DataFrame], as_of: Any) -> Diagnosis:
    """The ledger, the rule's table and both diagnosis tables, as the assets chain them, each
    validated by its Pandera model."""
    ledger = sprint_tables(staging, as_of)
    growth = growth_causes(
        ledger.scope_changes,
        staging["jira_estimates"],
        staging["jira_changelog"],
        staging["jira_issues"],
        as_of,
        THRESHOLDS.scope_creep,
    )
    causes = sprint_scope_causes(growth, ledger.scope_changes, ledger.commitments)
    ScopeGrowthCausesSchema.validate(growth)
    SprintScopeCausesSchema.validate(causes)
    return Diagnosis(
        staging, ledger.scope_changes, ledger.commitments, ledger.scope_creep, growth, causes
    )


def instant(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# ---------------------------------------------------------------------------------------------
# A hand-made history: one story per rule
# ---------------------------------------------------------------------------------------------

HANDMADE_AS_OF = "2026-03-10 12:00"


@cache
def handmade() -> Diagnosis:
    """Sprint 1 runs from 2026-03-02 09:00 (active at "as of", 2026-03-10 12:00), so the
    criteria lookback (3 days) opens at 2026-02-27 09:00."""
    site = SprintSite().sprint(1, "Sprint 1", "active", "2026-03-02 09:00", "2026-03-13 17:00")
    joined = "2026-02-26 10:00"
    # B-1: criteria grow inside the sprint, the day before the re-estimate 2 -> 5.
    site.issue("B-1", "2026-02-20 10:00", points=2, description=CRITERIA_BEFORE)
    site.in_sprint("B-1", 1, joined).describe("B-1", "2026-03-03 10:00", CRITERIA_AFTER)
    site.estimate("B-1", "2026-03-04 10:00", 5)
    # B-2: criteria grow two days before the start, after its estimate: still a gap.
    site.issue("B-2", "2026-02-20 10:00", points=3, description=CRITERIA_BEFORE)
    site.in_sprint("B-2", 1, joined).describe("B-2", "2026-02-28 10:00", CRITERIA_AFTER)
    site.estimate("B-2", "2026-03-05 10:00", 8)
    # B-3: criteria grow before the start, then the story is estimated again (3 -> 2) before
    # the start, so that estimate saw the longer criteria: not a gap when it grows to 5.
    site.issue("B-3", "2026-02-20 10:00", points=3, description=CRITERIA_BEFORE)
    site.in_sprint("B-3", 1, joined).describe("B-3", "2026-02-28 10:00", CRITERIA_AFTER)
    site.estimate("B-3", "2026-03-01 10:00", 2).estimate("B-3", "2026-03-05 10:00", 5)
    # B-4: re-estimated 2 -> 5 first, criteria grow afterwards: not a gap.
    site.issue("B-4", "2026-02-20 10:00", points=2, description=CRITERIA_BEFORE)
    site.in_sprint("B-4", 1, joined).estimate("B-4", "2026-03-04 10:00", 5)
    site.describe("B-4", "2026-03-06 10:00", CRITERIA_AFTER)
    # B-5: criteria grow but the points rise by 17% only (3 -> 3.5): the story did not grow.
    site.issue("B-5", "2026-02-20 10:00", points=3, description=CRITERIA_BEFORE)
    site.in_sprint("B-5", 1, joined).describe("B-5", "2026-03-03 10:00", CRITERIA_AFTER)
    site.estimate("B-5", "2026-03-04 10:00", 3.5)
    # B-6: down 2 -> 1, then up 1 -> 3: the re-estimate is the upward change, from 1.
    site.issue("B-6", "2026-02-20 10:00", points=2).in_sprint("B-6", 1, joined)
    site.estimate("B-6", "2026-03-03 10:00", 1).estimate("B-6", "2026-03-05 10:00", 3)
    # B-7: a bug of 3 points added after the start and still in; B-8 a task added and removed.
    site.issue("B-7", "2026-03-04 10:00", points=3, issue_type="Bug")
    site.in_sprint("B-7", 1, "2026-03-05 10:00")
    site.issue("B-8", "2026-03-04 10:00", issue_type="Task")
    site.in_sprint("B-8", 1, "2026-03-06 10:00", "2026-03-08 10:00")
    return diagnose(site.tables(HANDMADE_AS_OF), instant(HANDMADE_AS_OF))


def test_each_grown_story_has_its_reestimate_and_criteria_window() -> None:
    growth = handmade().growth.set_index("issue_key")
    assert list(growth.index) == ["B-1", "B-2", "B-3", "B-4", "B-6"]  # B-5 grew by 17% only
    start = instant("2026-03-02 09:00")
    assert growth.loc["B-1", "reestimated_at"] == instant("2026-03-04 10:00")
    # 2 days and 1 hour after the start.
    assert growth.loc["B-1", "reestimate_days_after_start"] == pytest.approx(2 + 1 / 24)
    assert growth.loc["B-1", "criteria_window_start"] == start - timedelta(days=3)
    assert growth.loc["B-1", "criteria_grown_at"] == instant("2026-03-03 10:00")
    assert growth.loc["B-1", "criteria_days_before_reestimate"] == pytest.approx(1.0)
    lengths = growth.loc["B-1", ["criteria_length_before", "criteria_length_at_reestimate"]]
    # The parser keeps the bullets' text: "Log in works\nLog out works" is 26 characters, and
    # "\nPassword reset works" makes it 47.
    assert lengths.tolist() == [26, 47]
    assert growth.loc["B-2", "criteria_grown_at"] == instant("2026-02-28 10:00")
    # B-3's window opens at its last estimate before the start, after its criteria grew.
    assert growth.loc["B-3", "criteria_window_start"] == instant("2026-03-01 10:00")
    assert not growth.loc["B-3", REFINEMENT_GAP]
    assert not growth.loc["B-4", REFINEMENT_GAP] and pd.isna(growth.loc["B-4", "criteria_grown_at"])
    assert growth.loc["B-6", ["reestimate_from_points", "reestimate_to_points"]].tolist() == [1, 3]
    assert growth.loc["B-6", "reestimated_at"] == instant("2026-03-05 10:00")
    assert growth[REFINEMENT_GAP].tolist() == [True, True, False, False, False]


def test_a_sprint_sums_its_causes_and_its_final_scope() -> None:
    diagnosis = handmade()
    (row,) = diagnosis.causes.to_dict("records")
    assert (row["grown_stories"], row["refinement_gap_stories"]) == (5, 2)
    assert row["refinement_gap_share"] == pytest.approx(0.4)
    # B-1 grew by 3 points and B-2 by 5; all five by 3 + 5 + 3 + 3 + 1.
    assert (row["refinement_gap_points"], row["growth_points"]) == (8.0, 15.0)
    # The final scope: B-1..B-7 at their points at "as of" (B-8 left): 5+8+5+5+3.5+3+3.
    assert (row["final_scope_issues"], row["final_scope_points"]) == (7, 32.5)
    assert (row["added_issues_in_scope"], row["added_points_in_scope"]) == (1, 3.0)
    assert row["added_point_share"] == pytest.approx(3 / 32.5)
    assert row["added_issue_share"] == pytest.approx(1 / 7)
    assert row["dominant_cause"] == REFINEMENT_GAP  # 8 points against 3
    # The diagnosis counts the grown stories the rule counts.
    assert row["grown_stories"] == diagnosis.scope_creep["grown_stories"].iloc[0]


def test_a_longer_lookback_and_none_change_what_counts_as_a_gap() -> None:
    diagnosis = handmade()

    def gaps(days: float) -> list[str]:
        thresholds = Thresholds(scope_creep={"criteria_lookback_days": days}).scope_creep
        growth = growth_causes(
            diagnosis.scope_changes,
            diagnosis.staging["jira_estimates"],
            diagnosis.staging["jira_changelog"],
            diagnosis.staging["jira_issues"],
            instant(HANDMADE_AS_OF),
            thresholds,
        )
        return growth.loc[growth[REFINEMENT_GAP], "issue_key"].tolist()

    # Without a lookback B-2's criteria (grown before the start) no longer count; B-3 stays out
    # however long the lookback, because it was estimated again after its criteria grew.
    assert gaps(0) == ["B-1"]
    assert gaps(14) == ["B-1", "B-2"]


# ---------------------------------------------------------------------------------------------
# The sample site, re-counted by plain Python over the snapshot JSON
# ---------------------------------------------------------------------------------------------

SPRINT = "CHK Sprint 16"
GROWN = ["CHK-172", "CHK-184", "CHK-185", "CHK-196", "CHK-198"]
ADDED = ["CHK-214", "CHK-219", "CHK-224"]


def jira_time(text: str) -> datetime:
    if text.endswith("Z"):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def criteria_bullets(text: str | None) -> int:
    """Bullet lines of the wiki text's "h2. Acceptance Criteria" section."""
    if not text or "h2. Acceptance Criteria" not in text:
        return 0
    section = text.split("h2. Acceptance Criteria", 1)[1].split("\nh", 1)[0]
    return sum(1 for line in section.splitlines() if line.startswith("* "))


def changes(issue: dict[str, Any], field: str) -> list[tuple[datetime, dict[str, Any]]]:
    """The issue's changes of one field, oldest first (the site lists some newest first)."""
    found = [
        (jira_time(history["created"]), item)
        for history in issue["changelog"]["histories"]
        for item in history["items"]
        if item["field"] == field
    ]
    return sorted(found, key=lambda change: change[0])


@cache
def sample_json() -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, str]]:
    sprints = json.loads((SITE_DIR / "sprints.json").read_text())
    sprint = next(s for s in sprints if s["name"] == SPRINT)
    with gzip.open(SITE_DIR / "issues.jsonl.gz", "rt") as lines:
        issues = {raw["key"]: raw for raw in map(json.loads, lines)}
    statuses = json.loads((SITE_DIR / "statuses.json").read_text())
    categories = {s["id"]: s["statusCategory"]["key"] for s in statuses}
    return sprint, issues, categories


def hand_counted_growth(key: str) -> tuple[datetime, datetime, float, float]:
    """(criteria grown at, re-estimated at, from, to) of one CHK Sprint 16 story: its first
    upward "Story point estimate" change after the start, and the last "description" change
    before it that added bullets to the Acceptance Criteria section."""
    sprint, issues, _ = sample_json()
    start = jira_time(sprint["startDate"])
    estimates = changes(issues[key], "Story point estimate")
    reestimated, item = next(
        (at, item)
        for at, item in estimates
        if at > start and float(item["toString"]) > float(item["fromString"] or 0)
    )
    grown = [
        at
        for at, change in changes(issues[key], "description")
        if at <= reestimated
        and criteria_bullets(change["toString"]) > criteria_bullets(change["fromString"])
    ]
    return max(grown), reestimated, float(item["fromString"]), float(item["toString"])


def hand_counted_scope() -> tuple[int, float, list[str], float]:
    """CHK Sprint 16's final scope at the export (it is still running): issues other than
    sub-tasks whose Sprint field holds it, not done when they entered it, with their points
    now; and those that entered after the start, with their points."""
    sprint, issues, categories = sample_json()
    start = jira_time(sprint["startDate"])
    final, final_points, added, added_points = 0, 0.0, [], 0.0
    for key, raw in issues.items():
        fields = raw["fields"]
        in_sprint = any(s["id"] == sprint["id"] for s in fields["customfield_10020"] or [])
        if fields["issuetype"]["subtask"] or not in_sprint:
            continue
        entered = next(
            (
                at
                for at, item in changes(raw, "Sprint")
                if str(sprint["id"]) in (item["to"] or "").replace(" ", "").split(",")
                and str(sprint["id"]) not in (item["from"] or "").replace(" ", "").split(",")
            ),
            None,
        )
        status_changes = changes(raw, "status")
        status = status_changes[0][1]["from"] if status_changes else fields["status"]["id"]
        for at, item in status_changes:
            if entered is not None and at <= max(entered, start):
                status = item["to"]
        if categories[status] == "done":
            continue
        points = float(fields["customfield_10016"] or 0)
        final, final_points = final + 1, final_points + points
        if entered is not None and entered > start:
            added.append(key)
            added_points += points
    return final, final_points, sorted(added), added_points


@cache
def sample() -> Diagnosis:
    staging = build_staging_tables(load_snapshot(SITE_DIR), source="sample").tables()
    return diagnose(staging, staging["jira_snapshot"]["exported_at"].iloc[0])


def test_each_grown_chk_story_had_its_criteria_grow_before_the_reestimate() -> None:
    growth = sample().growth
    rows = growth.loc[growth["sprint_name"].eq(SPRINT)].set_index("issue_key")
    assert list(rows.index) == GROWN
    assert rows[REFINEMENT_GAP].all()
    for key in GROWN:
        criteria_at, reestimated_at, start_points, end_points = hand_counted_growth(key)
        row = rows.loc[key]
        assert row["criteria_grown_at"] == pd.Timestamp(criteria_at), key
        assert row["reestimated_at"] == pd.Timestamp(reestimated_at), key
        assert (row["points_at_start"], row["points_at_end"]) == (start_points, end_points), key
        # Planted "shortly before the re-estimate": within the same day, inside the sprint.
        assert 0 < row["criteria_days_before_reestimate"] < 1, key
        assert row["criteria_grown_at"] > row["sprint_start"], key
    # PLANTED.md's from and to points.
    assert rows[["points_at_start", "points_at_end"]].to_numpy().tolist() == [
        [2, 3], [2, 8], [3, 5], [5, 8], [2, 8]
    ]  # fmt: skip


def test_chk_sprint_16_added_work_is_a_share_of_its_final_scope() -> None:
    final, final_points, added, added_points = hand_counted_scope()
    assert added == ADDED and added_points == 5.0  # CHK-219, the story, carries the points
    causes = sample().causes.set_index("sprint_name").loc[SPRINT]
    assert (causes["final_scope_issues"], causes["final_scope_points"]) == (final, final_points)
    assert (causes["added_issues_in_scope"], causes["added_points_in_scope"]) == (3, 5.0)
    assert causes["added_point_share"] == pytest.approx(added_points / final_points)
    assert causes["added_issue_share"] == pytest.approx(3 / final)
    assert (causes["grown_stories"], causes["refinement_gap_stories"]) == (5, 5)
    # 1 + 6 + 2 + 3 + 6 points of growth, all from refinement gaps, against 5 points added.
    assert causes["refinement_gap_points"] == 18.0
    assert causes["dominant_cause"] == REFINEMENT_GAP
    # The diagnosis counts the grown stories the scope-creep rule counts, sprint by sprint.
    rule = sample().scope_creep.set_index("sprint_id")["grown_stories"]
    assert sample().causes.set_index("sprint_id")["grown_stories"].equals(rule)


# ---------------------------------------------------------------------------------------------
# A real site
# ---------------------------------------------------------------------------------------------


def test_improvingflow_sprint_3_scope_was_a_third_added_after_the_start() -> None:
    # From jirametrics' raw histories: SP-13 (13 points) and SP-14 (14 points) were estimated
    # minutes before "Scrum Sprint 3" started at 00:55:17 and never re-estimated; SP-15 (13
    # points) joined on 24 April. Nothing grew, so the added work is the only cause: 13 of the
    # 40 points of the final scope, 1 of its 3 issues.
    staging = build_staging_tables(load_snapshot(DATA / "live_improvingflow")).tables()
    diagnosis = diagnose(staging, staging["jira_snapshot"]["exported_at"].iloc[0])
    assert diagnosis.growth.empty
    (row,) = diagnosis.causes.to_dict("records")
    assert row["sprint_name"] == "Scrum Sprint 3"
    assert (row["grown_stories"], row["refinement_gap_stories"]) == (0, 0)
    assert pd.isna(row["refinement_gap_share"])
    assert (row["final_scope_issues"], row["final_scope_points"]) == (3, 40.0)
    assert (row["added_issues_in_scope"], row["added_points_in_scope"]) == (1, 13.0)
    assert row["added_point_share"] == pytest.approx(13 / 40)
    assert row["dominant_cause"] == ADDED_LATE


# ---------------------------------------------------------------------------------------------
# The insight
# ---------------------------------------------------------------------------------------------

CHK_MESSAGE = (
    "In CHK Sprint 16, all 5 grown stories had their acceptance criteria grow before the "
    "re-estimate (CHK-172, CHK-184, CHK-185, CHK-196, CHK-198), and 42% of estimated committed "
    "stories grew, above the 20% limit. Work added after the start made up 8% of the final "
    "scope: 5 of 64 points, 3 of 26 issues."
)


def sample_metric_tables() -> MetricTables:
    diagnosis = sample()
    as_of = pd.Timestamp(diagnosis.staging["jira_snapshot"]["exported_at"].iloc[0])
    return MetricTables(
        as_of.tz_convert("UTC").isoformat(),
        {
            "sprint_scope_creep": diagnosis.scope_creep,
            "sprint_scope_changes": diagnosis.scope_changes,
            "sprint_commitments": diagnosis.commitments,
            "scope_growth_causes": diagnosis.growth,
            "sprint_scope_causes": diagnosis.causes,
            "jira_boards": diagnosis.staging["jira_boards"],
            "jira_issues": diagnosis.staging["jira_issues"],
        },
    )


def chk_facts() -> InsightFacts:
    found = use_case("scope_creep").facts(sample_metric_tables(), THRESHOLDS.scope_creep)
    return next(f for f in found if f.sprint_name == SPRINT)


def grounded_answers(facts: InsightFacts) -> list[dict[str, Any]]:
    """Every answer the plans allow, each checked as the engine checks a model's answer."""
    wording = use_case("scope_creep").wording
    answers = []
    for answer in plan_answers(plans_for(facts, wording.plans)):
        draft = parse_draft(answer, wording.titles.alarm)
        check_draft(draft, facts, own_text=True)
        filled = fill_draft(draft, facts)
        assert validate_draft(filled, facts) == [], answer
        answers.append({"message": filled.message, "advice": filled.recommendations})
    return answers


def test_chk_sprint_16_insight_leads_with_the_refinement_gap() -> None:
    facts = chk_facts()
    assert facts.severity == "warning"
    values = {fact.name: fact.json_value() for fact in facts.facts}
    assert values["gap_stories"] == 5
    assert values["gap_keys"] == GROWN
    assert values["largest_cause"] == CAUSE_LABELS[REFINEMENT_GAP]
    assert (values["added_scope_issues"], values["added_scope_points"]) == (3, 5)
    assert values["added_point_share"] == 0.08
    document = write_insight(facts, use_case("scope_creep").wording, None).document
    assert document["generated_by"] == "template"
    assert document["title"] == "Scope grew during CHK Sprint 16"
    assert document["message"] == CHK_MESSAGE
    assert document["recommendations"] == list(CAUSE_ADVICE[REFINEMENT_GAP])
    # Each grown story's evidence gives both instants (UTC) of its refinement gap.
    reasons = {item["issue_key"]: item["reason"] for item in document["evidence"]}
    assert reasons["CHK-184"] == (
        "grew from 2 to 8 points and became a large story; acceptance criteria grew "
        "2026-11-11 08:30 UTC, re-estimated 2026-11-11 13:03 UTC, 2.2 days after the start"
    )
    assert set(reasons) == set(GROWN)
    # Every answer the model may choose states the refinement gap first, with its keys, and
    # gives its advice.
    answers = grounded_answers(facts)
    assert answers
    for answer in answers:
        first = answer["message"].split(". ")[0]
        assert "all 5 grown stories had their acceptance criteria grow" in first
        assert "CHK-172, CHK-184, CHK-185, CHK-196, CHK-198" in first
        assert "above the 20% limit" in first or "over the 20% limit" in first
        assert set(answer["advice"]) <= set(CAUSE_ADVICE[REFINEMENT_GAP])


def _with(facts: InsightFacts, **values: Any) -> InsightFacts:
    """The same insight with some facts' values changed (None drops the fact)."""
    changed = [
        fact if fact.name not in values else dataclasses.replace(fact, value=values[fact.name])
        for fact in facts.facts
        if values.get(fact.name, True) is not None
    ]
    return dataclasses.replace(facts, facts=tuple(changed))


def test_added_work_leads_when_it_is_the_largest_cause() -> None:
    facts = _with(
        chk_facts(),
        largest_cause=CAUSE_LABELS[ADDED_LATE],
        gap_stories=2,
        gap_keys=("CHK-184", "CHK-198"),
        added_scope_points=20,
        final_scope_points=79,
        added_point_share=0.2532,
    )
    document = write_insight(facts, use_case("scope_creep").wording, None).document
    assert document["message"] == (
        "In CHK Sprint 16, work added after the start made up 25% of the final scope: 20 of 79 "
        "points, 3 of 26 issues, and 42% of estimated committed stories grew, above the 20% "
        "limit. 2 of the 5 grown stories had their acceptance criteria grow before the "
        "re-estimate (CHK-184, CHK-198)."
    )
    assert document["recommendations"] == list(CAUSE_ADVICE[ADDED_LATE])
    assert grounded_answers(facts)


def test_without_a_cause_the_insight_says_so_and_asks_the_team() -> None:
    facts = _with(
        chk_facts(),
        largest_cause=None,
        gap_stories=0,
        gap_keys=None,
        gap_points=0,
        added_scope_points=0,
        added_point_share=0,
    )
    document = write_insight(facts, use_case("scope_creep").wording, None).document
    assert document["message"].startswith(
        "5 of 12 estimated committed stories grew during CHK Sprint 16, above the 20% limit. "
        "No grown story had its acceptance criteria grow before the re-estimate, and the work "
        "added after the start carried no points."
    )
    assert document["recommendations"][0] == NO_CAUSE_ADVICE
    for answer in grounded_answers(facts):
        assert "No grown story had its acceptance criteria grow" in answer["message"]
    # The diagnosis decides "none" itself when neither cause brought points.
    assert NO_CAUSE in set(sample().causes["dominant_cause"])


def test_without_the_diagnosis_tables_no_cause_is_stated() -> None:
    tables = sample_metric_tables()
    frames = {
        name: frame
        for name, frame in tables.frames.items()
        if name not in ("scope_growth_causes", "sprint_scope_causes")
    }
    found = use_case("scope_creep").facts(
        MetricTables(tables.as_of, frames), THRESHOLDS.scope_creep
    )
    facts = next(f for f in found if f.sprint_name == SPRINT)
    assert not {"largest_cause", "gap_stories"} & {f.name for f in facts.facts}
    for answer in grounded_answers(facts):
        assert "refined" not in answer["message"] and "criteria" not in answer["message"]


def test_the_cause_facts_name_only_what_the_tables_hold() -> None:
    facts = chk_facts()
    growth = sample().growth
    gaps = growth.loc[growth["sprint_name"].eq(SPRINT) & growth[REFINEMENT_GAP], "issue_key"]
    keys = facts.by_name["gap_keys"]
    assert isinstance(keys, Fact) and keys.value == tuple(sorted(gaps))
