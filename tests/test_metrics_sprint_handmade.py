"""Sprint scope changes and commitments on a small hand-made history whose answers were worked
out by hand: an issue added mid-sprint and carried over, one re-estimated twice (2 -> 5 -> 8:
small became large), one moved out and back, one removed after growing, one reopened after done,
one already done when it was added (Jira's "completed outside this sprint"), a sub-task, an
unestimated story, acceptance criteria that grow in the description or in a custom field, an
active sprint, and an earlier "as of".

These are the rules a Scrum Master reads the tables by, so each one is pinned to a number."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from metrics_sprint_site import AS_OF, SprintSite, build_site, sprint_tables, t

from jira_insights_pipeline.metrics.acceptance_history import description_criteria_length
from jira_insights_pipeline.metrics.thresholds import Thresholds
from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return build_site().tables(exported_at="2026-04-01 00:00")


@pytest.fixture(scope="module")
def scope(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return sprint_tables(tables, AS_OF).scope_changes


@pytest.fixture(scope="module")
def commitments(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return sprint_tables(tables, AS_OF).commitments


def row(frame: pd.DataFrame, sprint_id: int, key: str) -> pd.Series:
    found = frame.loc[(frame["sprint_id"] == sprint_id) & (frame["issue_key"] == key)]
    assert len(found) == 1, f"expected one row for sprint {sprint_id}, {key}"
    return found.iloc[0]


def test_scope_rows_are_the_sprint_issues_without_subtasks(scope: pd.DataFrame) -> None:
    sprint_1 = scope.loc[scope["sprint_id"] == 1, "issue_key"]
    assert sorted(sprint_1) == ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-9"]
    assert sorted(scope.loc[scope["sprint_id"] == 3, "issue_key"]) == ["A-14", "A-15"]
    assert 4 not in set(scope["sprint_id"])  # a future sprint has no window yet
    assert (scope["as_of"] == AS_OF).all()


def test_re_estimated_twice_small_story_became_large(scope: pd.DataFrame) -> None:
    a2 = row(scope, 1, "A-2")
    assert (a2["points_at_start"], a2["points_at_end"]) == (2.0, 8.0)
    assert a2["growth_pct"] == pytest.approx(300.0)
    assert a2["grew"]
    assert (a2["size_at_start"], a2["size_at_end"]) == ("small", "large")
    assert a2["became_large"]
    assert not a2["added_after_start"] and not a2["removed"]


def test_added_mid_sprint_counts_its_points_when_added_and_is_carried_over(
    scope: pd.DataFrame,
) -> None:
    a3 = row(scope, 1, "A-3")
    assert a3["added_after_start"] and not a3["removed"]
    assert a3["entered_at"] == t("2026-03-05 11:00")
    assert (a3["points_at_start"], a3["points_at_end"]) == (5.0, 5.0)
    assert a3["carried_over"] and not a3["completed"]
    # In the next sprint it was there from the start: committed there.
    assert row(scope, 2, "A-3")["committed"]


def test_moved_out_and_back_is_neither_added_nor_removed(scope: pd.DataFrame) -> None:
    a4 = row(scope, 1, "A-4")
    assert a4["committed"] and not a4["added_after_start"] and not a4["removed"]
    assert a4["completed"]


def test_removed_issue_keeps_its_points_when_it_left(scope: pd.DataFrame) -> None:
    a5 = row(scope, 1, "A-5")
    assert a5["removed"] and a5["left_at"] == t("2026-03-09 10:00")
    assert (a5["points_at_start"], a5["points_at_end"]) == (3.0, 5.0)
    assert a5["growth_pct"] == pytest.approx(200.0 / 3.0)
    assert a5["grew"] and not a5["completed"]


def test_reopened_then_done_again_is_completed(scope: pd.DataFrame) -> None:
    assert row(scope, 1, "A-6")["completed"]


def test_done_before_it_was_added_is_completed_outside(scope: pd.DataFrame) -> None:
    a7 = row(scope, 1, "A-7")
    assert a7["completed_outside"]
    assert not a7["completed"] and not a7["committed"]


def test_unestimated_story_counts_zero_and_has_no_growth(scope: pd.DataFrame) -> None:
    a9 = row(scope, 1, "A-9")
    assert not a9["estimated_at_start"] and a9["estimated_at_end"]
    assert (a9["points_at_start"], a9["points_at_end"]) == (0.0, 3.0)
    assert math.isnan(a9["growth_pct"]) and not a9["grew"]
    assert (a9["size_at_start"], a9["size_at_end"]) == ("unestimated", "small")
    assert not a9["became_large"] and not a9["carried_over"]


def test_acceptance_criteria_in_the_description_at_start_and_end(scope: pd.DataFrame) -> None:
    a11 = row(scope, 2, "A-11")
    # "Log in works\nLog out works" = 26; plus "\nPassword reset works" = 47. The rewrite after
    # the sprint (today's description has no criteria) must not leak into the sprint's figures.
    assert a11["acceptance_criteria_length_at_start"] == 26
    assert a11["acceptance_criteria_length_at_end"] == 47
    assert a11["acceptance_criteria_growth_pct"] == pytest.approx(21 / 26 * 100)


def test_acceptance_criteria_in_the_custom_field(scope: pd.DataFrame) -> None:
    a12 = row(scope, 2, "A-12")
    assert a12["acceptance_criteria_length_at_start"] == len("Given X then Y")
    assert a12["acceptance_criteria_length_at_end"] == len("Given X then Y\nGiven Z then W")


def test_unchanged_custom_field_outweighs_an_edited_description(scope: pd.DataFrame) -> None:
    a13 = row(scope, 2, "A-13")
    assert a13["acceptance_criteria_length_at_start"] == len("Must do it")
    assert a13["acceptance_criteria_length_at_end"] == len("Must do it")


def test_closed_sprint_commitments_as_jira_counts_them(commitments: pd.DataFrame) -> None:
    s1 = commitments.loc[commitments["sprint_id"] == 1].iloc[0]
    # Committed: A-1 3, A-2 2, A-4 5, A-5 3, A-6 3, A-9 unestimated 0.
    assert (s1["committed_issues"], s1["committed_points"]) == (6, 16.0)
    assert (s1["added_issues"], s1["added_points"]) == (1, 5.0)
    assert (s1["removed_issues"], s1["removed_points"]) == (1, 5.0)
    # Completed at their points at C: A-1 3, A-2 8, A-4 5, A-6 3.
    assert (s1["completed_issues"], s1["completed_points"]) == (4, 19.0)
    assert (s1["not_completed_issues"], s1["not_completed_points"]) == (2, 8.0)
    assert s1["completed_outside_issues"] == 1
    assert s1["completed_committed_points"] == 13.0
    assert s1["say_do_ratio"] == pytest.approx(13 / 16)
    assert s1["completion_rate"] == pytest.approx(19 / 16)
    assert s1["spillover_issues"] == 1
    # Estimated at S; grown by more than 30%.
    assert (s1["estimated_committed_stories"], s1["grown_stories"]) == (5, 2)
    assert s1["grown_story_share"] == pytest.approx(0.4)
    assert s1["scope_creep_alert"]
    assert s1["sprint_state"] == "closed" and s1["sprint_end"] == t("2026-03-13 16:00")


def test_active_sprint_ends_at_as_of(commitments: pd.DataFrame) -> None:
    s3 = commitments.loc[commitments["sprint_id"] == 3].iloc[0]
    assert s3["sprint_state"] == "active" and s3["sprint_end"] == AS_OF
    assert (s3["committed_issues"], s3["committed_points"]) == (1, 3.0)
    assert (s3["added_issues"], s3["added_points"]) == (1, 2.0)
    assert (s3["completed_issues"], s3["not_completed_issues"]) == (0, 2)
    assert s3["completion_rate"] == 0.0
    assert not s3["scope_creep_alert"]
    assert sorted(commitments["sprint_id"]) == [1, 2, 3]


def test_thresholds_come_from_settings(tables: dict[str, pd.DataFrame]) -> None:
    lenient = Thresholds(growth_pct=250.0, grown_story_share_alert=0.5)
    frame = sprint_tables(tables, AS_OF, lenient).commitments
    s1 = frame.loc[frame["sprint_id"] == 1].iloc[0]
    # Only A-2 (300%) grew by more than 250%: 1 of 5, under the 50% alert.
    assert s1["grown_stories"] == 1 and s1["grown_story_share"] == pytest.approx(0.2)
    assert not s1["scope_creep_alert"]


def test_earlier_as_of_sees_the_sprint_as_it_stood(tables: dict[str, pd.DataFrame]) -> None:
    as_of = t("2026-03-10 00:00")
    earlier = sprint_tables(tables, as_of)
    frame = earlier.commitments
    assert list(frame["sprint_id"]) == [1]
    s1 = frame.iloc[0]
    assert s1["sprint_state"] == "active" and s1["sprint_end"] == as_of
    # By then A-5 had left, A-6 was reopened, nothing was done; A-2 was already at 8.
    assert (s1["removed_issues"], s1["completed_issues"]) == (1, 0)
    assert s1["spillover_issues"] == 0
    scope = earlier.scope_changes
    assert row(scope, 1, "A-2")["points_at_end"] == 8.0
    assert not row(scope, 1, "A-3")["carried_over"]


@pytest.mark.parametrize(
    "description",
    [
        "Intro\nh3. Acceptance Criteria\n* one\n* two\nh3. Notes\nmore",
        "## acceptance criteria\n- lower case heading\n- still counts",
        "AC:\n1. capitals only\n2. two",
        "Account page: accept cookies (no heading here)",
        "Ac: a sentence that starts with Ac is not a heading",
        "*Acceptance Criteria:* inline criteria on the heading line",
        "",
        "Plain text with no criteria at all",
    ],
)
def test_quick_description_measure_agrees_with_the_parser(description: str) -> None:
    # The history skips parsing texts that cannot hold a criteria heading; it must never give
    # another answer than the parser's own function.
    assert description_criteria_length(description) == len(acceptance_criteria_text(description))


def test_a_site_without_sprints_gives_empty_valid_tables() -> None:
    # A Kanban-only site: issues, no sprints. The tables exist (the insights read them) and
    # are empty, not an error.
    site = SprintSite().issue("K-1", "2026-03-01 10:00", points=3)
    computed = sprint_tables(site.tables(), AS_OF)
    assert computed.scope_changes.empty
    assert computed.commitments.empty
    assert computed.velocity.empty


def test_a_sprint_without_issues_counts_zeros() -> None:
    site = SprintSite().sprint(9, "Empty sprint", "closed", "2026-03-02 09:00", "2026-03-13 17:00")
    site.issue("K-1", "2026-03-01 10:00", points=3)
    computed = sprint_tables(site.tables(), AS_OF)
    row = computed.commitments.iloc[0]
    assert (row["committed_issues"], row["completed_points"]) == (0, 0.0)
    assert pd.isna(row["say_do_ratio"]) and pd.isna(row["grown_story_share"])
    assert not row["scope_creep_alert"]
    # Closed at its end date (no completeDate): a velocity of 0 and a forecast of 0.
    assert computed.velocity.iloc[0]["sprint_end"] == t("2026-03-13 17:00")
    assert computed.velocity.iloc[0]["forecast_p50_points"] == 0.0
