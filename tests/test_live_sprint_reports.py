"""Jira's own sprint reports, read back from real saved responses (a Jira Cloud one and a Jira
Server one, tests/data/live_sprint_reports): the committed, added and completed figures summed
from the report's issue lists, the report's quirks (`{"text": "null"}` sums, Server dates in the
user's time zone, `allIssuesEstimateSum` counting added issues twice), and the comparison with
the pipeline's own figures."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
from fake_jira.helpers import SPRINT_REPORTS

from jira_insights_pipeline.live import compare_sprint_reports, load_sprint_reports

REPORTS_SNAPSHOT = SPRINT_REPORTS.parent


def test_one_row_per_sprint_with_the_board_from_the_file_name() -> None:
    figures = load_sprint_reports(REPORTS_SNAPSHOT)
    assert figures["sprint_id"].tolist() == [1, 6987]
    assert figures["board_id"].tolist() == [1, pd.NA]
    assert figures["sprint_name"].tolist() == ["POW Sprint 1", "ACW Sprint 99"]
    assert figures["sprint_state"].tolist() == ["closed", "closed"]
    assert figures["estimate_field"].tolist() == ["customfield_10030", "customfield_10403"]


def test_cloud_report_re_estimate_and_added_issue() -> None:
    cloud = load_sprint_reports(REPORTS_SNAPSHOT).set_index("sprint_id").loc[1]
    # POW-1 entered at 5 and was completed at 8; POW-2 (2 points) was added during the sprint.
    assert cloud["committed_points"] == 5.0
    assert cloud["added_points"] == 2.0
    assert cloud["completed_points"] == 8.0
    assert cloud["completed_initial_points"] == 5.0
    assert cloud["not_completed_points"] == 2.0
    assert (cloud["committed_issue_count"], cloud["added_issue_count"]) == (1, 1)
    # Empty lists come back as {"text": "null"}: no number, not zero.
    assert math.isnan(cloud["jira_punted_sum"])
    assert math.isnan(cloud["jira_completed_in_another_sprint_sum"])
    assert cloud["start_date"] == pd.Timestamp("2022-07-28T07:49:36Z")
    assert cloud["complete_date"] == pd.Timestamp("2022-07-28T07:50:49Z")


def test_server_report_sums_agree_with_jiras_own() -> None:
    server = load_sprint_reports(REPORTS_SNAPSHOT).set_index("sprint_id").loc[6987]
    assert server["completed_points"] == server["jira_completed_sum"] == 183.0
    assert server["completed_initial_points"] == server["jira_completed_initial_sum"] == 174.0
    assert server["not_completed_points"] == server["jira_not_completed_sum"] == 43.0
    assert server["punted_points"] == server["jira_punted_sum"] == 25.0
    assert (server["committed_issue_count"], server["added_issue_count"]) == (59, 25)
    assert (server["committed_points"], server["added_points"]) == (206.0, 47.0)
    assert server["completed_in_another_sprint_count"] == 3


def test_all_issues_sum_counts_added_issues_twice_so_it_is_not_used() -> None:
    for row in load_sprint_reports(REPORTS_SNAPSHOT).itertuples():
        current_total = (
            row.completed_points
            + row.not_completed_points
            + row.punted_points
            + (
                0.0
                if math.isnan(row.jira_completed_in_another_sprint_sum)
                else row.jira_completed_in_another_sprint_sum
            )
        )
        assert row.jira_all_issues_sum > current_total
        assert row.committed_points + row.added_points != row.jira_all_issues_sum


def test_server_dates_are_read_in_the_users_time_zone(tmp_path: Path) -> None:
    (tmp_path / "sprint_reports").mkdir()
    shutil.copy(SPRINT_REPORTS / "6987.json", tmp_path / "sprint_reports" / "6987.json")
    (tmp_path / "meta.json").write_text(
        json.dumps(
            {
                "site": "https://jira.example.com",
                "exported_at": "2020-03-01T00:00:00+00:00",
                "live_user_time_zone": "Asia/Shanghai",
            }
        )
    )
    row = load_sprint_reports(tmp_path).iloc[0]
    # "14/Feb/20 12:19 PM" in Shanghai (UTC+8).
    assert row["start_date"] == pd.Timestamp("2020-02-14T04:19:00Z")
    assert row["complete_date"] == pd.Timestamp("2020-02-28T03:09:00Z")


def test_comparison_with_our_figures() -> None:
    jira = load_sprint_reports(REPORTS_SNAPSHOT)
    ours = pd.DataFrame(
        {"sprint_id": [1, 6987, 42], "commitment": [5.0, 200.0, 1.0], "done": [8.0, 183.0, 1.0]}
    )
    compared = compare_sprint_reports(
        jira, ours, committed_column="commitment", completed_column="done"
    )
    assert compared[["sprint_id", "figure", "jira_value", "our_value", "agrees"]].to_dict(
        "records"
    ) == [
        {
            "sprint_id": 1,
            "figure": "committed_points",
            "jira_value": 5.0,
            "our_value": 5.0,
            "agrees": True,
        },
        {
            "sprint_id": 1,
            "figure": "completed_points",
            "jira_value": 8.0,
            "our_value": 8.0,
            "agrees": True,
        },
        {
            "sprint_id": 6987,
            "figure": "committed_points",
            "jira_value": 206.0,
            "our_value": 200.0,
            "agrees": False,
        },
        {
            "sprint_id": 6987,
            "figure": "completed_points",
            "jira_value": 183.0,
            "our_value": 183.0,
            "agrees": True,
        },
    ]
    assert compared.loc[2, "difference"] == -6.0
