"""The insight assets in real Dagster runs, on the four-board demo metric tables.

The `insights` multi-asset is built from the registry (`build_insights_asset(use_cases())`), as
the Definitions build it. Covers: one JSON file per use case plus the feed, and their UI
metadata (markdown, counts per severity), the feed's order, template-only mode, and that one
run loads the model once, proven in a real job run with the multiprocess executor (each step is
its own process there, so separate insight assets would each load the model; the one
multi-asset loads it once).
"""

import json
import logging
import os
from pathlib import Path

import dagster as dg
import pytest
from demo_tables import four_board_tables
from publishing import with_publication

from jira_insights_pipeline.assets.insights import build_insights_asset
from jira_insights_pipeline.insights.documents import FEED_ASSET, validate_document
from jira_insights_pipeline.insights.io_manager import InsightsIOManager
from jira_insights_pipeline.registry import Thresholds, use_cases
from jira_insights_pipeline.resources.llm import Completion, LlamaModelResource
from jira_insights_pipeline.resources.settings import PipelineSettings

insights = build_insights_asset(use_cases())
# The tables the insights read: every use case's insight inputs, each once.
INPUT_TABLES = tuple(insights.keys_by_input_name)

LOAD_LOG_ENV = "INSIGHT_TEST_LOAD_LOG"
DATA_DIR_ENV = "INSIGHT_TEST_DATA_DIR"


class LoadCountingModel(LlamaModelResource):
    """The real resource, loading a stand-in instead of weights and answering from the facts'
    key placeholder, and logging each load (with its process id) to `load_log`."""

    load_log: str

    def _load_model(self, path: Path) -> object:
        with open(self.load_log, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
        return object()

    @property
    def model_file_name(self) -> str:
        return "counting.gguf"

    def choose(self, messages, answers, seed, temperature=None) -> Completion:
        self.llama()  # the lazy, once-per-process load the real `choose` does
        return Completion(answers[0], 50, 10, 0.0)


@dg.multi_asset(outs={name: dg.AssetOut() for name in INPUT_TABLES})
def demo_metric_tables():
    """The upstream tables, in one step to keep the multiprocess run short."""
    tables = four_board_tables()
    for name in INPUT_TABLES:
        yield dg.Output(tables[name], output_name=name)


def _resources(data_dir: Path, llm: LlamaModelResource) -> dict:
    return {
        "llm": llm,
        "thresholds": Thresholds(),
        "insights_io_manager": InsightsIOManager(data_dir=str(data_dir)),
        "io_manager": dg.FilesystemIOManager(base_dir=str(data_dir / "storage")),
        "pipeline_settings": PipelineSettings(data_dir=str(data_dir)),
    }


def load_counting_job() -> dg.JobDefinition:
    """A job over the demo tables and the insight assets, run by the multiprocess executor
    (module level, so Dagster can rebuild it in each step process)."""
    data_dir = Path(os.environ[DATA_DIR_ENV])
    definitions = dg.Definitions(
        assets=with_publication([demo_metric_tables, insights]),
        jobs=[
            dg.define_asset_job(
                "insights_job", selection="*", executor_def=dg.multiprocess_executor
            )
        ],
        resources=_resources(
            data_dir, LoadCountingModel(mode="on", load_log=os.environ[LOAD_LOG_ENV])
        ),
    )
    return definitions.resolve_job_def("insights_job")


def _materialize(tmp_path: Path, llm: LlamaModelResource) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        with_publication([demo_metric_tables, insights]),
        resources=_resources(tmp_path, llm),
    )


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def test_one_run_writes_a_validated_file_per_use_case_and_the_feed(tmp_path: Path) -> None:
    llm = LoadCountingModel(mode="on", load_log=str(tmp_path / "loads.log"))
    result = _materialize(tmp_path, llm)
    assert result.success
    folder = tmp_path / "insights"
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(
        f"{name}.json" for name in [*(u.insight_asset for u in use_cases()), FEED_ASSET]
    )
    assert len(list(folder.glob("*.json"))) == 7  # six use cases, flow among them, and the feed
    for path in folder.glob("*.json"):
        validate_document(json.loads(path.read_text()))
    feed = json.loads((folder / "insights_feed.json").read_text())
    # The feed's copy for its day, and nothing to compare with on the first one.
    assert [p.name for p in (folder / "history").iterdir()] == ["2025-03-14.json"]
    assert (folder / "history" / "2025-03-14.json").read_text() == (
        folder / "insights_feed.json"
    ).read_text()
    assert feed["compared_with"] is None and feed["resolved"] == []
    assert {item["change"] for item in feed["insights"]} == {None}
    assert feed["count"] == 32
    assert {item["generated_by"] for item in feed["insights"]} == {"model"}
    assert feed["insights"][0]["severity"] == "error"
    assert feed["insights"][0]["message"] == (
        # Payments' first leakage answer (first opener, first extra), filled from its facts.
        "4 bugs from PAY Sprint 23 reached production, an escape rate of 57%, above the "
        "20% limit. Testing caught 3 bugs before release."
    )
    assert feed["insights"][0]["model"]["file"] == "counting.gguf"
    scope = json.loads((folder / "scope_creep_insights.json").read_text())
    assert scope["count"] == 8 and {i["type"] for i in scope["insights"]} == {"scope_creep"}
    flow = json.loads((folder / "flow_insights.json").read_text())
    assert [(i["board"]["name"], i["severity"]) for i in flow["insights"]] == [
        ("Mobile App", "warning"),
        ("Payments", "info"),
        ("Platform", "info"),
        ("Web Store", "info"),
    ]
    velocity = json.loads((folder / "velocity_insights.json").read_text())
    assert not any("median_cycle_days" in i["facts"] for i in velocity["insights"])


def test_each_asset_shows_its_insights_and_severity_counts(tmp_path: Path) -> None:
    llm = LoadCountingModel(mode="on", load_log=str(tmp_path / "loads.log"))
    result = _materialize(tmp_path, llm)
    leakage = _metadata(result, "defect_leakage_insights")
    # Each board's running and latest closed sprint; only PAY Sprint 23 leaked.
    assert (leakage["error"], leakage["warning"], leakage["info"]) == (1, 0, 7)
    assert leakage["dagster/row_count"] == 8
    assert leakage["model_written"] == 8
    assert leakage["model_file"] == "counting.gguf"
    assert "### ERROR: Bugs escaped to production from PAY Sprint 23" in leakage["insights"]
    assert "an escape rate of 57%, above the 20% limit." in leakage["insights"]
    assert "Evidence: PAY-930" in leakage["insights"]
    assert "| insight | written by | attempts | seconds |" in leakage["timings"]
    feed = _metadata(result, FEED_ASSET)
    assert (feed["error"], feed["warning"], feed["info"]) == (1, 8, 23)
    assert feed["path"].endswith("insights/insights_feed.json")


def test_without_a_feedback_store_every_use_case_shows_zero_feedback(tmp_path: Path) -> None:
    result = _materialize(tmp_path, LoadCountingModel(mode="off", load_log="unused"))
    for use_case in use_cases():
        shown = _metadata(result, use_case.insight_asset)
        assert {k: v for k, v in shown.items() if k.startswith("feedback_")} == {
            "feedback_helpful": 0,
            "feedback_not_helpful": 0,
            "feedback_dismissed": 0,
        }
    table = _metadata(result, FEED_ASSET)["feedback"]
    assert table.splitlines()[0] == "| use case | helpful | not helpful | dismissed |"
    assert "| velocity | 0 | 0 | 0 |" in table.splitlines()
    assert len(table.splitlines()) == 2 + len(use_cases())
    # Reading created nothing: the store is the service's.
    assert not (tmp_path / "feedback").exists()


def test_an_unreadable_feedback_store_is_warned_about_and_not_shown(tmp_path: Path) -> None:
    store = tmp_path / "feedback" / "feedback.sqlite3"
    store.parent.mkdir()
    store.write_bytes(b"not a database, " * 100)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            with_publication([demo_metric_tables, insights]),
            resources=_resources(tmp_path, LoadCountingModel(mode="off", load_log="unused")),
            instance=instance,
        )
        logged = [
            (entry.level, entry.user_message)
            for entry in instance.all_logs(result.run_id)
            if "feedback store" in entry.user_message
        ]
    assert result.success
    for asset in [*(u.insight_asset for u in use_cases()), FEED_ASSET]:
        assert not any(key.startswith("feedback") for key in _metadata(result, asset))
    ((level, message),) = logged
    assert level == logging.WARNING
    assert message == (
        f"The feedback store {store} cannot be read (file is not a database): no feedback is shown."
    )
    assert store.read_bytes() == b"not a database, " * 100


def test_with_the_model_off_templates_write_everything(tmp_path: Path) -> None:
    llm = LoadCountingModel(mode="off", load_log=str(tmp_path / "loads.log"))
    result = _materialize(tmp_path, llm)
    assert result.success
    feed = json.loads((tmp_path / "insights" / "insights_feed.json").read_text())
    assert {item["generated_by"] for item in feed["insights"]} == {"template"}
    assert {item["model"] is None for item in feed["insights"]} == {True}
    assert not (tmp_path / "loads.log").exists()


def test_the_model_loads_once_per_multiprocess_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_log = tmp_path / "loads.log"
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(LOAD_LOG_ENV, str(load_log))
    # Step processes rebuild the job by importing this module from the working directory.
    monkeypatch.chdir(Path(__file__).parent)
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(load_counting_job), instance=instance)
        assert result.success
        step_pids = {
            event.pid
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_START
        }
    # The upstream tables, the insights and the publication ran as three steps in three
    # processes...
    assert len(step_pids) == 3
    assert os.getpid() not in step_pids
    # ...and the model was loaded exactly once, in the insight step's process.
    loads = load_log.read_text().split()
    assert len(loads) == 1
    assert int(loads[0]) in step_pids
    feed = json.loads((tmp_path / "insights" / "insights_feed.json").read_text())
    assert feed["count"] == 32
