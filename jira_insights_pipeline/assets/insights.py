"""Insight assets (group `insights`): the metric tables, worded for a Scrum Master.

All six assets come from ONE multi-asset, so they run as one step in one process: the local
model is loaded once per run whatever executor runs it (Dagster sets a resource up once per step
process; with separate assets the multiprocess executor would load the model once per asset).

Each asset is a JSON file `<data folder>/insights/<asset name>.json` (see docs/insights.md),
written by `InsightsIOManager`; one insight is one board's (and sprint's) finding for one use
case. The logic lives in `jira_insights_pipeline.insights`; this module only orchestrates.
"""

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.insights.documents import insight_document
from jira_insights_pipeline.insights.engine import WrittenInsight, feed_order, write_insights
from jira_insights_pipeline.insights.facts import MetricTables, UseCase, facts_for, latest_as_of
from jira_insights_pipeline.resources.llm import LlamaModelResource
from jira_insights_pipeline.resources.settings import PipelineSettings

INSIGHTS_GROUP = "insights"
INSIGHTS_IO_MANAGER_KEY = "insights_io_manager"
INSIGHT_KINDS = {"python", "llama_cpp", "json"}

USE_CASE_ASSETS: dict[str, UseCase] = {
    "scope_creep_insights": "scope_creep",
    "missed_target_insights": "missed_target",
    "defect_leakage_insights": "defect_leakage",
    "team_health_insights": "team_health",
    "velocity_insights": "velocity",
}
FEED_ASSET = "insights_feed"

# The tables each use case reads (parameter names of the multi-asset = upstream asset keys).
USE_CASE_INPUTS: dict[UseCase, tuple[str, ...]] = {
    "scope_creep": ("sprint_commitments", "sprint_scope_changes", "jira_boards", "jira_issues"),
    "missed_target": ("sprint_commitments", "sprint_scope_changes", "jira_boards", "jira_issues"),
    "defect_leakage": ("defect_escape_rates", "defect_leakage", "jira_boards", "jira_issues"),
    "team_health": (
        "hygiene_scores",
        "work_item_health",
        "sprint_commitments",
        "jira_boards",
        "jira_issues",
    ),
    "velocity": ("sprint_velocity", "cycle_time_trends", "jira_boards"),
}
INPUT_TABLES: tuple[str, ...] = tuple(
    dict.fromkeys(table for tables in USE_CASE_INPUTS.values() for table in tables)
)

DESCRIPTIONS = {
    "scope_creep_insights": "One insight per board and sprint (latest closed and active): "
    "which stories grew after the sprint started, against the scope creep limit.",
    "missed_target_insights": "One insight per board: the points its latest closed sprint "
    "completed against the points committed, and whether work keeps spilling over.",
    "defect_leakage_insights": "One insight per board: the share of the latest closed sprint's "
    "bugs that escaped to production, and the stories they came from.",
    "team_health_insights": "One insight per board: the hygiene score of its open issues and "
    "their worst problems.",
    "velocity_insights": "One insight per board: the latest closed sprint's velocity against the "
    "previous sprints, and the P50/P85 forecast for the next one.",
    FEED_ASSET: "Every current insight in one file, newest first, then most severe first.",
}


def _markdown_escape(text: str) -> str:
    return "".join(f"\\{char}" if char in "\\`*_[]<>#|" else char for char in text)


def insights_markdown(documents: Sequence[dict[str, Any]]) -> str:
    """The insights as the Dagster UI shows them."""
    if not documents:
        return "_No insights: the metric tables hold nothing for this use case._"
    blocks = []
    for document in documents:
        where = document["board"]["name"]
        if document["sprint"]:
            where += f" · {document['sprint']['name']}"
        lines = [
            f"### {document['severity'].upper()}: {_markdown_escape(document['title'])}",
            f"*{_markdown_escape(where)}*",
            "",
            _markdown_escape(document["message"]),
            "",
            *[f"- {_markdown_escape(item)}" for item in document["recommendations"]],
        ]
        if document["evidence"]:
            keys = ", ".join(item["issue_key"] for item in document["evidence"])
            lines += ["", f"Evidence: {keys}"]
        blocks.append("\n".join(lines))
    return "\n\n---\n\n".join(blocks)


def _timings_markdown(written: Sequence[WrittenInsight]) -> str:
    rows = ["| insight | written by | attempts | seconds |", "| --- | --- | --- | --- |"]
    rows += [
        f"| {item.document['id']} | {item.generated_by} | {len(item.attempts)} | "
        f"{item.seconds:.2f} |"
        for item in written
    ]
    return "\n".join(rows)


def _metadata(
    documents: Sequence[dict[str, Any]], written: Sequence[WrittenInsight] | None = None
) -> dict[str, Any]:
    severities = Counter(document["severity"] for document in documents)
    metadata: dict[str, Any] = {
        "dagster/row_count": len(documents),
        "insights": dg.MetadataValue.md(insights_markdown(documents)),
        "error": severities.get("error", 0),
        "warning": severities.get("warning", 0),
        "info": severities.get("info", 0),
        "model_written": sum(d["generated_by"] == "model" for d in documents),
    }
    if written is not None:
        # Durations vary run to run, so they live here and never in the insight files.
        metadata["seconds"] = round(sum(item.seconds for item in written), 3)
        metadata["timings"] = dg.MetadataValue.md(_timings_markdown(written))
    return metadata


@dg.multi_asset(
    name="insights",
    group_name=INSIGHTS_GROUP,
    outs={
        name: dg.AssetOut(
            io_manager_key=INSIGHTS_IO_MANAGER_KEY,
            kinds=INSIGHT_KINDS,
            description=DESCRIPTIONS[name],
        )
        for name in [*USE_CASE_ASSETS, FEED_ASSET]
    },
    ins={table: dg.AssetIn(key=table) for table in INPUT_TABLES},
    internal_asset_deps={
        **{
            name: {dg.AssetKey(table) for table in USE_CASE_INPUTS[use_case]}
            for name, use_case in USE_CASE_ASSETS.items()
        },
        FEED_ASSET: {dg.AssetKey(name) for name in USE_CASE_ASSETS},
    },
)
def insights(
    context: dg.AssetExecutionContext,
    llm: LlamaModelResource,
    pipeline_settings: PipelineSettings,
    sprint_commitments: pd.DataFrame,
    sprint_scope_changes: pd.DataFrame,
    jira_boards: pd.DataFrame,
    jira_issues: pd.DataFrame,
    defect_escape_rates: pd.DataFrame,
    defect_leakage: pd.DataFrame,
    hygiene_scores: pd.DataFrame,
    work_item_health: pd.DataFrame,
    sprint_velocity: pd.DataFrame,
    cycle_time_trends: pd.DataFrame,
) -> Iterator[dg.MaterializeResult]:
    """The insight files of every use case and the feed of all of them. One insight: one
    board's (and sprint's) finding for one use case, with its facts, evidence and severity."""
    metric_frames = [
        sprint_commitments,
        sprint_scope_changes,
        sprint_velocity,
        defect_leakage,
        defect_escape_rates,
        work_item_health,
        hygiene_scores,
        cycle_time_trends,
    ]
    tables = MetricTables(
        as_of=latest_as_of(metric_frames),
        jira_boards=jira_boards,
        jira_issues=jira_issues,
        sprint_scope_changes=sprint_scope_changes,
        sprint_commitments=sprint_commitments,
        sprint_velocity=sprint_velocity,
        defect_leakage=defect_leakage,
        defect_escape_rates=defect_escape_rates,
        work_item_health=work_item_health,
        hygiene_scores=hygiene_scores,
        cycle_time_trends=cycle_time_trends,
    )
    thresholds = pipeline_settings.thresholds()
    model = llm if llm.enabled else None
    started = time.perf_counter()
    every_document: list[dict[str, Any]] = []
    for asset_name, use_case in USE_CASE_ASSETS.items():
        written, stats = write_insights(facts_for(use_case, tables, thresholds), model)
        documents = [item.document for item in written]
        every_document += documents
        context.log.info(
            f"{asset_name}: {stats.insights} insights, {stats.model_written} worded by the model, "
            f"{len(stats.rejections)} model answers rejected."
        )
        metadata = _metadata(documents, written)
        if model is not None:
            metadata["model_file"] = model.model_file_name or ""
            metadata["completion_tokens"] = stats.completion_tokens
        yield dg.MaterializeResult(
            asset_key=asset_name,
            value=insight_document(asset_name, tables.as_of, documents),
            metadata=metadata,
        )
    feed = feed_order(every_document)
    feed_metadata = _metadata(feed)
    feed_metadata["seconds"] = round(time.perf_counter() - started, 3)
    if model is not None and model.load_seconds is not None:
        feed_metadata["model_load_seconds"] = round(model.load_seconds, 3)
    yield dg.MaterializeResult(
        asset_key=FEED_ASSET,
        value=insight_document(FEED_ASSET, tables.as_of, feed),
        metadata=feed_metadata,
    )
