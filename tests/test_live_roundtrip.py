"""Round trips through the REST source: scraping the fake Jira that serves a snapshot gives a
snapshot equal to the one served (issues by id with their complete changelogs, boards with
their configuration, sprints, fields, statuses), on Jira Cloud and on Server/Data Center, with
small pages and cut changelogs so every paging path is used. Also the sprint reports saved
beside the snapshot, and the ways a user narrows what is read (projects, boards, JQL)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from fake_jira import FakeJira
from fake_jira.helpers import (
    IMPROVINGFLOW,
    SPRINT_REPORTS,
    SleepRecorder,
    settings_for,
    snapshot_contents,
)

from jira_insights_pipeline.live import load_sprint_reports, scrape_to_snapshot
from jira_insights_pipeline.snapshot import load_snapshot

pytest_plugins = ["fake_jira.fixtures"]


def test_cloud_round_trip_equals_the_served_snapshot(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    fake_jira.embedded_changelog_limit = 3
    fake_jira.search_max_results = 3
    fake_jira.agile_max_results = 1
    result = scrape_to_snapshot(
        settings_for(fake_jira, page_size=5), "rest", tmp_path / "raw", sleep=sleeps
    )
    assert snapshot_contents(tmp_path / "raw") == snapshot_contents(IMPROVINGFLOW)
    assert (result.issue_count, result.board_count, result.sprint_count) == (10, 2, 1)
    assert result.field_count == 45
    longer_than_embedded = [
        issue["key"]
        for issue in load_snapshot(IMPROVINGFLOW).iter_issues()
        if len(issue["changelog"]["histories"]) > 3
    ]
    assert result.changelogs_completed == len(longer_than_embedded) == 6
    assert (result.deployment, result.signed_in_as) == ("cloud", "Mike Bowler")
    meta = load_snapshot(tmp_path / "raw").meta
    assert meta.site == fake_jira.base_url
    assert meta.extra["live_transport"] == "rest"
    assert meta.extra["live_jql"] == 'project in ("SP")'
    assert sleeps.waits == []


def test_server_round_trip_with_a_personal_access_token(
    fake_server_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    fake_server_jira.search_max_results = 4
    result = scrape_to_snapshot(
        settings_for(fake_server_jira, "server", page_size=50),
        "rest",
        tmp_path / "raw",
        sleep=sleeps,
    )
    assert snapshot_contents(tmp_path / "raw") == snapshot_contents(IMPROVINGFLOW)
    assert result.deployment == "server"
    searches = fake_server_jira.requests_to(r"/search")
    assert {call.path for call in searches} == {"/rest/api/2/search"}
    assert [call.query["startAt"] for call in searches] == ["0", "4", "8"]
    authorizations = {call.headers.get("authorization") for call in fake_server_jira.requests}
    assert authorizations == {f"Bearer {fake_server_jira.pat}"}


def test_jira_sprint_reports_are_saved_beside_the_snapshot(
    fake_jira: FakeJira, served_snapshot: Path, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    # The scrum board's sprint 3 gets a real report (from another site: its issues are not
    # in this snapshot, which the scrape must point out).
    (served_snapshot / "sprint_reports").mkdir()
    shutil.copy(
        SPRINT_REPORTS / "board_1_sprint_1.json",
        served_snapshot / "sprint_reports" / "board_2_sprint_3.json",
    )
    result = scrape_to_snapshot(settings_for(fake_jira), "rest", tmp_path / "raw", sleep=sleeps)
    saved = tmp_path / "raw" / "sprint_reports" / "board_2_sprint_3.json"
    assert json.loads(saved.read_text()) == json.loads(
        (SPRINT_REPORTS / "board_1_sprint_1.json").read_text()
    )
    assert result.sprint_report_count == 1
    assert len(result.sprint_report_discrepancies) == 1
    assert "POW-1, POW-2" in result.sprint_report_discrepancies[0]
    assert result.sprint_report_discrepancies[0].startswith("Sprint 3 (Scrum Sprint 3)")
    calls = fake_jira.requests_to(r"/sprintreport$")
    assert [(c.query["rapidViewId"], c.query["sprintId"]) for c in calls] == [("2", "3")]

    figures = load_sprint_reports(tmp_path / "raw")
    assert figures[["sprint_id", "board_id", "committed_points", "completed_points"]].to_dict(
        "records"
    ) == [{"sprint_id": 1, "board_id": 2, "committed_points": 5.0, "completed_points": 8.0}]


def test_an_incremental_run_keeps_closed_sprint_reports(
    fake_jira: FakeJira, served_snapshot: Path, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    (served_snapshot / "sprint_reports").mkdir()
    shutil.copy(
        SPRINT_REPORTS / "board_1_sprint_1.json",
        served_snapshot / "sprint_reports" / "board_2_sprint_3.json",
    )
    fake_jira.sprints[0]["state"] = "closed"
    stored = tmp_path / "raw"
    scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    fake_jira.sprint_reports_answered = False  # a later run could not fetch it again
    result = scrape_to_snapshot(
        settings_for(fake_jira), "rest", stored, previous=stored, full_refresh=False, sleep=sleeps
    )
    assert result.incremental
    assert result.sprint_report_count == 1
    assert len(fake_jira.requests_to(r"/sprintreport$")) == 1  # the first run only
    assert (stored / "sprint_reports" / "board_2_sprint_3.json").is_file()


def test_a_site_without_sprint_reports_is_fine(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    result = scrape_to_snapshot(settings_for(fake_jira), "rest", tmp_path / "raw", sleep=sleeps)
    assert result.sprint_report_count == 0
    assert not (tmp_path / "raw" / "sprint_reports").exists()
    assert load_sprint_reports(tmp_path / "raw").empty
    assert isinstance(load_sprint_reports(tmp_path / "raw"), pd.DataFrame)


def test_boards_and_jql_narrow_what_is_read(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    by_board = scrape_to_snapshot(
        settings_for(fake_jira, board_ids=(2,)), "rest", tmp_path / "board", sleep=sleeps
    )
    assert [board["id"] for board in load_snapshot(tmp_path / "board").boards] == [2]
    assert by_board.jql == 'project in ("SP") ORDER BY key ASC'
    assert fake_jira.requests_to(r"/agile/1.0/board$") == []  # asked by id, not listed

    by_jql = scrape_to_snapshot(
        settings_for(fake_jira, jql="key in (SP-13, SP-14, SP-15) ORDER BY key DESC"),
        "rest",
        tmp_path / "jql",
        sleep=sleeps,
    )
    keys = [issue["key"] for issue in load_snapshot(tmp_path / "jql").iter_issues()]
    assert keys == ["SP-15", "SP-14", "SP-13"]
    assert by_jql.issue_count == 3

    by_project = scrape_to_snapshot(
        settings_for(fake_jira, projects=("SP",)), "rest", tmp_path / "project", sleep=sleeps
    )
    assert by_project.board_count == 2
    assert fake_jira.requests_to(r"/agile/1.0/board$")[-1].query["projectKeyOrId"] == "SP"


def test_the_bundled_sample_site_round_trips(sleeps: SleepRecorder, tmp_path: Path) -> None:
    from jira_insights_pipeline.sample import SITE_DIR

    with FakeJira(SITE_DIR, embedded_changelog_limit=8) as fake:
        result = scrape_to_snapshot(
            settings_for(fake, page_size=100), "rest", tmp_path / "raw", sleep=sleeps
        )
    assert snapshot_contents(tmp_path / "raw") == snapshot_contents(SITE_DIR)
    served = load_snapshot(SITE_DIR)
    assert result.issue_count == sum(1 for _ in served.iter_issues())
    assert (result.board_count, result.sprint_count) == (len(served.boards), len(served.sprints))
    assert result.changelogs_completed > 0
