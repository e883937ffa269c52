"""The Jira client against the fake Jira: which endpoints it calls with which parameters, how
it follows Jira's three paging styles (search/jql tokens, startAt, Agile `values`), and how it
stops - with an error, never a loop - when paging goes wrong. Also the errors a user sees for a
removed endpoint (410), a bad JQL (400, Jira's own messages, in any language) and an anonymous
answer to /myself."""

from __future__ import annotations

import pytest
from fake_jira import FakeJira, Fault
from fake_jira.helpers import IMPROVINGFLOW, settings_for

from jira_insights_pipeline.live.client import JiraClient
from jira_insights_pipeline.live.errors import (
    EndpointGoneError,
    JiraAuthError,
    JiraNotFoundError,
    JiraQueryError,
    PaginationError,
)
from jira_insights_pipeline.live.transports import HttpTransport
from jira_insights_pipeline.snapshot import load_snapshot

ALL_KEYS = [issue["key"] for issue in load_snapshot(IMPROVINGFLOW).iter_issues()]

pytest_plugins = ["fake_jira.fixtures"]


def client_for(fake: FakeJira, kind: str = "cloud", page_size: int = 4) -> JiraClient:
    settings = settings_for(fake, kind, page_size=page_size)
    transport = HttpTransport.from_settings(settings, sleep=lambda seconds: None)
    deployment = "cloud" if kind == "cloud" else "server"
    return JiraClient(transport, deployment=deployment, page_size=page_size)


def test_search_jql_pages_with_next_page_token_until_is_last(fake_jira: FakeJira) -> None:
    client = client_for(fake_jira, page_size=3)
    keys = [issue["key"] for issue in client.search("project = SP ORDER BY key ASC")]
    assert keys == ALL_KEYS
    calls = fake_jira.requests_to(r"/search/jql$")
    assert len(calls) == 4  # 10 issues, 3 a page
    assert "nextPageToken" not in calls[0].query
    assert all(call.query["nextPageToken"] for call in calls[1:])
    assert {call.query["fields"] for call in calls} == {"*all"}
    assert {call.query["expand"] for call in calls} == {"changelog"}
    assert {call.query["maxResults"] for call in calls} == {"3"}


def test_search_follows_a_silently_capped_max_results(fake_jira: FakeJira) -> None:
    fake_jira.search_max_results = 2  # asked for 100, Jira sends 2 a page
    client = client_for(fake_jira, page_size=100)
    keys = [issue["key"] for issue in client.search("project = SP")]
    assert keys == ALL_KEYS
    assert len(fake_jira.requests_to(r"/search/jql$")) == 5


def test_server_search_pages_with_start_at_and_a_capped_page(fake_server_jira: FakeJira) -> None:
    fake_server_jira.search_max_results = 3
    client = client_for(fake_server_jira, "server", page_size=50)
    keys = [issue["key"] for issue in client.search("project = SP ORDER BY key ASC")]
    assert keys == ALL_KEYS
    starts = [call.query["startAt"] for call in fake_server_jira.requests_to(r"/2/search$")]
    assert starts == ["0", "3", "6", "9"]


def test_cut_changelogs_are_completed_from_the_changelog_endpoint(fake_jira: FakeJira) -> None:
    fake_jira.embedded_changelog_limit = 2
    fake_jira.agile_max_results = 2  # changelog pages of 4 (the fake allows twice this)
    client = client_for(fake_jira)
    issues = {issue["key"]: issue for issue in client.search("project = SP")}
    served = {issue["key"]: issue for issue in load_snapshot(IMPROVINGFLOW).iter_issues()}
    for key, issue in issues.items():
        assert issue["changelog"]["histories"] == served[key]["changelog"]["histories"], key
        assert issue["changelog"]["total"] == len(served[key]["changelog"]["histories"])
    cut = [key for key, issue in served.items() if len(issue["changelog"]["histories"]) > 2]
    assert client.changelogs_completed == len(cut) == 8
    sp10_pages = fake_jira.requests_to(r"/issue/SP-10/changelog$")
    assert [call.query["startAt"] for call in sp10_pages] == ["0", "4", "8"]  # 11 histories


def test_a_repeated_page_token_stops_with_an_error(fake_jira: FakeJira) -> None:
    fake_jira.repeat_page_token = True
    client = client_for(fake_jira, page_size=3)
    with pytest.raises(PaginationError, match="a second time"):
        list(client.search("project = SP"))
    assert len(fake_jira.requests_to(r"/search/jql$")) == 2


@pytest.mark.parametrize("never_last", ["empty", "repeat"])
def test_an_is_last_that_never_comes_stops_with_an_error(
    fake_jira: FakeJira, never_last: str
) -> None:
    fake_jira.never_last = never_last  # type: ignore[assignment]
    client = client_for(fake_jira, page_size=5)
    with pytest.raises(PaginationError, match=r"isLast|not the last"):
        list(client.search("project = SP"))
    assert len(fake_jira.requests_to(r"/search/jql$")) <= 4


def test_agile_paging_that_never_ends_stops_with_an_error(fake_jira: FakeJira) -> None:
    fake_jira.never_last = "empty"
    client = client_for(fake_jira)
    with pytest.raises(PaginationError, match="empty but Jira says more follow"):
        client.boards()


def test_boards_by_project_by_id_and_all(fake_jira: FakeJira) -> None:
    fake_jira.agile_max_results = 1  # one board a page
    client = client_for(fake_jira)
    assert [b["id"] for b in client.boards()] == [1, 2]
    assert [b["id"] for b in client.boards(project_keys=("SP",))] == [1, 2]
    assert client.boards(project_keys=("NOPE",)) == []
    assert [b["name"] for b in client.boards(board_ids=(2,))] == ["SP Scrum board"]
    assert client.board_sprints(1) == []  # kanban: Jira answers 400, no sprints
    assert [s["name"] for s in client.board_sprints(2)] == ["Scrum Sprint 3"]
    config = client.board_configuration(2)
    assert config is not None and config["estimation"]["field"]["fieldId"] == "customfield_10036"


def test_myself_tells_cloud_from_server_and_reads_the_time_zone(
    fake_jira: FakeJira, fake_server_jira: FakeJira
) -> None:
    fake_server_jira.user_time_zone = "Europe/Berlin"
    cloud = client_for(fake_jira).myself()
    server = client_for(fake_server_jira, "server").myself()
    assert (cloud.deployment, cloud.display_name, cloud.time_zone) == (
        "cloud",
        "Mike Bowler",
        "UTC",
    )
    assert (server.deployment, server.account, server.time_zone) == (
        "server",
        "mbowler",
        "Europe/Berlin",
    )


def test_an_anonymous_answer_to_myself_is_an_auth_error(fake_jira: FakeJira) -> None:
    fake_jira.add_fault(Fault(r"/myself$", status=200, body={"self": "x", "active": False}))
    with pytest.raises(JiraAuthError, match="anonymous"):
        client_for(fake_jira).myself()


def test_the_old_search_on_cloud_is_410_gone_naming_the_endpoint(fake_jira: FakeJira) -> None:
    client = client_for(fake_jira)
    client.deployment = "server"  # a Cloud site wrongly configured as Server
    with pytest.raises(EndpointGoneError) as caught:
        list(client.search("project = SP"))
    message = str(caught.value)
    assert "GET /rest/api/2/search" in message
    assert "410 Gone" in message
    assert "/rest/api/3/search/jql" in message


def test_a_bad_jql_shows_jiras_own_message(fake_jira: FakeJira) -> None:
    client = client_for(fake_jira)
    with pytest.raises(JiraQueryError) as caught:
        list(client.search("projekt = SP"))
    assert caught.value.jira_messages == (
        "Field 'projekt' does not exist or you do not have permission to view it.",
    )
    assert "projekt = SP" in str(caught.value)
    assert "JIRA_JQL" in str(caught.value)


@pytest.mark.parametrize(
    "jira_message",
    [
        "Das Feld 'projekt' existiert nicht oder Sie haben keine Berechtigung, es anzuzeigen.",
        "字段“项目”不存在，或者您没有查看该字段的权限。",
    ],
)
def test_localized_jira_errors_pass_through_intact(fake_jira: FakeJira, jira_message: str) -> None:
    fake_jira.add_fault(
        Fault(r"/search/jql$", status=400, body={"errorMessages": [jira_message], "errors": {}})
    )
    with pytest.raises(JiraQueryError) as caught:
        list(client_for(fake_jira).search("project = SP"))
    assert caught.value.jira_messages == (jira_message,)
    assert jira_message in str(caught.value)


def test_server_without_a_changelog_endpoint_reads_the_issue_instead(
    fake_server_jira: FakeJira,
) -> None:
    fake_server_jira.cut_server_changelogs = True
    fake_server_jira.embedded_changelog_limit = 2
    client = client_for(fake_server_jira, "server", page_size=50)
    issues = {issue["key"]: issue for issue in client.search("project = SP")}
    served = {issue["key"]: issue for issue in load_snapshot(IMPROVINGFLOW).iter_issues()}
    assert {k: i["changelog"]["histories"] for k, i in issues.items()} == {
        k: i["changelog"]["histories"] for k, i in served.items()
    }
    assert fake_server_jira.requests_to(r"/issue/SP-10/changelog$")  # tried, 404
    assert fake_server_jira.requests_to(r"/rest/api/2/issue/SP-10$")  # then the issue


def test_a_board_id_that_does_not_exist_is_named(fake_jira: FakeJira) -> None:
    with pytest.raises(JiraNotFoundError, match=r"Board 99 \(from JIRA_BOARD_IDS\)"):
        client_for(fake_jira).boards(board_ids=(1, 99))
