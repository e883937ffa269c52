"""Insight files: the JSON Schema downstream consumers rely on, and the UPathIOManager that
writes `<data folder>/insights/<asset name>.json`.

Every document the engine builds must validate against insight.schema.json; a document that
breaks it must be refused with a message naming the field, on write and on read; the same
document must always serialize to the same bytes.
"""

import copy
import json
from pathlib import Path

import dagster as dg
import pytest
from demo_tables import AS_OF, four_board_tables
from publishing import with_publication

from jira_insights_pipeline.insights.documents import (
    SCHEMA_VERSION,
    InsightDocumentError,
    dumps,
    insight_document,
    insight_schema,
    validate_document,
)
from jira_insights_pipeline.insights.engine import feed_order, write_insights
from jira_insights_pipeline.insights.io_manager import InsightsIOManager
from jira_insights_pipeline.registry import Thresholds, use_case_names, use_cases
from jira_insights_pipeline.resources.settings import PipelineSettings


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    """Every insight of the four-board demo tables, use case by use case, from the templates."""
    tables = four_board_tables()
    found = []
    for u in use_cases():
        written, _ = write_insights(u.facts(tables, u.thresholds_of(Thresholds())), u.wording, None)
        found += [item.document for item in written]
    return found


def test_the_schema_is_versioned() -> None:
    schema = insight_schema()
    assert schema["$id"].endswith(SCHEMA_VERSION)
    assert schema["properties"]["schema_version"] == {
        "description": schema["properties"]["schema_version"]["description"],
        "const": SCHEMA_VERSION,
    }


def test_engine_documents_validate(documents: list[dict]) -> None:
    feed = feed_order(documents, use_case_names())
    document = insight_document("insights_feed", AS_OF, feed)
    validate_document(document)
    # 32 insights: leakage now has one for each board's running sprint too, and flow is new.
    assert document["count"] == 32
    assert document["schema_version"] == SCHEMA_VERSION
    # Newest first, then the most severe first, then by use case in the registry's order.
    severities = [item["severity"] for item in document["insights"]]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    # Payments' leakage; scope creep (2), missed targets (2), hygiene, velocity (2) and flow.
    assert severities.count("error") == 1 and severities.count("warning") == 8
    warnings = [(i["type"], i["board"]["name"]) for i in feed if i["severity"] == "warning"]
    assert warnings == [
        ("scope_creep", "Mobile App"),
        ("scope_creep", "Mobile App"),
        ("missed_target", "Mobile App"),
        ("missed_target", "Platform"),
        ("team_health", "Platform"),
        ("velocity", "Mobile App"),
        ("velocity", "Platform"),
        ("flow", "Mobile App"),
    ]
    # Within one use case and board, the later sprint first.
    assert [i["sprint"]["name"] for i in feed[1:3]] == ["MOB Sprint 24", "MOB Sprint 23"]


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("severity",), "critical", "'critical' is not one of"),
        (("generated_by",), "gpt", "'gpt' is not one of"),
        (("evidence", 0, "issue_key"), "not a key", "does not match"),
        (("recommendations",), [], "should be non-empty"),
        (("id",), "x-1", "does not match"),
        (("subject",), "velocity-0123", "does not match"),
        (("change",), "later", "'later' is not one of"),
    ],
)
def test_a_broken_insight_is_refused(documents, path, value, complaint) -> None:
    broken = copy.deepcopy(next(d for d in documents if d["evidence"]))
    target = broken
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(InsightDocumentError, match=complaint) as error:
        validate_document(insight_document("scope_creep_insights", AS_OF, [broken]))
    assert "insights/0/" + "/".join(str(part) for part in path) in str(error.value)


def test_extra_fields_and_unknown_assets_are_refused(documents) -> None:
    document = insight_document("scope_creep_insights", AS_OF, documents[:1])
    document["insights"][0]["generated_at"] = "2025-03-14T17:00:00Z"
    with pytest.raises(InsightDocumentError, match="generated_at"):
        validate_document(document)
    with pytest.raises(InsightDocumentError, match="asset"):
        validate_document(insight_document("my_insights", AS_OF, []))


def test_serialization_is_byte_stable(documents) -> None:
    document = insight_document("insights_feed", AS_OF, documents)
    first = dumps(document)
    assert first == dumps(json.loads(first))
    assert first.endswith("\n") and '"as_of": "2025-03-14T17:00:00+00:00"' in first


def test_the_io_manager_writes_named_files_and_reads_them_back(tmp_path: Path, documents) -> None:
    document = insight_document(
        "defect_leakage_insights",
        AS_OF,
        [d for d in documents if d["type"] == "defect_leakage"],
    )

    @dg.asset(io_manager_key="insights_io_manager", key_prefix=["reports"])
    def defect_leakage_insights() -> dict:
        return document

    @dg.asset
    def leakage_count(defect_leakage_insights: dict) -> int:
        return defect_leakage_insights["count"]

    result = dg.materialize(
        with_publication([defect_leakage_insights, leakage_count]),
        resources={
            "insights_io_manager": InsightsIOManager(data_dir=str(tmp_path)),
            "pipeline_settings": PipelineSettings(data_dir=str(tmp_path)),
        },
    )
    assert result.success
    # Named after the asset alone, whatever its key prefix.
    written = tmp_path / "insights" / "defect_leakage_insights.json"
    assert written.read_bytes() == dumps(document).encode()
    # Each board's running and latest closed sprint.
    assert result.output_for_node("leakage_count") == 8
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["reports", "defect_leakage_insights"])
    ]
    assert event.materialization.metadata["dagster/row_count"].value == 8


def test_the_io_manager_refuses_to_write_a_broken_document(tmp_path: Path) -> None:
    @dg.asset(io_manager_key="insights_io_manager")
    def velocity_insights() -> dict:
        return {"schema_version": SCHEMA_VERSION, "asset": "velocity_insights", "insights": []}

    with pytest.raises(InsightDocumentError, match="'as_of' is a required property"):
        dg.materialize(
            [velocity_insights],
            resources={"insights_io_manager": InsightsIOManager(data_dir=str(tmp_path))},
        )
    assert not list(tmp_path.rglob("velocity_insights.json")), "not even in the run's draft"
