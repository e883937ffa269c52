"""Sprint field values (jira_insights_pipeline.parsing.sprint_field).

Cloud sends sprint objects (jirametrics' SP-13, DevLake's EE-1); Server sends `Sprint@` strings
whose goal may hold commas and whose key order differs between versions; changelog items hold
comma-separated ids with "" for none.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from jira_insights_pipeline.parsing.sprint_field import (
    SprintFieldError,
    SprintRef,
    parse_legacy_sprint,
    parse_sprint_field,
    parse_sprint_ids,
)

DATA = Path(__file__).parent / "data"


def test_cloud_sprint_objects() -> None:
    issue = json.loads((DATA / "jirametrics/SP-13.json").read_text())
    assert parse_sprint_field(issue["fields"]["customfield_10020"]) == [
        SprintRef(
            sprint_id=3,
            name="Scrum Sprint 3",
            state="active",
            board_id=2,
            start_date=pd.Timestamp("2022-04-15T00:55:17.688Z"),
            end_date=pd.Timestamp("2022-04-26T16:51:00.000Z"),
            complete_date=None,
            goal=None,
        )
    ]
    with gzip.open(DATA / "devlake_site/issues.jsonl.gz", "rt") as lines:
        ee1 = json.loads(next(lines))
    (sprint,) = parse_sprint_field(ee1["fields"]["customfield_10020"])
    assert (sprint.sprint_id, sprint.name, sprint.state, sprint.board_id) == (
        7,
        "EE Sprint 7",
        "closed",
        8,
    )
    assert sprint.complete_date == pd.Timestamp("2020-06-22T05:59:58.980Z")


def test_null_and_empty_values_mean_no_sprint() -> None:
    assert parse_sprint_field(None) == []
    assert parse_sprint_field([]) == []
    issue = json.loads((DATA / "jirametrics/SP-1.json").read_text())
    assert parse_sprint_field(issue["fields"]["customfield_10020"]) == []


def test_a_server_sprint_string_whose_goal_has_commas() -> None:
    # Built for this test in Jira Server's exact Sprint@ format; the id, name and dates are
    # those of dongjx/sprint-report's real Server sprint 6987 (local times, +08:00 assumed),
    # the goal is given commas on purpose.
    text = (
        "com.atlassian.greenhopper.service.sprint.Sprint@6f00eb7b[id=6987,rapidViewId=3,"
        "state=CLOSED,name=ACW Sprint 99,goal=reCAPTCHA, HK SEO, KR OCB,"
        "startDate=2020-02-14T12:19:00.000+08:00,endDate=2020-02-28T12:19:00.000+08:00,"
        "completeDate=2020-02-28T11:09:00.000+08:00,sequence=6987]"
    )
    assert parse_sprint_field([text]) == [
        SprintRef(
            sprint_id=6987,
            name="ACW Sprint 99",
            state="closed",
            board_id=3,
            start_date=pd.Timestamp("2020-02-14T04:19Z"),
            end_date=pd.Timestamp("2020-02-28T04:19Z"),
            complete_date=pd.Timestamp("2020-02-28T03:09Z"),
            goal="reCAPTCHA, HK SEO, KR OCB",
        )
    ]


def test_a_server_string_in_alphabetical_key_order_with_nulls() -> None:
    # The alphabetical order and <null> of Jira Server 7.x (as quoted in public clients).
    text = (
        "com.atlassian.greenhopper.service.sprint.Sprint@428da144[completeDate=<null>,"
        "endDate=2020-05-10T12:57:00.000Z,goal=,id=3,name=Релиз 1, часть 2,rapidViewId=4,"
        "sequence=3,startDate=2020-04-26T12:57:31.205Z,state=ACTIVE]"
    )
    sprint = parse_legacy_sprint(text)
    assert sprint == SprintRef(
        sprint_id=3,
        name="Релиз 1, часть 2",
        state="active",
        board_id=4,
        start_date=pd.Timestamp("2020-04-26T12:57:31.205Z"),
        end_date=pd.Timestamp("2020-05-10T12:57:00Z"),
        complete_date=None,
        goal=None,
    )


def test_unreadable_values_are_refused_with_the_value_shown() -> None:
    with pytest.raises(SprintFieldError, match="not a Sprint@ string"):
        parse_sprint_field(["Sprint 7"])
    with pytest.raises(SprintFieldError, match="has no id"):
        parse_legacy_sprint("com.atlassian.greenhopper.service.sprint.Sprint@1[name=x]")
    with pytest.raises(SprintFieldError, match="Unexpected Sprint field entry 42"):
        parse_sprint_field([42])


def test_changelog_sprint_ids() -> None:
    sp13 = json.loads((DATA / "jirametrics/SP-13.json").read_text())
    (item,) = [
        item
        for history in sp13["changelog"]["histories"]
        for item in history["items"]
        if item["field"] == "Sprint"
    ]
    assert (item["from"], item["to"]) == ("", "3")
    assert parse_sprint_ids(item["from"]) == []
    assert parse_sprint_ids(item["to"]) == [3]
    assert parse_sprint_ids(None) == []
    assert parse_sprint_ids("7, 9") == [7, 9]
    with pytest.raises(SprintFieldError, match="comma-separated"):
        parse_sprint_ids("Sprint 7")
