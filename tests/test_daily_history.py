"""The daily history: the hygiene score and work item health kept one partition per day.

Each partition is the figure as of that day's end, replayed from the changelog of one snapshot,
so a backfill fills the history from the snapshot the last run fetched. What this covers, and
why it matters to a Scrum Master reading the trend:
- which instant each day is figured at, and that days after the snapshot get no invented rows;
- a 30-day backfill of the bundled sample gives 30 days per board whose last day equals today's
  `hygiene_scores`, and the page's hygiene chart plots one point per day;
- a past day's figures agree with a recount by plain Python over the sample's Jira JSON (issues
  created by then and not done then, replayed status by status), not with our own functions;
- the warehouse keeps partitions: a later backfill of other days adds to the history instead of
  replacing it, and re-running a day replaces only that day.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from automation_runs import materialize
from test_sample_generator import Site, parse_time, read_site

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.partitions import history_days, last_days
from jira_insights_pipeline.sample import SITE_DIR

HISTORY = "key:work_item_health_history or key:hygiene_history or key:insights_report"
FIRST_DAY, LAST_DAY = "2026-10-22", "2026-11-20"  # the sample's last 30 days; it is as of 11-20


def test_a_day_is_figured_at_its_last_instant_or_at_the_snapshot() -> None:
    snapshot = pd.Timestamp("2026-11-20T09:00:00Z")
    days = history_days(["2026-11-21", "2026-11-19", "2026-11-20"], snapshot)
    assert [day.date for day in days] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert days[0].as_of == pd.Timestamp("2026-11-19T23:59:59.999999Z")
    assert days[1].as_of == snapshot  # the snapshot's own day: as far as it is known
    assert days[2].as_of is None  # begins after the snapshot: nothing is known about it


def test_the_last_days_end_on_the_given_day() -> None:
    assert last_days(datetime(2026, 11, 20).date(), 30) == (FIRST_DAY, LAST_DAY)
    assert last_days(datetime(2026, 3, 1).date(), 2) == ("2026-02-28", "2026-03-01")
    with pytest.raises(ValueError, match="at least one day"):
        last_days(datetime(2026, 3, 1).date(), 0)


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site after a full run and a 30-day backfill of the history, as `make demo`
    leaves it."""
    data_dir = tmp_path_factory.mktemp("history") / "data"
    with dg.instance_for_test() as instance:
        assert materialize(instance, data_dir).success
        assert materialize(
            instance, data_dir, selection=HISTORY, partition_range=(FIRST_DAY, LAST_DAY)
        ).success
    return data_dir


def _query(data_dir: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(DataFolder(data_dir).warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchdf()


def test_a_30_day_backfill_gives_30_days_per_board_ending_on_todays_figure(
    backfilled: Path,
) -> None:
    days = _query(
        backfilled,
        "select board_id, count(*) as days, count(distinct date) as distinct_days, "
        "min(date) as first, max(date) as last from metrics.hygiene_history group by 1 order by 1",
    )
    assert days["board_id"].tolist() == [1, 2, 3, 4]
    assert days["days"].tolist() == [30] * 4 and days["distinct_days"].tolist() == [30] * 4
    assert set(days["first"]) == {FIRST_DAY} and set(days["last"]) == {LAST_DAY}
    latest = _query(
        backfilled,
        "select h.board_id, h.hygiene_score as day_score, s.hygiene_score as today, "
        "h.open_issues as day_open, s.open_issues as today_open "
        f"from metrics.hygiene_history h join metrics.hygiene_scores s using (board_id) "
        f"where h.date = '{LAST_DAY}' order by 1",
    )
    assert latest["day_score"].tolist() == latest["today"].tolist()
    assert latest["day_open"].tolist() == latest["today_open"].tolist()
    # PLANTED.md: PAY (board 3) scores 58.1 on the sample's day.
    assert round(float(latest.loc[latest["board_id"] == 3, "day_score"].iloc[0]), 1) == 58.1


def test_the_page_plots_one_hygiene_point_per_day(backfilled: Path) -> None:
    page = DataFolder(backfilled).report.read_text(encoding="utf-8")
    for board_id in (1, 2, 3, 4):
        marks = set(re.findall(rf"hygiene-{board_id}-mark-\d+", page))
        assert len(marks) == 30, board_id


def _recount(site: Site, project_key: str, day: str) -> dict[str, int]:
    """Open issues of a board at the end of `day`, and those in progress for more than 10 days
    then, from the Jira JSON alone: created by then, status replayed from the changelog."""
    end = parse_time(f"{day}T00:00:00.000+0000") + timedelta(days=1) - timedelta(microseconds=1)
    categories = site.categories
    open_count = long_in_progress = 0
    for issue in site.board_issues(project_key):
        if issue.created > end:
            continue
        category = categories[issue.status_at(end)]
        if category == "done":
            continue
        open_count += 1
        if category == "indeterminate":
            entered = [t for t in issue.entered("indeterminate", categories) if t <= end]
            since = entered[-1] if entered else issue.created
            long_in_progress += end - since > timedelta(days=10)
    return {"open_issues": open_count, "in_progress_too_long_issues": long_in_progress}


@pytest.mark.parametrize("day", ["2026-10-25", "2026-11-08"])
def test_a_past_day_agrees_with_a_recount_from_the_jira_json(backfilled: Path, day: str) -> None:
    site = read_site(SITE_DIR)
    history = _query(
        backfilled,
        "select board_id, open_issues, in_progress_too_long_issues from metrics.hygiene_history "
        f"where date = '{day}'",
    ).set_index("board_id")
    for board in site.boards:
        expected = _recount(site, board["location"]["projectKey"], day)
        row = history.loc[board["id"]]
        assert {name: int(row[name]) for name in expected} == expected, (board["name"], day)


def test_later_backfills_add_days_and_replace_only_their_own(
    backfilled: Path, tmp_path: Path
) -> None:
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(backfilled, data_dir)
    before = _query(data_dir, "select * from metrics.hygiene_history order by date, board_id")
    with dg.instance_for_test() as instance:
        # One day earlier, one known day again, and a day after the snapshot (no figure).
        for first, last in [("2026-10-21", "2026-10-21"), ("2026-11-19", "2026-11-21")]:
            result = materialize(
                instance, data_dir, selection=HISTORY, partition_range=(first, last)
            )
            assert result.success
    after = _query(data_dir, "select * from metrics.hygiene_history order by date, board_id")
    assert after.groupby("board_id").size().tolist() == [31] * 4
    assert after["date"].min() == "2026-10-21" and after["date"].max() == LAST_DAY
    kept = after.loc[after["date"] >= FIRST_DAY].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before, check_dtype=False)


def test_days_a_snapshot_cannot_know_keep_what_was_stored(backfilled: Path, tmp_path: Path) -> None:
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(backfilled, data_dir)
    before = _query(data_dir, "select * from metrics.hygiene_history order by date, board_id")
    # As of noon on 11-10, the days 11-11 and 11-12 begin after what the run may know.
    as_of = {
        "resources": {
            "pipeline_settings": {
                "config": {"data_dir": str(data_dir), "as_of": "2026-11-10T12:00:00+00:00"}
            }
        }
    }
    with dg.instance_for_test() as instance:
        result = materialize(
            instance,
            data_dir,
            selection=HISTORY,
            partition_range=("2026-11-09", "2026-11-12"),
            run_config=as_of,
        )
        assert result.success
        # And days that all begin after the snapshot: the run figures none and keeps all.
        assert materialize(
            instance, data_dir, selection=HISTORY, partition_range=("2026-11-24", "2026-11-25")
        ).success
    after = _query(data_dir, "select * from metrics.hygiene_history order by date, board_id")
    assert len(after) == len(before)
    unknown = ["2026-11-11", "2026-11-12"]
    pd.testing.assert_frame_equal(
        after.loc[after["date"].isin(unknown)].reset_index(drop=True),
        before.loc[before["date"].isin(unknown)].reset_index(drop=True),
    )
    noon = after.loc[after["date"] == "2026-11-10", "as_of"]
    assert set(pd.to_datetime(noon, utc=True)) == {pd.Timestamp("2026-11-10T12:00:00Z")}
