"""Jira instants to UTC (jira_insights_pipeline.parsing.timestamps).

Real sites write instants with `+0800` (no colon), `Z` and `-04:00` offsets, and the old sprint
report writes local times like `28/Jul/22 7:49 AM`. Every expected value here comes from a real
file: DevLake's own UTC extraction, or the same instant written twice by Jira.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from jira_insights_pipeline.parsing.timestamps import (
    TimestampError,
    parse_jira_instant,
    parse_jira_instants,
    parse_sprint_report_date,
)

DATA = Path(__file__).parent / "data"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_offset_without_colon_matches_devlakes_utc_extraction() -> None:
    raw = _csv_rows(DATA / "devlake_issue_changelogs/_raw_jira_api_issue_changelogs.csv")
    expected = {
        row["changelog_id"]: pd.Timestamp(row["created"])
        for row in _csv_rows(DATA / "devlake_issue_changelogs/_tool_jira_issue_changelogs.csv")
    }
    histories = [json.loads(row["data"]) for row in raw]
    assert histories[0]["created"] == "2021-01-25T11:09:27.985+0800"
    parsed = parse_jira_instants([h["created"] for h in histories])
    compared = 0
    for history, instant in zip(histories, parsed, strict=True):
        if history["id"] in expected:
            assert instant == expected[history["id"]]
            compared += 1
    assert compared == 4
    assert parsed[0] == pd.Timestamp("2021-01-25T03:09:27.985Z")
    assert parse_jira_instant(histories[0]["created"]) == parsed[0]


def test_z_and_colon_offsets_from_the_agile_api() -> None:
    lesstif = json.loads((DATA / "sprint_reports/sprint_780.json").read_text())
    assert lesstif["startDate"] == "2018-08-06T11:04:04.515-04:00"
    assert parse_jira_instant(lesstif["startDate"]) == pd.Timestamp("2018-08-06T15:04:04.515Z")
    board = json.loads((DATA / "sprint_reports/board1_sprint.json").read_text())
    starts = parse_jira_instants([s["startDate"] for s in board["values"]])
    assert str(starts.dtype) == "datetime64[ns, UTC]"
    assert starts.tolist() == [
        pd.Timestamp("2022-07-28 07:49:36.309", tz="UTC"),
        pd.Timestamp("2022-07-28 14:08:32.636", tz="UTC"),
        pd.Timestamp("2022-07-29 06:03:06.319", tz="UTC"),
    ]


def test_a_page_crossing_daylight_saving_keeps_each_offset() -> None:
    with gzip.open(DATA / "actionableagile/jira-issues-request.json.gz", "rt") as handle:
        page = json.load(handle)
    stamps = [h["created"] for i in page["issues"] for h in i["changelog"]["histories"]]
    assert {s[-5:] for s in stamps} == {"-0500", "-0400"}
    vectorised = parse_jira_instants(stamps)
    one_by_one = [parse_jira_instant(s) for s in stamps]
    assert vectorised.tolist() == one_by_one
    summer = stamps.index(next(s for s in stamps if s.endswith("-0400")))
    local = pd.Timestamp(stamps[summer][:-5])
    assert vectorised[summer] == (local + pd.Timedelta(hours=4)).tz_localize("UTC")


def test_missing_values_become_nat_and_naive_values_are_refused() -> None:
    parsed = parse_jira_instants([None, "", "2021-06-18T18:41:29.398+0000"])
    assert parsed.isna().tolist() == [True, True, False]
    assert parse_jira_instant(None) is None and parse_jira_instant("") is None
    with pytest.raises(TimestampError, match=r"issues' created: '2021-06-18T18:41:29.398'"):
        parse_jira_instants(["2021-06-18T18:41:29.398"], "issues' created")
    with pytest.raises(TimestampError, match="no UTC offset"):
        parse_jira_instant("2021-06-18T18:41:29.398")
    with pytest.raises(TimestampError):
        parse_jira_instants(["2025-03-09"])


def test_sprint_report_local_dates_match_the_iso_dates_beside_them() -> None:
    report = json.loads(
        (DATA / "sprint_reports/sprintreport_rapidViewId1_sprintId1.json").read_text()
    )
    sprint = report["sprint"]
    assert sprint["startDate"] == "28/Jul/22 7:49 AM"
    # The report's user was on UTC: its ISO twin, cut to minutes, is the same instant.
    for local, iso in (("startDate", "isoStartDate"), ("completeDate", "isoCompleteDate")):
        on_the_minute = parse_jira_instant(sprint[iso]).floor("min")
        assert parse_sprint_report_date(sprint[local]) == on_the_minute
    # The same wall-clock time read in Shanghai is 8 hours earlier in UTC.
    assert parse_sprint_report_date(sprint["startDate"], "Asia/Shanghai") == pd.Timestamp(
        "2022-07-27T23:49Z"
    )
    # A Jira Server report (dongjx/sprint-report @ 9a16ac3d, mockSprintReportData.json).
    assert parse_sprint_report_date("14/Feb/20 12:19 PM", "Europe/Berlin") == pd.Timestamp(
        "2020-02-14T11:19Z"
    )
    assert parse_sprint_report_date("None") is None
    with pytest.raises(TimestampError, match="day/month/year"):
        parse_sprint_report_date("2020-02-14 12:19")
