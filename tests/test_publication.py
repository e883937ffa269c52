"""Write, audit, publish: a run's outputs become current together in its last step, or not at
all (jira_insights_pipeline/publication.py).

The probes of issue #15 this covers, each on a data folder that already holds a good run: a run
whose staging fails and a run killed half way leave the raw pointer, every warehouse table, the
insight files and the report exactly as they were; a publication that died half way is finished
by the next run; a run that started earlier cannot publish over a later one's data; and two
runs started together on a new instance each stage their own snapshot. Real Dagster runs on a
real DuckDB file; the killed and concurrent runs are real `dagster` CLI processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from automation_runs import materialize, pipeline_definitions
from publishing import copy_data_folder, published_state

from jira_insights_pipeline.automation.schedules import DAILY_JOB, HOURLY_SCHEDULE
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.publication import (
    PUBLICATIONS_TABLE,
    PUBLISHING_MARKER,
    StalePublicationError,
    finish_interrupted_publications,
    publish_run,
    publish_tables,
    published_data_time,
)
from jira_insights_pipeline.raw_store import record_pointer
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import load_snapshot, write_snapshot

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_a_good_run_publishes_everything_and_leaves_no_draft(published_sample: Path) -> None:
    folder = DataFolder(published_sample)
    assert not folder.runs.exists() or not any(folder.runs.iterdir())
    with duckdb.connect(str(folder.warehouse), read_only=True) as connection:
        (published,) = connection.execute(
            f"select tables, files, raw_snapshot from {PUBLICATIONS_TABLE}"
        ).fetchall()
    pointer = json.loads(folder.raw_pointer.read_text(encoding="utf-8"))
    assert published[2] == pointer["snapshot_dir"]
    assert published[0] >= 20  # every staging, sprint and metric table
    # Six use cases' insight files, the feed, the report, the feed's copy for its day
    # (insights/history/), the report's exports (insights.csv, insights.json and one
    # Markdown summary per board of the four) and the week's digest (.md, .html, .json).
    assert published[1] == 8 + 1 + 2 + 4 + 3
    assert [path.name for path in folder.insights_history.iterdir()] == ["2026-11-20.json"]
    assert folder.report.is_file() and folder.insights_feed.is_file()
    exports = sorted(path.name for path in folder.report.parent.iterdir())
    assert exports == [
        "board-1.md",
        "board-2.md",
        "board-3.md",
        "board-4.md",
        "insights.csv",
        "insights.html",
        "insights.json",
        "weekly-2026-W47.html",
        "weekly-2026-W47.json",
        "weekly-2026-W47.md",
    ]


def test_a_run_whose_staging_fails_changes_nothing_current(
    published_sample: Path, tmp_path: Path
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    before = published_state(data_dir)
    sample = load_snapshot(SITE_DIR)
    issues = list(sample.iter_issues())
    broken = write_snapshot(
        tmp_path / "duplicated",
        meta=sample.meta,
        fields=sample.fields,
        boards=sample.boards,
        sprints=sample.sprints,
        statuses=sample.statuses,
        issues=[*issues, issues[0]],  # one issue twice: staging refuses the snapshot
    )
    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, snapshot_dir=broken, raise_on_error=False)
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    message = failure.step_failure_data.error.message
    # It names the user's snapshot folder, then the stored copy, then what is wrong.
    assert f"The snapshot from saved snapshot {broken} (stored as " in message
    assert f"issues {issues[0]['key']} appear more than once" in message
    assert published_state(data_dir) == before
    # The failed run's draft stays for a look, unpublished.
    (draft,) = DataFolder(data_dir).runs.iterdir()
    assert (draft / "raw" / "latest.json").is_file()


def _cli_env(data_dir: Path, home: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home.parent),
        "LANG": "C.UTF-8",
        "DAGSTER_HOME": str(home),
        "JIRA_INSIGHTS_DATA_DIR": str(data_dir),
        "JIRA_INSIGHTS_LLM": "off",
        "JIRA_SOURCE": "sample",
        **extra,
    }


def _new_instance(tmp_path: Path) -> Path:
    """A new instance configured as the project's own (.dagster/dagster.yaml, run monitoring
    on), its storage created first, as `make demo` and `make dev` do."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / ".dagster" / "dagster.yaml", home / "dagster.yaml")
    migrated = subprocess.run(
        [str(BIN / "dagster"), "instance", "migrate"],
        env=_cli_env(tmp_path / "unused", home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    return home


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """A `dagster` process writing its log to `log` (a file, not a pipe: nobody reads a pipe
    while the test waits, and a full one would stall the run)."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(BIN / "dagster"), *args, "-m", "jira_insights_pipeline.definitions"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the test can kill every step
        )


def test_a_killed_run_changes_nothing_current_and_does_not_block_the_hourly_refresh(
    published_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    before = published_state(data_dir)
    home = _new_instance(tmp_path)
    log = tmp_path / "run.log"
    run = _start(_cli_env(data_dir, home), log, "job", "execute", "-j", DAILY_JOB)
    folder = DataFolder(data_dir)
    deadline = time.monotonic() + 600
    # Killed as soon as the run has written its first insight file into its draft: the files
    # are new, the tables rebuilt, nothing published yet.
    while not list(folder.runs.glob("*/insights/*.json")):
        assert run.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the run wrote no insight file in 10 minutes"
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    assert published_state(data_dir) == before
    (draft,) = folder.runs.iterdir()
    assert not (draft / PUBLISHING_MARKER).exists()

    # The run database still says STARTED; the hourly tick finds the worker gone, marks the run
    # failed and refreshes instead of skipping.
    instance = dg.DagsterInstance.from_config(str(home))
    (killed,) = instance.get_run_records()
    assert killed.dagster_run.status == dg.DagsterRunStatus.STARTED
    monkeypatch.setenv("JIRA_INSIGHTS_DATA_DIR", str(data_dir))
    hourly = pipeline_definitions().resolve_schedule_def(HOURLY_SCHEDULE)
    with dg.build_schedule_context(instance=instance) as context:
        requested = hourly(context)
    assert isinstance(requested, dg.RunRequest)
    failed = instance.get_run_by_id(killed.dagster_run.run_id)
    assert failed is not None and failed.status == dg.DagsterRunStatus.FAILURE


def test_two_runs_started_together_on_a_new_instance_each_stage_their_own_snapshot(
    tmp_path: Path,
) -> None:
    home = _new_instance(tmp_path)
    data_dir = tmp_path / "data"
    small = tmp_path / "small"
    sample = load_snapshot(SITE_DIR)
    kept = [i for i in sample.iter_issues() if i["key"].startswith("PLAT-")]
    write_snapshot(
        small,
        meta=sample.meta,
        fields=sample.fields,
        boards=sample.boards,
        sprints=sample.sprints,
        statuses=sample.statuses,
        issues=kept,
    )
    # The smaller snapshot would be refused as "far fewer issues than last time" if the other
    # run published first; both are intended here.
    config = tmp_path / "config.yaml"
    config.write_text("resources:\n  snapshot_guard:\n    config:\n      min_issue_ratio: 0\n")
    selection = ("--select", "*jira_issues,publication", "-c", str(config))
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = _start(_cli_env(data_dir, home), logs[0], "asset", "materialize", *selection)
    second = _start(
        _cli_env(data_dir, home, JIRA_SOURCE="snapshot", JIRA_SNAPSHOT_DIR=str(small)),
        logs[1],
        "asset",
        "materialize",
        *selection,
    )
    for run in (first, second):
        run.wait(timeout=900)
    outputs = "".join(log.read_text() for log in logs)
    assert "table runs already exists" not in outputs

    instance = dg.DagsterInstance.from_config(str(home))
    staged = {}
    for record in instance.get_run_records():
        run_id = record.dagster_run.run_id
        events = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for event in events:
            materialization = event.event_log_entry.asset_materialization
            if materialization and materialization.asset_key == dg.AssetKey("jira_issues"):
                staged[run_id] = materialization.metadata["dagster/row_count"].value
    # Both runs staged (no run died starting), each its own snapshot.
    assert sorted(staged.values()) == sorted([len(kept), len(list(sample.iter_issues()))])
    # The later-started run's snapshot is the published one, whichever finished first.
    later = max(instance.get_run_records(), key=lambda r: r.start_time or 0).dagster_run.run_id
    with duckdb.connect(str(DataFolder(data_dir).warehouse), read_only=True) as connection:
        (published,) = connection.execute("select count(*) from jira.jira_issues").fetchone()
    assert published == staged[later]


def _draft_with_outputs(folder: DataFolder, run_id: str, marker: int) -> None:
    """A draft as a run leaves it before its publication: a table, an insight file, a report
    and a raw pointer, each carrying `marker`."""
    draft = folder.draft(run_id)
    draft.insights.mkdir(parents=True)
    (draft.insights / "velocity_insights.json").write_text(json.dumps({"marker": marker}))
    draft.report.parent.mkdir(parents=True)
    draft.report.write_text(f"<p>{marker}</p>")
    snapshot = folder.raw / f"2026010{marker}T000000Z-{run_id}"
    snapshot.mkdir(parents=True)
    record_pointer(draft.raw_pointer, snapshot, source="sample", run_id=run_id)
    with duckdb.connect(str(draft.warehouse)) as connection:
        connection.execute("create schema metrics")
        connection.execute(f"create table metrics.scores as select {marker} as marker")


def _marker_in_warehouse(folder: DataFolder) -> int:
    with duckdb.connect(str(folder.warehouse), read_only=True) as connection:
        return connection.execute("select marker from metrics.scores").fetchone()[0]


START = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_publication_that_died_half_way_is_finished_by_the_next_run(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path)
    _draft_with_outputs(folder, "run-a", 1)
    draft = folder.draft("run-a")
    # As if the process died after the warehouse commit, before any file was moved.
    (draft.root / PUBLISHING_MARKER).write_text(
        json.dumps({"run_id": "run-a", "started": START.isoformat(), "re_executes": []})
    )
    publish_tables(folder, [draft], "run-a", START, 2, None)
    assert _marker_in_warehouse(folder) == 1
    assert not folder.insights.exists() and not folder.raw_pointer.exists()

    # Not while the run may still be publishing itself.
    assert finish_interrupted_publications(folder, active_run_ids={"run-a"}) == []
    (finished,) = finish_interrupted_publications(folder, active_run_ids=set())
    assert finished.tables == ("metrics.scores",)
    assert finished.files == ("insights/velocity_insights.json", "report/insights.html")
    assert json.loads((folder.insights / "velocity_insights.json").read_text()) == {"marker": 1}
    assert json.loads(folder.raw_pointer.read_text())["run_id"] == "run-a"
    assert not draft.root.exists()
    with duckdb.connect(str(folder.warehouse), read_only=True) as connection:
        assert connection.execute(f"select run_id from {PUBLICATIONS_TABLE}").fetchall() == [
            ("run-a",)
        ]


def test_an_earlier_run_cannot_publish_over_a_later_one(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path)
    _draft_with_outputs(folder, "early", 1)
    _draft_with_outputs(folder, "late", 2)
    publish_run(folder, "late", START + timedelta(minutes=5))
    with pytest.raises(StalePublicationError, match="has already published newer data"):
        publish_run(folder, "early", START)
    assert _marker_in_warehouse(folder) == 2
    assert (folder.report.read_text()) == "<p>2</p>"
    assert json.loads(folder.raw_pointer.read_text())["run_id"] == "late"
    early = folder.draft("early")
    assert early.warehouse.is_file() and not (early.root / PUBLISHING_MARKER).exists()


def test_a_run_that_read_the_published_data_never_blocks_a_newer_snapshot(
    tmp_path: Path,
) -> None:
    """Monday 08:00: the daily run starts and fetches; the weekly digest run starts a moment
    later, reads what was published yesterday and publishes first. Its data is yesterday's, so
    the daily run's newer snapshot still publishes after it."""
    folder = DataFolder(tmp_path)
    _draft_with_outputs(folder, "yesterday", 1)
    publish_run(folder, "yesterday", START)
    assert published_data_time(folder) == START
    digest = folder.draft("weekly")
    digest.report.parent.mkdir(parents=True)
    (digest.report.parent / "weekly-2026-W01.md").write_text("# digest")
    publish_run(folder, "weekly", published_data_time(folder) or START)
    _draft_with_outputs(folder, "daily", 2)
    publish_run(folder, "daily", START + timedelta(days=1))  # started before "weekly" did
    assert _marker_in_warehouse(folder) == 2
    assert (folder.report.parent / "weekly-2026-W01.md").is_file()
    assert published_data_time(folder) == START + timedelta(days=1)


def test_a_re_execution_publishes_what_the_run_it_re_executes_wrote(tmp_path: Path) -> None:
    """Re-executing a failed run from its failure skips the steps that succeeded; their
    outputs are in the failed run's draft and are published with the re-execution's."""
    folder = DataFolder(tmp_path)
    _draft_with_outputs(folder, "failed", 1)
    retry = folder.draft("retry")
    retry.insights.mkdir(parents=True)
    (retry.insights / "velocity_insights.json").write_text(json.dumps({"marker": 2}))
    published = publish_run(folder, "retry", START, re_executes=["failed"])
    assert published.tables == ("metrics.scores",)
    assert _marker_in_warehouse(folder) == 1
    assert json.loads((folder.insights / "velocity_insights.json").read_text()) == {"marker": 2}
    assert folder.report.read_text() == "<p>1</p>"
    assert not folder.draft("failed").root.exists() and not retry.root.exists()


def test_the_published_tables_swap_in_one_transaction(tmp_path: Path) -> None:
    """A table that cannot be copied (here: a schema clash) rolls every table back."""
    folder = DataFolder(tmp_path)
    with duckdb.connect(str(folder.warehouse)) as connection:
        connection.execute("create schema metrics")
        connection.execute("create table metrics.scores as select 0 as marker")
        connection.execute("create view metrics.zzz as select 1 as blocked")
    _draft_with_outputs(folder, "run-a", 1)
    with duckdb.connect(str(folder.draft("run-a").warehouse)) as connection:
        connection.execute("create table metrics.zzz as select 1 as x")  # a view is in the way
    with pytest.raises(duckdb.Error):
        publish_run(folder, "run-a", START)
    assert _marker_in_warehouse(folder) == 0
    # Nothing was published, so nothing is left for the next run to finish.
    assert not (folder.draft("run-a").root / PUBLISHING_MARKER).exists()
    assert finish_interrupted_publications(folder, active_run_ids=set()) == []
