"""The snapshot guard refuses snapshots that would read as falsely healthy (issue #15).

Each probe starts from a data folder that holds a good published run of the sample site, then
runs the real Definitions on a snapshot made from the sample site's own files with one thing
wrong: no issues (a 0-byte gzip and an empty gzip), no Sprint field on a Scrum site, no board,
or a third of the issues. Before, each was accepted and turned errors and warnings into
"healthy" findings. Now staging fails with an error naming the setting that allows it, nothing
current changes, and the setting (run config, as the launchpad passes it) lets the run through.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import dagster as dg
import pytest
from automation_runs import materialize
from publishing import copy_data_folder, published_state

from jira_insights_pipeline.resources.snapshot_guard import SnapshotCounts, SnapshotGuard
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import Snapshot, load_snapshot, write_snapshot

SELECTION = "*jira_issues"


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    return load_snapshot(SITE_DIR)


def _variant(sample: Snapshot, dest: Path, **changes: object) -> Path:
    parts: dict[str, object] = {
        "meta": sample.meta,
        "fields": sample.fields,
        "boards": sample.boards,
        "sprints": sample.sprints,
        "statuses": sample.statuses,
        "issues": list(sample.iter_issues()),
    }
    parts.update(changes)
    return write_snapshot(dest, **parts)  # type: ignore[arg-type]


def _guard_config(**settings: object) -> dict:
    return {"resources": {"snapshot_guard": {"config": settings}}}


def _refused(data_dir: Path, snapshot: Path) -> str:
    """Runs raw and staging on `snapshot`; returns the staging failure's message."""
    with dg.instance_for_test() as instance:
        result = materialize(
            instance, data_dir, snapshot_dir=snapshot, selection=SELECTION, raise_on_error=False
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "jira_staging"
    return failure.step_failure_data.error.message


def _accepted(data_dir: Path, snapshot: Path, **settings: object) -> None:
    with dg.instance_for_test() as instance:
        result = materialize(
            instance,
            data_dir,
            snapshot_dir=snapshot,
            selection=SELECTION,
            run_config=_guard_config(**settings),
        )
    assert result.success


@pytest.mark.parametrize("empty_file", ["zero_bytes", "empty_gzip"])
def test_a_snapshot_without_issues_is_refused(
    empty_file: str, sample: Snapshot, published_sample: Path, tmp_path: Path
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    before = published_state(data_dir)
    snapshot = _variant(sample, tmp_path / "empty", issues=[])
    issues_file = snapshot / "issues.jsonl.gz"
    issues_file.write_bytes(b"" if empty_file == "zero_bytes" else gzip.compress(b""))
    message = _refused(data_dir, snapshot)
    assert "holds no issues" in message
    assert "resources.snapshot_guard.config.allow_no_issues: true" in message
    assert f"The snapshot from saved snapshot {snapshot} (stored as " in message
    assert published_state(data_dir) == before
    _accepted(data_dir, snapshot, allow_no_issues=True)


def test_a_scrum_site_without_a_sprint_field_is_refused(
    sample: Snapshot, published_sample: Path, tmp_path: Path
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    before = published_state(data_dir)
    fields = [f for f in sample.fields if f.get("name") != "Sprint"]
    assert len(fields) == len(sample.fields) - 1
    message = _refused(data_dir, _variant(sample, tmp_path / "no-sprint", fields=fields))
    assert "4 Scrum board(s) and 40 sprint(s) but no Sprint field was found" in message
    assert "resources.snapshot_guard.config.allow_no_sprint_field: true" in message
    assert published_state(data_dir) == before


def test_a_snapshot_without_boards_is_refused(
    sample: Snapshot, published_sample: Path, tmp_path: Path
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    message = _refused(data_dir, _variant(sample, tmp_path / "no-boards", boards=[]))
    assert "boards.json lists no board" in message
    assert "resources.snapshot_guard.config.allow_no_boards: true" in message


def test_a_snapshot_far_smaller_than_the_last_is_refused(
    sample: Snapshot, published_sample: Path, tmp_path: Path
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    before = published_state(data_dir)
    issues = list(sample.iter_issues())
    third = issues[: len(issues) // 3]
    snapshot = _variant(sample, tmp_path / "third", issues=third)
    message = _refused(data_dir, snapshot)
    assert f"it holds {len(third)} issues against {len(issues)} in the last published" in message
    assert "resources.snapshot_guard.config.min_issue_ratio: 0" in message
    assert published_state(data_dir) == before
    _accepted(data_dir, snapshot, min_issue_ratio=0)


def test_the_guard_accepts_a_plausible_snapshot_and_a_kanban_site_without_sprints() -> None:
    guard = SnapshotGuard()
    healthy = SnapshotCounts(
        issues=900, boards=4, scrum_boards=4, sprints=40, sprint_field_found=True
    )
    assert guard.refusals(healthy, published_issues=914) == []
    assert guard.refusals(healthy, published_issues=None) == []
    kanban = SnapshotCounts(
        issues=50, boards=1, scrum_boards=0, sprints=0, sprint_field_found=False
    )
    assert guard.refusals(kanban, published_issues=60) == []
    # Exactly half of the last snapshot is still accepted at the default ratio (0.5).
    assert guard.refusals(SnapshotCounts(457, 4, 4, 40, True), published_issues=914) == []
    assert len(guard.refusals(SnapshotCounts(456, 4, 4, 40, True), published_issues=914)) == 1
