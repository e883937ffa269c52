"""The sprint ledger (scope changes and commitments, `assets/sprints`) and the two sprint
tables read from it, `sprint_scope_creep` (`assets/scope_creep`) and `sprint_targets`
(`assets/missed_target`), on a small hand-made history whose answers were worked out by hand: an
issue added mid-sprint and carried over, one re-estimated twice (2 -> 5 -> 8: small became
large), one moved out and back, one removed after growing, one reopened after done, one already
done when it was added (Jira's "completed outside this sprint"), a sub-task, an unestimated
story, acceptance criteria that grow in the description or in a custom field, an active sprint,
and an earlier "as of"; the scope-creep flag against its limit, the missed-target flag and the
spillover window; and the one definition of "closed as of" (`issue_history.closed_by`) and of a
board's latest closed sprint (`issue_history.latest_closed_sprints`).

These are the rules a Scrum Master reads the tables by, so each one is pinned to a number."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from metrics_sprint_site import AS_OF, SprintSite, SprintTables, build_site, sprint_tables, t

from jira_insights_pipeline.assets.missed_target.metrics import sprint_targets
from jira_insights_pipeline.assets.missed_target.schemas import SprintTargetsSchema
from jira_insights_pipeline.assets.missed_target.thresholds import MissedTargetThresholds
from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep
from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds
from jira_insights_pipeline.metrics.acceptance_history import description_criteria_length
from jira_insights_pipeline.metrics.issue_history import (
    closed_by,
    latest_closed_sprints,
    recent_sprints,
    sprint_windows,
)
from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text
from jira_insights_pipeline.registry import Thresholds


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return build_site().tables(exported_at="2026-04-01 00:00")


@pytest.fixture(scope="module")
def computed(tables: dict[str, pd.DataFrame]) -> SprintTables:
    return sprint_tables(tables, AS_OF)


@pytest.fixture(scope="module")
def scope(computed: SprintTables) -> pd.DataFrame:
    return computed.scope_changes


@pytest.fixture(scope="module")
def commitments(computed: SprintTables) -> pd.DataFrame:
    return computed.commitments


@pytest.fixture(scope="module")
def scope_creep(computed: SprintTables) -> pd.DataFrame:
    return computed.scope_creep


@pytest.fixture(scope="module")
def targets(computed: SprintTables) -> pd.DataFrame:
    return computed.targets


def sprint_row(frame: pd.DataFrame, sprint_id: int) -> pd.Series:
    found = frame.loc[frame["sprint_id"] == sprint_id]
    assert len(found) == 1, f"expected one row for sprint {sprint_id}"
    return found.iloc[0]


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


def test_closed_sprint_commitments_as_jira_counts_them(
    commitments: pd.DataFrame, scope_creep: pd.DataFrame
) -> None:
    s1 = sprint_row(commitments, 1)
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
    assert s1["sprint_state"] == "closed" and s1["sprint_end"] == t("2026-03-13 16:00")
    # The ledger decides no rule; 40% is above the 20% scope-creep limit in sprint_scope_creep.
    assert "scope_creep_alert" not in commitments.columns
    assert sprint_row(scope_creep, 1)["scope_creep_alert"]


def test_active_sprint_ends_at_as_of(commitments: pd.DataFrame, scope_creep: pd.DataFrame) -> None:
    s3 = sprint_row(commitments, 3)
    assert s3["sprint_state"] == "active" and s3["sprint_end"] == AS_OF
    assert (s3["committed_issues"], s3["committed_points"]) == (1, 3.0)
    assert (s3["added_issues"], s3["added_points"]) == (1, 2.0)
    assert (s3["completed_issues"], s3["not_completed_issues"]) == (0, 2)
    assert s3["completion_rate"] == 0.0
    assert not sprint_row(scope_creep, 3)["scope_creep_alert"]
    assert sorted(commitments["sprint_id"]) == [1, 2, 3]


def test_thresholds_come_from_settings(tables: dict[str, pd.DataFrame]) -> None:
    lenient = Thresholds(
        sprints={"growth_pct": 250.0}, scope_creep={"grown_story_share_alert": 0.5}
    )
    computed = sprint_tables(tables, AS_OF, lenient)
    s1 = sprint_row(computed.commitments, 1)
    # Only A-2 (300%) grew by more than 250%: 1 of 5, under the 50% alert.
    assert s1["grown_stories"] == 1 and s1["grown_story_share"] == pytest.approx(0.2)
    assert not sprint_row(computed.scope_creep, 1)["scope_creep_alert"]


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
    assert computed.scope_creep.empty
    assert computed.targets.empty
    assert computed.velocity.empty


def test_a_sprint_without_issues_counts_zeros() -> None:
    site = SprintSite().sprint(9, "Empty sprint", "closed", "2026-03-02 09:00", "2026-03-13 17:00")
    site.issue("K-1", "2026-03-01 10:00", points=3)
    computed = sprint_tables(site.tables(), AS_OF)
    row = computed.commitments.iloc[0]
    assert (row["committed_issues"], row["completed_points"]) == (0, 0.0)
    assert pd.isna(row["say_do_ratio"]) and pd.isna(row["grown_story_share"])
    assert not computed.scope_creep.iloc[0]["scope_creep_alert"]
    # Nothing committed, so no target to miss.
    target = computed.targets.iloc[0]
    assert pd.isna(target["completion_rate"]) and not target["missed_target"]
    # Closed at its end date (no completeDate): a velocity of 0 and a forecast of 0.
    assert computed.velocity.iloc[0]["sprint_end"] == t("2026-03-13 17:00")
    assert computed.velocity.iloc[0]["forecast_p50_points"] == 0.0


# --------------------------------------------------------------------------------------------
# sprint_scope_creep: the scope-creep rule, read from the ledger
# --------------------------------------------------------------------------------------------


def test_scope_creep_table_copies_the_ledger_and_flags_above_the_limit(
    commitments: pd.DataFrame, scope_creep: pd.DataFrame
) -> None:
    assert scope_creep["sprint_id"].tolist() == [1, 2, 3]
    s1 = sprint_row(scope_creep, 1)
    # Sprint 1: 2 of its 5 estimated committed stories grew; A-3 (5 points) was added.
    assert (s1["estimated_committed_stories"], s1["grown_stories"]) == (5, 2)
    assert s1["grown_story_share"] == pytest.approx(0.4)
    assert (s1["added_issues"], s1["added_points"]) == (1, 5.0)
    # Sprint 2 held from its start, none re-estimated; Sprint 3 A-14.
    counts = scope_creep.set_index("sprint_id")[["estimated_committed_stories", "grown_stories"]]
    assert counts.loc[2].tolist() == [4, 0] and counts.loc[3].tolist() == [1, 0]
    assert scope_creep["scope_creep_alert"].tolist() == [True, False, False]
    assert (scope_creep["as_of"] == AS_OF).all()
    shared = ["sprint_id", "sprint_state", "sprint_end", "grown_story_share", "added_points"]
    pd.testing.assert_frame_equal(scope_creep[shared], commitments[shared])


@pytest.mark.parametrize(("limit", "alerts"), [(0.2, False), (0.19, True)])
def test_scope_creep_flag_follows_its_threshold(
    tables: dict[str, pd.DataFrame], limit: float, alerts: bool
) -> None:
    # With growth_pct 250 only A-2 (300%) grew: 1 of 5 stories, a share of exactly 20%. The rule
    # is "more than" the limit: 20% is not above a 20% limit, and is above 19%.
    ledger = sprint_tables(tables, AS_OF, Thresholds(sprints={"growth_pct": 250.0})).commitments
    table = sprint_scope_creep(ledger, ScopeCreepThresholds(grown_story_share_alert=limit))
    s1 = sprint_row(table, 1)
    assert s1["grown_story_share"] == pytest.approx(0.2)
    assert bool(s1["scope_creep_alert"]) is alerts
    # Sprints 2 and 3 had no grown story: a share of 0 is never above a limit.
    assert not table.loc[table["sprint_id"] != 1, "scope_creep_alert"].any()


def test_a_sprint_without_estimated_stories_never_creeps() -> None:
    site = SprintSite().sprint(9, "Empty sprint", "closed", "2026-03-02 09:00", "2026-03-13 17:00")
    site.issue("K-1", "2026-03-01 10:00", points=None).in_sprint("K-1", 9, "2026-03-01 11:00")
    ledger = sprint_tables(site.tables(), AS_OF).commitments
    table = sprint_scope_creep(ledger, ScopeCreepThresholds(grown_story_share_alert=0.0))
    row = table.iloc[0]
    assert row["estimated_committed_stories"] == 0 and pd.isna(row["grown_story_share"])
    assert not row["scope_creep_alert"]


# --------------------------------------------------------------------------------------------
# sprint_targets: the missed-target rule and the spillover window
# --------------------------------------------------------------------------------------------


def test_sprint_targets_per_closed_sprint(targets: pd.DataFrame) -> None:
    # Only the closed Sprints 1 and 2 have a target; the active Sprint 3 is not judged yet.
    assert targets["sprint_id"].tolist() == [1, 2]
    assert (targets["sprint_state"] == "closed").all()
    s1, s2 = sprint_row(targets, 1), sprint_row(targets, 2)
    # Sprint 1: 19 completed (A-1 3, A-2 8, A-4 5, A-6 3) against 16 committed: 119%, met.
    assert (s1["committed_points"], s1["completed_points"]) == (16.0, 19.0)
    assert s1["completed_committed_points"] == 13.0
    assert s1["completion_rate"] == pytest.approx(19 / 16)
    assert (s1["spillover_issues"], s1["added_issues"]) == (1, 1)  # A-3 went on to Sprint 2
    assert (s1["window_sprints"], s1["spillover_sprints"]) == (1, 1)
    assert not s1["missed_target"]
    # Sprint 2: committed A-3 5, A-11 8, A-12 3, A-13 3 = 19; completed A-3 and A-11 = 13:
    # 68%, under the 80% target. went to no later sprint: nothing spilled over,
    # but Sprint 1 in its window did.
    assert (s2["committed_points"], s2["completed_points"]) == (19.0, 13.0)
    assert s2["completion_rate"] == pytest.approx(13 / 19)
    assert (s2["spillover_issues"], s2["added_issues"]) == (0, 0)
    assert (s2["window_sprints"], s2["spillover_sprints"]) == (2, 1)
    assert s2["missed_target"]
    assert (targets["as_of"] == AS_OF).all()


def test_sprint_targets_thresholds_come_from_their_section(commitments: pd.DataFrame) -> None:
    table = sprint_targets(
        commitments, MissedTargetThresholds(completion_rate_min=0.6, recent_sprints=1)
    )
    # 68% meets a 60% target; a window of one sprint is the sprint itself.
    assert table["missed_target"].tolist() == [False, False]
    assert table["window_sprints"].tolist() == [1, 1]
    assert table["spillover_sprints"].tolist() == [1, 0]
    # The defaults in the registry's Thresholds are the section's defaults.
    assert Thresholds().missed_target == MissedTargetThresholds()


def _ledger_rows(rows: list[tuple[int, int, str, float, float, int]]) -> pd.DataFrame:
    """sprint_commitments rows: (board, sprint id, state, committed, completed, spillover),
    sprint n of a board running two weeks from 2026-01-05 + 2n weeks."""
    records = []
    for board_id, sprint_id, state, committed, completed, spillover in rows:
        start = t("2026-01-05 09:00") + pd.Timedelta(weeks=2 * (sprint_id % 100))
        records.append(
            {
                "board_id": board_id,
                "sprint_id": sprint_id,
                "sprint_name": f"Sprint {sprint_id}",
                "sprint_state": state,
                "sprint_start": start,
                "sprint_end": start + pd.Timedelta(days=11),
                "committed_points": committed,
                "completed_points": completed,
                "completed_committed_points": min(committed, completed),
                "completion_rate": completed / committed if committed else float("nan"),
                "spillover_issues": spillover,
                "added_issues": 0,
                "as_of": AS_OF,
            }
        )
    return pd.DataFrame(records).astype({"board_id": "Int64"})


def test_spillover_window_counts_the_last_sprints_per_board() -> None:
    # Given out of order: the table follows the order each board closed its sprints.
    ledger = _ledger_rows(
        [
            (1, 103, "closed", 10, 8, 1),
            (2, 201, "closed", 10, 10, 1),
            (1, 101, "closed", 10, 9, 2),
            (1, 105, "closed", 0, 0, 0),
            (1, 106, "active", 10, 1, 0),
            (1, 102, "closed", 10, 5, 0),
            (2, 200, "closed", 10, 10, 1),
            (1, 104, "closed", 10, 7.9, 3),
        ]
    )
    table = SprintTargetsSchema.validate(sprint_targets(ledger, MissedTargetThresholds()))
    board_1 = table.loc[table["board_id"] == 1]
    assert board_1["sprint_id"].tolist() == [101, 102, 103, 104, 105]  # the active one is out
    # Spilled over: 101, 103, 104. At most the last three closed sprints are looked at.
    assert board_1["window_sprints"].tolist() == [1, 2, 3, 3, 3]
    assert board_1["spillover_sprints"].tolist() == [1, 1, 2, 2, 2]
    # 90%, 50%, exactly 80% (not under it), 79%, and nothing committed (no target).
    assert board_1["missed_target"].tolist() == [False, True, False, True, False]
    board_2 = table.loc[table["board_id"] == 2]
    assert board_2["sprint_id"].tolist() == [200, 201]
    assert board_2["window_sprints"].tolist() == [1, 2]
    assert board_2["spillover_sprints"].tolist() == [1, 2]
    assert not board_2["missed_target"].any()


# --------------------------------------------------------------------------------------------
# "Closed as of" and "latest closed": one definition each
# --------------------------------------------------------------------------------------------


def test_closed_as_of_is_one_definition(tables: dict[str, pd.DataFrame]) -> None:
    sprints = tables["jira_sprints"]

    def closed_ids(as_of: str) -> list[int]:
        return sprints.loc[closed_by(sprints, t(as_of)).to_numpy(), "sprint_id"].tolist()

    # Sprint 1 was completed at 2026-03-13 16:00 (its end date was 17:00), Sprint 2 at
    # 2026-03-27 16:00: each counts as closed from its completeDate on, not before.
    assert closed_ids("2026-03-10 00:00") == []
    assert closed_ids("2026-03-13 15:59") == []
    assert closed_ids("2026-03-13 16:00") == [1]
    assert closed_ids("2026-03-27 16:00") == [1, 2]
    assert closed_ids("2026-04-01 00:00") == [1, 2]  # Sprint 3 runs, Sprint 4 is future
    # A closed sprint without a completeDate closes at its end date.
    no_complete = sprints.assign(complete_date=pd.NaT)
    assert closed_by(no_complete, t("2026-03-13 16:59")).tolist()[:2] == [False, False]
    assert closed_by(no_complete, t("2026-03-13 17:00")).tolist()[:2] == [True, False]
    # A closed sprint with neither closes where it began: before its start it was not closed,
    # and its window ends at its start whatever "as of" is, so it never stays "latest".
    no_end = no_complete.assign(end_date=pd.NaT)
    sprint_1_start = no_end["start_date"].iloc[0]
    assert closed_by(no_end, sprint_1_start - pd.Timedelta(seconds=1)).tolist()[0] is False
    assert closed_by(no_end, sprint_1_start).tolist()[0] is True
    later = sprint_windows(no_end, t("2026-04-01 00:00")).set_index("sprint_id")
    assert later.loc[1, "sprint_end"] == later.loc[1, "sprint_start"]
    # A completeDate by "as of" closes a sprint whatever its state says now.
    reopened = sprints.assign(state=sprints["state"].where(sprints["sprint_id"] != 1, "active"))
    assert closed_by(reopened, t("2026-03-20 00:00")).tolist()[:2] == [True, False]

    # Every sprint table reads its state from that one definition: on 20 March Sprint 1 was
    # closed and Sprint 2 still running (it closed on 27 March).
    as_of = t("2026-03-20 00:00")
    windows = sprint_windows(sprints, as_of).set_index("sprint_id")["sprint_state"]
    assert windows.to_dict() == {1: "closed", 2: "active"}
    earlier = sprint_tables(tables, as_of)
    for frame in (earlier.commitments, earlier.scope_creep):
        assert frame.set_index("sprint_id")["sprint_state"].to_dict() == {1: "closed", 2: "active"}
    assert sprint_row(earlier.commitments, 2)["sprint_end"] == as_of
    assert earlier.targets["sprint_id"].tolist() == [1]
    assert earlier.velocity["sprint_id"].tolist() == [1]


def test_latest_closed_sprint_is_one_definition(
    computed: SprintTables, tables: dict[str, pd.DataFrame]
) -> None:
    # At AS_OF, Sprint 2 is the board's latest closed sprint in every sprint table, and the
    # running Sprint 3 is the other sprint the recent-sprint rules judge.
    for frame in (computed.commitments, computed.scope_creep, computed.targets):
        assert latest_closed_sprints(frame)["sprint_id"].tolist() == [2]
    assert recent_sprints(computed.scope_creep)["sprint_id"].tolist() == [2, 3]
    velocity = computed.velocity
    assert velocity.loc[velocity["latest_closed"], "sprint_id"].tolist() == [2]
    # On 20 March it was Sprint 1.
    earlier = sprint_tables(tables, t("2026-03-20 00:00"))
    assert latest_closed_sprints(earlier.commitments)["sprint_id"].tolist() == [1]
    assert recent_sprints(earlier.commitments)["sprint_id"].tolist() == [1, 2]


def test_latest_closed_ties_are_broken_by_end_then_start_then_id() -> None:
    end = t("2026-03-13 17:00")
    early, late, latest_start = t("2026-03-02 09:00"), t("2026-03-03 09:00"), t("2026-03-04 09:00")
    table = pd.DataFrame(
        {
            "board_id": pd.array([1, 1, 1, 2, 2, 2, 3, 3], dtype="Int64"),
            "sprint_id": [10, 11, 12, 21, 20, 22, 31, 30],
            "sprint_state": ["closed"] * 7 + ["active"],
            "sprint_start": [late, early, latest_start, early, early, early, early, late],
            "sprint_end": [
                end,
                end,
                end - pd.Timedelta(hours=1),
                end,
                end,
                end - pd.Timedelta(days=1),
                end,
                end + pd.Timedelta(days=7),
            ],
        }
    )
    latest = latest_closed_sprints(table)
    # Board 1: 12 started last and has the highest id but closed an hour earlier; 10 and 11
    # closed at the same instant and 10 started later. Board 2: 20 and 21 tie on end and start,
    # the higher id wins. Board 3: the running sprint ending later is not closed. Rows keep the
    # table's order.
    assert latest["sprint_id"].tolist() == [10, 21, 31]
    # A table without `sprint_state` (sprint_velocity) holds closed sprints only.
    without_state = table.drop(columns="sprint_state")
    assert latest_closed_sprints(without_state)["sprint_id"].tolist() == [10, 21, 30]
