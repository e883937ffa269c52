"""Shared fixtures: a data folder per test and a run of the real Definitions against it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder that the real Definitions are pointed at (JIRA_INSIGHTS_DATA_DIR)."""
    folder = tmp_path / "data"
    monkeypatch.setenv("JIRA_INSIGHTS_DATA_DIR", str(folder))
    monkeypatch.delenv("JIRA_INSIGHTS_AS_OF", raising=False)
    monkeypatch.setenv("JIRA_INSIGHTS_LLM", "off")
    return folder


@pytest.fixture
def run_pipeline(data_dir: Path) -> Callable[..., dg.ExecuteInProcessResult]:
    """Materializes a selection of the real Definitions (built after the test set its
    environment) in process, on a temporary instance."""

    def run(selection: str = "*", **env: str) -> dg.ExecuteInProcessResult:
        from automation_runs import history_partition

        from jira_insights_pipeline.definitions import build_definitions

        defs = build_definitions()
        job = defs.resolve_implicit_global_asset_job_def()
        # With the publication, as every job has it: it makes the run's tables current.
        keys = dg.AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph())
        keys = keys | {dg.AssetKey("publication")}
        with dg.instance_for_test() as instance:
            return job.execute_in_process(
                instance=instance,
                asset_selection=sorted(keys),
                partition_key=history_partition(defs, keys),
            )

    return run


@pytest.fixture(scope="session")
def published_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder after one good, published run of the sample site (model off); tests copy
    it (`publishing.copy_data_folder`) before changing anything."""
    from automation_runs import materialize

    data_dir = tmp_path_factory.mktemp("published") / "data"
    with dg.instance_for_test() as instance:
        assert materialize(instance, data_dir).success
    return data_dir
