"""The team's feedback (the live service's store) as pipeline runs read it.

On a copy of a published run of the sample site, verdicts are recorded with the service's own
`FeedbackStore`; a re-run of the insights and the weekly digest then shows the counts per use
case as asset metadata and orders each board's "needs attention" list by severity, then by the
use case's helpfulness. Runs read the store read-only: it is never created, and its verdicts
are the same after the run. The read-only helper is checked on its own too.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from automation_runs import materialize
from publishing import copy_data_folder

from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.insights.documents import FEED_ASSET
from jira_insights_pipeline.registry import use_cases
from jira_insights_pipeline.service.feedback import (
    NO_FEEDBACK,
    FeedbackStore,
    ReadOnlyFeedbackStore,
    order_insights,
    read_feedback,
)

SELECTION = "group:insights or key:weekly_digest"


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)
    ]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def _a_board_with_two_warnings(feed: list[dict[str, Any]]) -> tuple[dict, dict]:
    """The first board with warnings of two use cases: its first two, in the feed's order."""
    for board_id in dict.fromkeys(i["board"]["id"] for i in feed):
        warnings = [i for i in feed if i["board"]["id"] == board_id and i["severity"] == "warning"]
        if len({i["type"] for i in warnings}) >= 2:
            first = warnings[0]
            second = next(i for i in warnings if i["type"] != first["type"])
            return first, second
    raise AssertionError("the sample site has a board with warnings of two use cases")


def test_feedback_reaches_the_asset_metadata_and_the_digests_order(
    published_sample: Path, tmp_path: Path
) -> None:
    data_dir = copy_data_folder(published_sample, tmp_path)
    folder = DataFolder(data_dir)
    feed = json.loads(folder.insights_feed.read_text(encoding="utf-8"))["insights"]
    first, second = _a_board_with_two_warnings(feed)
    error = next(i for i in feed if i["severity"] == "error")
    assert len({first["type"], second["type"], error["type"]}) == 3
    store = FeedbackStore(folder.feedback)
    # The use case listed second on its board is found helpful twice, the first one not
    # helpful once and dismissed once; the error's use case not helpful three times.
    store.record(second, "helpful")
    store.record(second, "helpful", "we acted on this")
    store.record(first, "not_helpful")
    store.record(first, "dismiss")
    for _ in range(3):
        store.record(error, "not_helpful")
    before = store.records()

    with dg.instance_for_test() as instance:
        result = materialize(instance, data_dir, selection=SELECTION)
    assert result.success

    expected = {
        second["type"]: (2, 0, 0),
        first["type"]: (0, 1, 1),
        error["type"]: (0, 3, 0),
    }
    feed_table = _metadata(result, FEED_ASSET)["feedback"].splitlines()
    for use_case in use_cases():
        shown = _metadata(result, use_case.insight_asset)
        counts = expected.get(use_case.name, (0, 0, 0))
        assert (
            shown["feedback_helpful"],
            shown["feedback_not_helpful"],
            shown["feedback_dismissed"],
        ) == counts, use_case.name
        assert f"| {use_case.name} | {' | '.join(map(str, counts))} |" in feed_table
    # The run changed nothing in the store.
    assert store.records() == before

    digest_json = next((folder.report.parent).glob("weekly-*.json"))
    digest = json.loads(digest_json.read_text(encoding="utf-8"))
    (board,) = [b for b in digest["boards"] if b["board"]["id"] == first["board"]["id"]]
    titles = [item["title"] for item in board["attention"]]
    # Within the warnings, the helpful use case now comes before the unhelpful one, which
    # stays listed (the digest is a record) and is marked dismissed.
    assert titles.index(second["title"]) < titles.index(first["title"])
    (shown_first,) = [i for i in board["attention"] if i["title"] == first["title"]]
    assert shown_first["dismissed"] is True
    assert not any(i["dismissed"] for i in board["attention"] if i["title"] != first["title"])
    # Every board's list is the service's order, with the same helpfulness.
    current = json.loads(folder.insights_feed.read_text(encoding="utf-8"))["insights"]
    helpfulness = store.helpfulness()
    for entry in digest["boards"]:
        raised = [
            i
            for i in current
            if i["board"]["id"] == entry["board"]["id"] and i["severity"] != "info"
        ]
        assert [i["title"] for i in entry["attention"]] == [
            i["title"] for i in order_insights(raised, helpfulness)
        ]
    # The errors stay on top, however unhelpful their use case.
    (pay,) = [b for b in digest["boards"] if b["board"]["id"] == error["board"]["id"]]
    severities = [item["severity"] for item in pay["attention"]]
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_reading_a_missing_store_finds_nothing_and_creates_nothing(tmp_path: Path) -> None:
    path = DataFolder(tmp_path / "data").feedback
    warnings: list[str] = []
    assert read_feedback(path, warnings.append) == NO_FEEDBACK
    assert warnings == [] and not (tmp_path / "data").exists()
    assert NO_FEEDBACK.counts_of("velocity") == {"helpful": 0, "not_helpful": 0, "dismissed": 0}


def test_the_read_only_store_agrees_with_the_service_and_never_writes(tmp_path: Path) -> None:
    path = DataFolder(tmp_path).feedback
    store = FeedbackStore(path)
    insight = {
        "subject": "board-1/sprint-2/velocity",
        "id": "velocity-1",
        "type": "velocity",
        "board": {"id": 1},
        "severity": "warning",
        "facts": {"velocity": 12},
    }
    for verdict in ("helpful", "helpful", "not_helpful", "dismiss"):
        store.record(insight, verdict)  # type: ignore[arg-type]
    store.record({**insight, "type": "flow", "subject": "board-1/flow"}, "not_helpful")
    snapshot = read_feedback(path, pytest.fail)
    assert snapshot is not None
    assert snapshot.counts_of("velocity") == {"helpful": 2, "not_helpful": 1, "dismissed": 1}
    assert snapshot.counts_of("flow") == {"helpful": 0, "not_helpful": 1, "dismissed": 0}
    assert snapshot.helpfulness == store.helpfulness() == {"velocity": 1, "flow": -1}
    assert snapshot.dismissals == store.dismissals()
    reader = ReadOnlyFeedbackStore(path)
    with pytest.raises(PermissionError):
        reader.record(insight, "helpful")
    # The connection really is read-only: SQLite refuses a write through it.
    with reader._connection(create=False) as connection:
        assert connection is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("delete from feedback")
    assert len(store.records()) == 5
