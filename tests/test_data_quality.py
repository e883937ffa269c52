"""Values that cannot be used are left out and listed in `jira_data_quality` (issue #15, part 3).

A single bad value must not stop the run, nor poison the figure it would enter: story points of
"Infinity" made every sum they entered infinite (and `sprint_commitments` then failed Pandera
without naming the value or the issue), an impossible date such as 2026-02-30 stopped the parse
with pandas' advice and no issue key, and a sprint that starts after it ends was judged over a
window that ends before it begins. Now each such value is left out of what it would distort and
becomes one row (subject, key, field, value as found, a reason saying what was left out); the
rest is computed exactly as from the clean snapshot.

Every test starts from a real snapshot in tests/data (jirametrics' improvingflow Cloud site,
DevLake's merico site), injects one hostile value into a copy of a real issue or sprint, and
compares the tables with those of the untouched snapshot: the row in `jira_data_quality`, the
value left out, and every other issue's or sprint's figures unchanged. One test repeats the
impossible sprint on the bundled sample site, where Jira's habit of keeping closed sprints in
unfinished issues' Sprint field made it leak into the next sprint's spillover.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from metrics_sprint_site import DEFAULTS, SprintTables, sprint_tables

from jira_insights_pipeline.assets.sprints.commitments import sprint_commitments
from jira_insights_pipeline.assets.sprints.schemas import SprintCommitmentsSchema
from jira_insights_pipeline.assets.sprints.scope_changes import sprint_scope_changes
from jira_insights_pipeline.parsing.staging import StagingTables, build_staging_tables
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import Snapshot, load_snapshot, write_snapshot

DATA = Path(__file__).parent / "data"
# jirametrics' improvingflow site: Story Points `customfield_10036`, Scrum Sprint 3 (id 3).
IMPROVINGFLOW = "live_improvingflow"
# DevLake's merico site: Story Points `customfield_10024`, Sprint `customfield_10020`, board 8.
DEVLAKE = "devlake_site"
POINTS = {IMPROVINGFLOW: "customfield_10036", DEVLAKE: "customfield_10024"}

Issues = dict[str, dict[str, Any]]
Sprints = list[dict[str, Any]]


@cache
def _real(folder: str) -> tuple[Snapshot, tuple[dict[str, Any], ...]]:
    snapshot = load_snapshot(DATA / folder)
    return snapshot, tuple(snapshot.iter_issues())


@cache
def _clean(folder: str) -> StagingTables:
    return build_staging_tables(load_snapshot(DATA / folder))


def _hostile(
    tmp_path: Path,
    folder: str,
    issues: Callable[[Issues], None] | None = None,
    sprints: Callable[[Sprints], None] | None = None,
) -> StagingTables:
    """The staging tables of a copy of a real snapshot whose issues (by key) and sprints.json
    were changed by `issues` and `sprints`, written and loaded back as a real snapshot."""
    snapshot, real_issues = _real(folder)
    changed_issues = {issue["key"]: copy.deepcopy(issue) for issue in real_issues}
    changed_sprints = copy.deepcopy(snapshot.sprints)
    if issues:
        issues(changed_issues)
    if sprints:
        sprints(changed_sprints)
    path = write_snapshot(
        tmp_path / "snapshot",
        meta=snapshot.meta,
        fields=snapshot.fields,
        boards=snapshot.boards,
        sprints=changed_sprints,
        issues=list(changed_issues.values()),
        statuses=snapshot.statuses,
        compress=False,
    )
    return build_staging_tables(load_snapshot(path))


def _quality_rows(tables: StagingTables, subject: str = "issue") -> list[tuple[str, str, str]]:
    """(key, field, value) of the data-quality rows about `subject`."""
    rows = tables.jira_data_quality
    rows = rows.loc[rows["subject"] == subject, ["key", "field", "value"]]
    return [tuple(row) for row in rows.itertuples(index=False)]


def _reason(tables: StagingTables, key: str, field: str) -> str:
    rows = tables.jira_data_quality
    (reason,) = rows.loc[(rows["key"] == key) & (rows["field"] == field), "reason"]
    return str(reason)


def _without(frame: pd.DataFrame, keys: list[str], column: str = "issue_key") -> pd.DataFrame:
    return frame.loc[~frame[column].isin(keys)].reset_index(drop=True)


def _assert_others_unchanged(
    hostile: StagingTables, clean: StagingTables, keys: list[str], tables: list[str]
) -> None:
    for name in tables:
        pd.testing.assert_frame_equal(
            _without(getattr(hostile, name), keys), _without(getattr(clean, name), keys)
        )


def _story_points_change(issue: dict[str, Any]) -> dict[str, Any]:
    (item,) = [
        item
        for history in issue["changelog"]["histories"]
        for item in history["items"]
        if item["field"] == "Story Points"
    ]
    return item


def _sprint_ledger(tables: StagingTables) -> SprintTables:
    return sprint_tables(tables.tables(), tables.jira_snapshot["exported_at"].iloc[0])


# --------------------------------------------------------------------------------------------
# Story points
# --------------------------------------------------------------------------------------------


def test_infinite_story_points_on_an_issue_count_as_no_estimate(tmp_path: Path) -> None:
    # SP-15 was cloned with 13 points and never re-estimated: its estimate is the field's value.
    def infinite(issues: Issues) -> None:
        assert issues["SP-15"]["fields"][POINTS[IMPROVINGFLOW]] == 13.0
        issues["SP-15"]["fields"][POINTS[IMPROVINGFLOW]] = "Infinity"

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=infinite)
    assert _quality_rows(tables) == [("SP-15", "story_points", "Infinity")]
    reason = _reason(tables, "SP-15", "story_points")
    assert "is infinite, so it is left out" in reason
    assert "counts as not estimated in every sprint sum" in reason
    issues = tables.jira_issues.set_index("issue_key")
    assert pd.isna(issues.loc["SP-15", "story_points"])
    estimates = tables.jira_estimates
    assert estimates.loc[estimates["issue_key"] == "SP-15", "story_points"].isna().all()
    assert np.isfinite(estimates["story_points"].dropna()).all()
    assert any("jira_data_quality lists each" in w for w in tables.report.warnings)
    _assert_others_unchanged(
        tables, _clean(IMPROVINGFLOW), ["SP-15"], ["jira_issues", "jira_estimates"]
    )


@pytest.mark.parametrize(
    ("value", "shown", "problem"),
    [
        ("NaN", "NaN", "is not a number (NaN)"),
        (-3, "-3", "is negative"),
        ("three", "three", "is not a number"),
        (True, "True", "is not a number"),
    ],
)
def test_nan_negative_and_non_numbers_become_rows(
    tmp_path: Path, value: object, shown: str, problem: str
) -> None:
    def hostile(issues: Issues) -> None:
        issues["SP-15"]["fields"][POINTS[IMPROVINGFLOW]] = value

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=hostile)
    assert _quality_rows(tables) == [("SP-15", "story_points", shown)]
    assert _reason(tables, "SP-15", "story_points").startswith(
        f"The story points value {problem}, so it is left out"
    )
    assert pd.isna(tables.jira_issues.set_index("issue_key").loc["SP-15", "story_points"])


def test_jiras_minus_one_is_no_estimate_and_no_row() -> None:
    # DevLake's EE-1 has story points "-1", Jira's "no estimate": nothing is wrong with it.
    _, issues = _real(DEVLAKE)
    assert next(i for i in issues if i["key"] == "EE-1")["fields"][POINTS[DEVLAKE]] == "-1"
    assert _quality_rows(_clean(DEVLAKE)) == []


def test_infinity_in_a_story_points_change_counts_as_no_estimate(tmp_path: Path) -> None:
    # SP-13 got 13 points in history 10123 (2022-04-15T00:52:51.009+0000), its only estimate.
    def infinite(issues: Issues) -> None:
        item = _story_points_change(issues["SP-13"])
        assert item["toString"] == "13"
        item["toString"] = "Infinity"

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=infinite)
    assert _quality_rows(tables) == [("SP-13", "story_points change", "Infinity")]
    assert _reason(tables, "SP-13", "story_points change") == (
        "The story points value set by change history 10123 of 2022-04-15 00:52 UTC is "
        "infinite, so it is left out: the issue counts as not estimated from that change until "
        "the next one, in every sprint sum."
    )
    estimates = tables.jira_estimates
    sp13 = estimates.loc[estimates["issue_key"] == "SP-13"]
    # No estimate before the change, none after it: one interval from created, no value.
    assert len(sp13) == 1 and sp13["story_points"].isna().all()
    assert sp13["valid_from"].iat[0] == pd.Timestamp("2021-06-18T18:43:15.837Z")
    assert np.isfinite(estimates["story_points"].dropna()).all()
    _assert_others_unchanged(tables, _clean(IMPROVINGFLOW), ["SP-13"], ["jira_estimates"])


def test_sprint_commitments_are_computed_despite_an_infinite_change(tmp_path: Path) -> None:
    # Before: inf points reached `sprint_commitments` and its Pandera validation failed without
    # naming the value or the issue. Scrum Sprint 3 held SP-13 (13 points) and SP-14 (14) at
    # its start; both were done by the export. With SP-13's 13 written as "Infinity", SP-13
    # counts as unestimated and the sprint's sums are SP-14's.
    def infinite(issues: Issues) -> None:
        _story_points_change(issues["SP-13"])["toString"] = "Infinity"

    def ledger(tables: StagingTables) -> pd.DataFrame:
        as_of = tables.jira_snapshot["exported_at"].iloc[0]
        scope = sprint_scope_changes(
            tables.jira_sprints,
            tables.jira_issues,
            tables.jira_sprint_membership,
            tables.jira_estimates,
            tables.jira_status_intervals,
            tables.jira_changelog,
            as_of,
            DEFAULTS.sprints,
        )
        return SprintCommitmentsSchema.validate(
            sprint_commitments(scope, tables.jira_sprints, as_of)
        )

    clean = ledger(_clean(IMPROVINGFLOW)).iloc[0]
    hostile = ledger(_hostile(tmp_path, IMPROVINGFLOW, issues=infinite)).iloc[0]
    assert (clean["committed_issues"], clean["committed_points"]) == (2, 27.0)
    assert (hostile["committed_issues"], hostile["committed_points"]) == (2, 14.0)
    assert (hostile["completed_issues"], hostile["completed_points"]) == (2, 14.0)
    assert hostile["say_do_ratio"] == 1.0
    # SP-15, added later with 13 points, is untouched.
    assert (hostile["added_issues"], hostile["added_points"]) == (1, 13.0)


# --------------------------------------------------------------------------------------------
# Impossible dates
# --------------------------------------------------------------------------------------------


def test_an_impossible_created_date_leaves_the_whole_issue_out(tmp_path: Path) -> None:
    def impossible(issues: Issues) -> None:
        issues["SP-15"]["fields"]["created"] = "2026-02-30T16:41:53.123+0000"

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=impossible)
    assert _quality_rows(tables) == [("SP-15", "created", "2026-02-30T16:41:53.123+0000")]
    assert _reason(tables, "SP-15", "created") == (
        "The issue's created date is not a real calendar date or time (day is out of range for "
        "month), so the whole issue is left out of every table and figure: without it the "
        "issue's age, lead time and the start of its history are unknown, and guessing one "
        "would move them."
    )
    for name in (
        "jira_issues",
        "jira_changelog",
        "jira_status_intervals",
        "jira_estimates",
        "jira_sprint_membership",
        "jira_issue_links",
    ):
        assert "SP-15" not in set(getattr(tables, name)["issue_key"]), name
    assert len(tables.jira_issues) == 9
    clean = _clean(IMPROVINGFLOW)
    _assert_others_unchanged(
        tables,
        clean,
        ["SP-15"],
        ["jira_issues", "jira_status_intervals", "jira_estimates", "jira_sprint_membership"],
    )
    # SP-13's and SP-14's links to SP-15 stay: a link to an issue outside the tables is normal.
    links = tables.jira_issue_links
    assert sorted(links.loc[links["linked_issue_key"] == "SP-15", "issue_key"]) == [
        "SP-13",
        "SP-14",
    ]
    # SP-15 had joined Scrum Sprint 3 after its start: the sprint has no added issue any more.
    sprint = _sprint_ledger(tables).commitments.iloc[0]
    assert (sprint["committed_points"], sprint["added_issues"]) == (27.0, 0)


def test_impossible_updated_and_resolution_dates_are_left_empty(tmp_path: Path) -> None:
    def impossible(issues: Issues) -> None:
        fields = issues["SP-13"]["fields"]
        fields["updated"] = "2022-13-24T16:41:53.693+0000"
        fields["resolutiondate"] = "2022-04-31T01:53:42.180+0000"

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=impossible)
    assert _quality_rows(tables) == [
        ("SP-13", "updated", "2022-13-24T16:41:53.693+0000"),
        ("SP-13", "resolutiondate", "2022-04-31T01:53:42.180+0000"),
    ]
    assert "(month must be in 1..12), so it is left empty" in _reason(tables, "SP-13", "updated")
    assert "so it is left empty: the issue shows no resolution date" in _reason(
        tables, "SP-13", "resolutiondate"
    )
    sp13 = tables.jira_issues.set_index("issue_key").loc["SP-13"]
    assert pd.isna(sp13["updated"]) and pd.isna(sp13["resolved"])
    assert sp13["status"] == "Done" and sp13["story_points"] == 13.0
    _assert_others_unchanged(
        tables, _clean(IMPROVINGFLOW), [], ["jira_status_intervals", "jira_estimates"]
    )


@pytest.mark.parametrize(
    ("created", "shown", "problem"),
    [
        (
            "2022-04-31T01:31:30.710+0000",
            "2022-04-31T01:31:30.710+0000",
            "is not a real calendar date or time (day is out of range for month)",
        ),
        (None, "", "has no date at all"),
    ],
)
def test_a_history_with_an_impossible_or_no_date_is_left_out(
    tmp_path: Path, created: str | None, shown: str, problem: str
) -> None:
    # SP-13's history 10127 moved it from Backlog to Selected for Development.
    def impossible(issues: Issues) -> None:
        (history,) = [h for h in issues["SP-13"]["changelog"]["histories"] if h["id"] == "10127"]
        assert history["created"] == "2022-04-19T01:31:30.710+0000"
        history["created"] = created

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=impossible)
    assert _quality_rows(tables) == [("SP-13", "changelog created", shown)]
    assert _reason(tables, "SP-13", "changelog created") == (
        f"The date of change history 10127 {problem}, so that change (status) is left out: the "
        "issue's status, estimate and sprint history are rebuilt from its other changes."
    )
    changelog = tables.jira_changelog
    assert "10127" not in set(changelog["history_id"])
    # Rebuilt from history 10132 alone: "Selected for Development" from created until Done.
    intervals = tables.jira_status_intervals
    sp13 = intervals.loc[intervals["issue_key"] == "SP-13", ["status", "entered_at", "left_at"]]
    assert [tuple(row) for row in sp13.itertuples(index=False)] == [
        (
            "Selected for Development",
            pd.Timestamp("2021-06-18T18:43:15.837Z"),
            pd.Timestamp("2022-04-19T01:53:42.206Z"),
        ),
        ("Done", pd.Timestamp("2022-04-19T01:53:42.206Z"), pd.NaT),
    ]
    clean = _clean(IMPROVINGFLOW)
    _assert_others_unchanged(tables, clean, ["SP-13"], ["jira_changelog", "jira_status_intervals"])
    assert len(changelog) == len(clean.jira_changelog) - 1


def test_an_issue_file_without_one_readable_created_date_stops_the_parse(tmp_path: Path) -> None:
    # One bad date is a value to leave out; every issue unreadable is a snapshot that is not.
    def impossible(issues: Issues) -> None:
        for issue in issues.values():
            issue["fields"]["created"] = "2026-02-30T10:00:00.000+0000"

    with pytest.raises(ValueError, match="not one issue has a readable created date"):
        _hostile(tmp_path, IMPROVINGFLOW, issues=impossible)


# --------------------------------------------------------------------------------------------
# Impossible sprints
# --------------------------------------------------------------------------------------------


def _sprint(sprints: Sprints, sprint_id: int) -> dict[str, Any]:
    return next(sprint for sprint in sprints if sprint["id"] == sprint_id)


def _carry_ee10_into_sprint_8(issues: Issues) -> None:
    """EE-10 (a task, Resolved on 2020-07-09) as Jira records an unfinished issue carried over
    when EE Sprint 7 completed (2020-06-22T05:59:58.980Z): Sprint "7" -> "7, 9", and the Sprint
    field keeps the closed sprint 7 beside EE Sprint 8 (id 9)."""
    snapshot, _ = _real(DEVLAKE)
    ee10 = issues["EE-10"]
    sprint_8 = dict(_sprint(snapshot.sprints, 9))
    sprint_8["boardId"] = sprint_8.pop("originBoardId")
    del sprint_8["self"]
    ee10["fields"]["customfield_10020"].append(sprint_8)
    ee10["changelog"]["histories"].insert(
        0,
        {
            "id": "20000",
            "created": "2020-06-22T13:59:58.980+0800",
            "items": [
                {
                    "field": "Sprint",
                    "fieldtype": "custom",
                    "fieldId": "customfield_10020",
                    "from": "7",
                    "fromString": "EE Sprint 7",
                    "to": "7, 9",
                    "toString": "EE Sprint 7, EE Sprint 8",
                }
            ],
        },
    )


def _swap_sprint_7_dates(sprints: Sprints) -> None:
    sprint = _sprint(sprints, 7)
    assert (sprint["startDate"], sprint["endDate"]) == (
        "2020-06-12T00:38:51.882Z",
        "2020-06-26T00:38:00.000Z",
    )
    sprint["startDate"], sprint["endDate"] = sprint["endDate"], sprint["startDate"]


def test_a_sprint_that_starts_after_it_ends_is_reported_and_not_judged(tmp_path: Path) -> None:
    clean = _hostile(tmp_path / "clean", DEVLAKE, issues=_carry_ee10_into_sprint_8)
    tables = _hostile(
        tmp_path / "hostile",
        DEVLAKE,
        issues=_carry_ee10_into_sprint_8,
        sprints=_swap_sprint_7_dates,
    )
    assert _quality_rows(tables, "sprint") == [
        ("EE Sprint 7 (7)", "startDate", "2020-06-26T00:38:00.000Z")
    ]
    assert _reason(tables, "EE Sprint 7 (7)", "startDate") == (
        "The sprint starts after it ends (endDate 2020-06-12T00:38:51.882Z), which cannot be, "
        "so both dates are left out and the sprint is not judged: it gets no row in the sprint "
        "tables (scope changes, commitments, scope creep, targets, points completed), while its "
        "issues keep their membership."
    )
    sprint_7 = tables.jira_sprints.set_index("sprint_id").loc[7]
    assert pd.isna(sprint_7["start_date"]) and pd.isna(sprint_7["end_date"])
    assert sprint_7["complete_date"] == pd.Timestamp("2020-06-22T05:59:58.980Z")
    # Its issues keep their membership; only the sprint's own figures go.
    pd.testing.assert_frame_equal(tables.jira_sprint_membership, clean.jira_sprint_membership)

    judged, reference = _sprint_ledger(tables), _sprint_ledger(clean)
    for name in ("scope_changes", "commitments", "scope_creep", "targets", "velocity"):
        assert 7 in set(getattr(reference, name)["sprint_id"]), name
        assert 7 not in set(getattr(judged, name)["sprint_id"]), name
    pd.testing.assert_frame_equal(
        judged.commitments, _without(reference.commitments, [7], "sprint_id")
    )
    # EE-10 was not finished in EE Sprint 8 and went nowhere after it; sprint 7, whose dates
    # are gone, is no later sprint it was carried into (Jira only kept the closed sprint listed).
    scope = judged.scope_changes
    ee10 = scope.loc[(scope["sprint_id"] == 9) & (scope["issue_key"] == "EE-10")].iloc[0]
    assert not ee10["completed"] and not ee10["carried_over"]
    in_reference = reference.scope_changes.set_index(["sprint_id", "issue_key"])
    assert in_reference.loc[(7, "EE-10"), "carried_over"]  # carried from 7 into 8
    assert not in_reference.loc[(9, "EE-10"), "carried_over"]


def test_on_the_sample_site_the_impossible_sprint_moves_no_other_sprints_figures(
    tmp_path: Path,
) -> None:
    # The bundled sample site keeps closed sprints in unfinished issues' Sprint field, as Jira
    # does. With CHK Sprint 15 (id 31, the last closed one of board 1) starting after it ends,
    # it used to be judged over a window that ends before it starts, and its issues still in
    # the running CHK Sprint 16 (id 33) counted as carried over "into" it: 2 false spillovers.
    snapshot = load_snapshot(SITE_DIR)
    sprints = copy.deepcopy(snapshot.sprints)
    sprint = _sprint(sprints, 31)
    assert (sprint["name"], sprint["state"]) == ("CHK Sprint 15", "closed")
    sprint["startDate"], sprint["endDate"] = sprint["endDate"], sprint["startDate"]
    path = write_snapshot(
        tmp_path / "snapshot",
        meta=snapshot.meta,
        fields=snapshot.fields,
        boards=snapshot.boards,
        sprints=sprints,
        issues=snapshot.iter_issue_lines(),
        statuses=snapshot.statuses,
    )
    tables = build_staging_tables(load_snapshot(path))
    assert _quality_rows(tables, "sprint") == [
        ("CHK Sprint 15 (31)", "startDate", "2026-11-09T08:41:00.000Z")
    ]
    judged = _sprint_ledger(tables).commitments
    reference = _sprint_ledger(build_staging_tables(snapshot)).commitments
    assert 31 in set(reference["sprint_id"]) and 31 not in set(judged["sprint_id"])
    pd.testing.assert_frame_equal(judged, _without(reference, [31], "sprint_id"))
    assert judged.set_index("sprint_id").loc[33, "spillover_issues"] == 0


def test_an_impossible_date_in_the_sprint_field_is_left_out(tmp_path: Path) -> None:
    # Without sprints.json, Scrum Sprint 3 is known from the Sprint field of SP-13 (the first
    # issue listing it) only.
    def impossible(issues: Issues) -> None:
        (sprint,) = issues["SP-13"]["fields"]["customfield_10020"]
        assert sprint["startDate"] == "2022-04-15T00:55:17.688Z"
        sprint["startDate"] = "2022-04-31T00:55:17.688Z"

    def no_listing(sprints: Sprints) -> None:
        sprints.clear()

    tables = _hostile(tmp_path, IMPROVINGFLOW, issues=impossible, sprints=no_listing)
    assert _quality_rows(tables, "sprint") == [
        ("Scrum Sprint 3 (3)", "startDate", "2022-04-31T00:55:17.688Z")
    ]
    assert "(from an issue's Sprint field) is not a real calendar date" in _reason(
        tables, "Scrum Sprint 3 (3)", "startDate"
    )
    assert pd.isna(tables.jira_sprints.set_index("sprint_id").loc[3, "start_date"])
    # SP-13's sprint membership is kept: the one bad date did not make its Sprint field unreadable.
    membership = tables.jira_sprint_membership
    assert sorted(membership["issue_key"]) == ["SP-13", "SP-14", "SP-15"]
    assert _sprint_ledger(tables).commitments.empty


# --------------------------------------------------------------------------------------------
# Statuses of unknown category
# --------------------------------------------------------------------------------------------


def test_statuses_of_unknown_category_are_rows_naming_their_issues() -> None:
    # DevLake's statuses.json lacks Inbox, Ready for Dev, Resolved and To Do (tests of
    # test_parsing_staging.py); EE-10 was Resolved from 2020-07-09 to 2020-11-10.
    tables = _clean(DEVLAKE)
    assert _quality_rows(tables, "status") == [
        ("Inbox (10020)", "status", "Inbox"),
        ("Ready for Dev (10029)", "status", "Ready for Dev"),
        ("Resolved (5)", "status", "Resolved"),
        ("To Do (10000)", "status", "To Do"),
    ]
    reason = _reason(tables, "Resolved (5)", "status")
    assert reason.startswith("No category (to do, in progress, done) is known for this status")
    assert "never taken for in progress or done" in reason
    assert "EE-10" in reason and "GET /rest/api/3/status" in reason
    assert any("see jira_data_quality" in w for w in tables.report.warnings)
