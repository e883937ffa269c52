"""Incremental refresh: the JQL it sends (the watermark minus the overlap, to the minute, in the
user's own time zone), the merge into the stored snapshot by issue id and `updated`, when it
falls back to reading everything, what only a full refresh catches (deletions), and that a
failed incremental run leaves the stored snapshot as it was."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_jira import FakeJira, Fault
from fake_jira.helpers import IMPROVINGFLOW, SleepRecorder, folder_digest, settings_for

from jira_insights_pipeline.live import scrape as scrape_module
from jira_insights_pipeline.live import scrape_to_snapshot
from jira_insights_pipeline.live.errors import JiraRateLimitedError
from jira_insights_pipeline.live.incremental import (
    WATERMARK_KEY,
    full_jql,
    jql_date,
    merge_issues,
    parse_jira_instant,
    split_order_by,
    updated_ms,
    updated_since_jql,
)
from jira_insights_pipeline.snapshot import IssueBlock, IssueLine, load_snapshot, write_snapshot

pytest_plugins = ["fake_jira.fixtures"]

# The latest `updated` in the test snapshot: SP-15, 2022-05-07T17:28:40.874+0000.
LATEST_MS = 1651944520874


def stored_issues(path: Path) -> dict[str, dict]:
    return {issue["key"]: issue for issue in load_snapshot(path).iter_issues()}


def test_jql_dates_are_in_the_users_time_zone_and_floored_to_the_minute() -> None:
    assert jql_date(LATEST_MS, "UTC") == "2022/05/07 17:28"
    assert jql_date(LATEST_MS, "Australia/Sydney") == "2022/05/08 03:28"
    assert jql_date(LATEST_MS, "America/Los_Angeles") == "2022/05/07 10:28"
    assert jql_date(LATEST_MS, None) == "2022/05/07 17:28"


def test_updated_since_keeps_the_users_query_and_order() -> None:
    overlap = timedelta(minutes=10)
    assert split_order_by("project = SP order by created DESC") == ("project = SP", "created DESC")
    assert (
        updated_since_jql(
            "project = SP OR labels = x ORDER BY created DESC",
            LATEST_MS,
            overlap=overlap,
            time_zone="UTC",
        )
        == '(project = SP OR labels = x) AND updated >= "2022/05/07 17:18" ORDER BY created DESC'
    )
    assert full_jql('project in ("SP")') == 'project in ("SP") ORDER BY key ASC'


def test_jira_instants_in_every_offset_form() -> None:
    expected = datetime(2021, 12, 14, 0, 30, 15, 272000, tzinfo=UTC)
    assert parse_jira_instant("2021-12-14T00:30:15.272+0000") == expected
    assert parse_jira_instant("2021-12-14T08:30:15.272+0800") == expected
    assert parse_jira_instant("2021-12-14T00:30:15.272Z") == expected


def test_merge_replaces_by_id_keeps_newer_and_appends_new() -> None:
    stored = list(load_snapshot(IMPROVINGFLOW).iter_issues())
    edited = copy.deepcopy(stored[2])
    edited["fields"]["updated"] = "2023-01-01T00:00:00.000+0000"
    stale = copy.deepcopy(stored[3])
    stale["fields"]["updated"] = "2001-01-01T00:00:00.000+0000"
    stale["fields"]["summary"] = "an older copy"
    new = copy.deepcopy(stored[0])
    new.update(id="99999", key="SP-99")
    changed = {edited["id"]: edited, stale["id"]: stale, new["id"]: new}
    merged = list(merge_issues(stored, changed))
    assert [issue["key"] for issue in merged] == [i["key"] for i in stored] + ["SP-99"]
    assert merged[2] is edited
    assert merged[3] is stored[3]  # the stored one is newer than what came back
    assert updated_ms(merged[2]) == 1672531200000


def test_merge_passes_stored_lines_through_and_decodes_only_the_changed() -> None:
    stored = list(load_snapshot(IMPROVINGFLOW).iter_issues())
    lines = list(load_snapshot(IMPROVINGFLOW).iter_issue_lines())
    edited = copy.deepcopy(stored[2])
    edited["fields"]["updated"] = "2023-01-01T00:00:00.000+0000"
    stale = copy.deepcopy(stored[3])
    stale["fields"]["updated"] = "2001-01-01T00:00:00.000+0000"
    new = copy.deepcopy(stored[0])
    new.update(id="99999", key="SP-99")
    changed = {edited["id"]: edited, stale["id"]: stale, new["id"]: new}
    merged = list(merge_issues(lines, changed))
    assert merged[2] is edited
    assert merged[-1] is new
    # Kept stored issues, the one newer than what came back among them, stay encoded as stored.
    kept = [item for index, item in enumerate(merged[:-1]) if index != 2]
    assert kept == [line for index, line in enumerate(lines) if index != 2]
    assert all(isinstance(item, IssueLine) for item in kept)


def test_an_hourly_run_reads_only_what_changed_and_merges_it(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    stored = tmp_path / "store" / "raw"
    full = scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    assert (full.incremental, full.watermark_ms, full.fetched_issue_count) == (False, LATEST_MS, 10)

    fake_jira.touch_issue(
        "SP-7", updated="2022-05-08T09:15:00.000+0000", summary="Renamed after the last run"
    )
    newcomer = copy.deepcopy(fake_jira.issue("SP-8"))
    newcomer.update(id="10099", key="SP-99")
    newcomer["fields"]["updated"] = "2022-05-08T09:20:00.000+0000"
    fake_jira.issues.append(newcomer)

    result = scrape_to_snapshot(
        settings_for(fake_jira), "rest", stored, previous=stored, full_refresh=False, sleep=sleeps
    )
    assert result.incremental
    assert result.full_refresh_reason is None
    assert result.jql == '(project in ("SP")) AND updated >= "2022/05/07 17:18" ORDER BY key ASC'
    sent = fake_jira.requests_to(r"/search/jql$")[-1].query["jql"]
    assert sent == result.jql
    # SP-15 comes back too: it was updated inside the 10-minute overlap.
    assert result.fetched_issue_count == 3
    assert result.issue_count == 11
    assert result.watermark_ms == int(datetime(2022, 5, 8, 9, 20, tzinfo=UTC).timestamp() * 1000)

    issues = stored_issues(stored)
    assert issues["SP-7"]["fields"]["summary"] == "Renamed after the last run"
    assert list(issues)[-1] == "SP-99"
    served = {issue["key"]: issue for issue in fake_jira.issues}
    assert issues == served
    meta = json.loads((stored / "meta.json").read_text())
    assert meta[WATERMARK_KEY] == result.watermark_ms
    assert meta["live_incremental"] is True
    assert (
        meta["live_last_full_refresh_at"]
        == load_snapshot(stored).meta.extra["live_last_full_refresh_at"]
    )


def test_the_watermark_is_written_in_the_users_time_zone(
    served_snapshot: Path, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    with FakeJira(served_snapshot, user_time_zone="Australia/Sydney") as fake:
        stored = tmp_path / "raw"
        scrape_to_snapshot(settings_for(fake), "rest", stored, sleep=sleeps)
        fake.touch_issue("SP-1", updated="2022-05-08T00:00:00.000+1000")  # 14:00 UTC on the 7th
        fake.touch_issue("SP-2", updated="2022-05-08T04:00:00.000+1000")
        result = scrape_to_snapshot(
            settings_for(fake), "rest", stored, previous=stored, full_refresh=False, sleep=sleeps
        )
    assert 'updated >= "2022/05/08 03:18"' in result.jql
    # Read in Sydney time, the bound is 17:18 UTC: SP-1's edit (14:00 UTC) is older.
    assert result.fetched_issue_count == 2  # SP-2 and SP-15
    assert stored_issues(stored)["SP-2"]["fields"]["updated"] == "2022-05-08T04:00:00.000+1000"


def test_only_a_full_refresh_catches_deleted_issues(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    stored = tmp_path / "raw"
    settings = settings_for(fake_jira)
    scrape_to_snapshot(settings, "rest", stored, sleep=sleeps)
    fake_jira.delete_issue("SP-2")
    scrape_to_snapshot(settings, "rest", stored, previous=stored, full_refresh=False, sleep=sleeps)
    assert "SP-2" in stored_issues(stored)
    refreshed = scrape_to_snapshot(settings, "rest", stored, previous=stored, sleep=sleeps)
    assert not refreshed.incremental
    assert "SP-2" not in stored_issues(stored)
    assert refreshed.issue_count == 9


def test_a_changed_query_or_a_foreign_snapshot_reads_everything(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    stored = tmp_path / "raw"
    scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    narrowed = settings_for(fake_jira, jql="project = SP AND status = Done")
    result = scrape_to_snapshot(
        narrowed, "rest", stored, previous=stored, full_refresh=False, sleep=sleeps
    )
    assert not result.incremental
    assert result.full_refresh_reason == "the query changed since the stored snapshot was written"
    assert result.issue_count == 4  # SP-5, SP-10, SP-13, SP-14

    from_elsewhere = scrape_to_snapshot(
        narrowed,
        "rest",
        tmp_path / "other",
        previous=IMPROVINGFLOW,
        full_refresh=False,
        sleep=sleeps,
    )
    assert not from_elsewhere.incremental
    assert "is of https://improvingflow.atlassian.net" in str(from_elsewhere.full_refresh_reason)


def test_a_failed_incremental_run_leaves_the_stored_snapshot_as_it_was(
    fake_jira: FakeJira, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    stored = tmp_path / "store" / "raw"
    scrape_to_snapshot(settings_for(fake_jira), "rest", stored, sleep=sleeps)
    before = folder_digest(stored)
    fake_jira.touch_issue("SP-7", updated="2022-05-08T09:15:00.000+0000")
    fake_jira.add_fault(Fault(r"/search/jql$", status=503, times=None))
    with pytest.raises(JiraRateLimitedError):
        scrape_to_snapshot(
            settings_for(fake_jira, max_retries=1),
            "rest",
            stored,
            previous=stored,
            full_refresh=False,
            sleep=sleeps,
        )
    assert folder_digest(stored) == before
    assert [p.name for p in stored.parent.iterdir()] == ["raw"]


def test_merge_passes_unchanged_blocks_through_and_opens_only_the_others(
    tmp_path: Path,
) -> None:
    stored = list(load_snapshot(IMPROVINGFLOW).iter_issues())
    write_snapshot(
        tmp_path / "snap",
        meta=load_snapshot(IMPROVINGFLOW).meta,
        fields=[],
        boards=[],
        sprints=[],
        issues=stored,
        issues_per_member=4,
    )
    blocks = list(load_snapshot(tmp_path / "snap").iter_issue_blocks())
    assert [len(block.ids) for block in blocks] == [4, 4, 2]
    edited = copy.deepcopy(stored[5])
    edited["fields"]["updated"] = "2023-01-01T00:00:00.000+0000"
    new = copy.deepcopy(stored[0])
    new.update(id="99999", key="SP-99")
    merged = list(merge_issues(blocks, {edited["id"]: edited, new["id"]: new}))
    assert merged[0] is blocks[0]
    assert [line.key for line in merged[1:5] if isinstance(line, IssueLine)] == [
        stored[4]["key"],
        stored[6]["key"],
        stored[7]["key"],
    ]
    assert merged[2] is edited
    assert merged[5] is blocks[2]
    assert merged[6] is new


@pytest.mark.parametrize("stored_per_member", [3, None])
def test_an_incremental_run_writes_what_a_full_run_writes_copying_unchanged_members(
    fake_jira: FakeJira,
    sleeps: SleepRecorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stored_per_member: int | None,
) -> None:
    # None: the stored snapshot is one gzip stream, as before members were written.
    monkeypatch.setattr(scrape_module, "ISSUES_PER_MEMBER", stored_per_member)
    stored = tmp_path / "raw"
    settings = settings_for(fake_jira)
    scrape_to_snapshot(settings, "rest", stored, sleep=sleeps)
    before = list(load_snapshot(stored).iter_issue_blocks())
    monkeypatch.setattr(scrape_module, "ISSUES_PER_MEMBER", 3)

    opened: list[tuple[str, ...]] = []
    lines_of = IssueBlock.lines

    def spied_lines(block: IssueBlock) -> list[IssueLine]:
        opened.append(block.keys)
        return lines_of(block)

    monkeypatch.setattr(IssueBlock, "lines", spied_lines)
    fake_jira.touch_issue("SP-7", updated="2022-05-08T09:15:00.000+0000", summary="Renamed")
    result = scrape_to_snapshot(
        settings, "rest", stored, previous=stored, full_refresh=False, sleep=sleeps
    )
    assert result.incremental
    assert result.issue_count == 10
    after = list(load_snapshot(stored).iter_issue_blocks())
    assert all(isinstance(block, IssueBlock) for block in after)
    assert [len(block.ids) for block in after] == [3, 3, 3, 1]
    if stored_per_member is not None:
        # Only the members holding SP-7 and SP-15 (which came back: it was updated inside the
        # overlap) were opened; the others were copied. Only SP-7's changed.
        assert opened == [block.keys for block in before if {"SP-7", "SP-15"} & set(block.keys)]
        assert len(opened) == 2
        unchanged = [a.member == b.member for a, b in zip(before, after, strict=True)]
        assert unchanged == ["SP-7" not in block.keys for block in after]
    assert stored_issues(stored)["SP-7"]["fields"]["summary"] == "Renamed"

    fresh = scrape_to_snapshot(settings, "rest", tmp_path / "fresh", sleep=sleeps)
    assert not fresh.incremental
    assert (stored / "issues.jsonl.gz").read_bytes() == (
        tmp_path / "fresh" / "issues.jsonl.gz"
    ).read_bytes()
