"""Insight assets (group `insights`): the metric tables, worded for a Scrum Master.

Every use case's insight asset and the feed come from ONE multi-asset, built from the registry,
so they run as one step in one process: the local model is loaded once per run whatever executor
runs it (Dagster sets a resource up once per step process; with separate assets the
multiprocess executor would load the model once per asset).

Each asset is a JSON file `<data folder>/insights/<asset name>.json` (see docs/insights.md),
written by `InsightsIOManager`; one insight is one board's (and sprint's) finding for one use
case. Each insight's `change` and the feed's `resolved` compare with the newest published
history file of an earlier day (`insights/history.py`). The logic lives in
`jira_insights_pipeline.insights`; this module only orchestrates.
"""

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from jira_insights_pipeline.insights.documents import FEED_ASSET, insight_document
from jira_insights_pipeline.insights.engine import WrittenInsight, feed_order, write_insights
from jira_insights_pipeline.insights.history import (
    change_counts,
    feed_day,
    mark_changes,
    previous_feed,
    resolved,
)
from jira_insights_pipeline.insights.tables import MetricTables, latest_as_of
from jira_insights_pipeline.markdown import markdown_escape
from jira_insights_pipeline.registry import Thresholds, use_case_names
from jira_insights_pipeline.resources.llm import LlamaModelResource
from jira_insights_pipeline.resources.settings import PipelineSettings
from jira_insights_pipeline.service.feedback import (
    COUNT_NAMES,
    FeedbackSnapshot,
    read_feedback,
)
from jira_insights_pipeline.use_case import UseCase

INSIGHTS_GROUP = "insights"
INSIGHTS_IO_MANAGER_KEY = "insights_io_manager"
INSIGHT_KINDS = {"python", "llama_cpp", "json"}

FEED_DESCRIPTION = (
    "Every current insight in one file, newest first, then most severe first, each marked new, "
    "worse, better or open against the previous day's feed, with the insights resolved since."
)


def _inputs(use_cases: Sequence[UseCase]) -> tuple[str, ...]:
    """Every table any use case's facts read, each once, in registry order."""
    return tuple(dict.fromkeys(t for use_case in use_cases for t in use_case.insight_inputs))


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
            f"### {document['severity'].upper()}: {markdown_escape(document['title'])}",
            f"*{markdown_escape(where)}*",
            "",
            markdown_escape(document["message"]),
            "",
            *[f"- {markdown_escape(item)}" for item in document["recommendations"]],
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


def feedback_markdown(feedback: FeedbackSnapshot, use_cases: Sequence[str]) -> str:
    """The team's feedback counts per use case, as the feed's metadata shows them."""
    rows = [
        "| use case | " + " | ".join(name.replace("_", " ") for name in COUNT_NAMES) + " |",
        "| --- |" + " --- |" * len(COUNT_NAMES),
    ]
    for use_case in use_cases:
        counts = feedback.counts_of(use_case)
        rows.append(f"| {use_case} | " + " | ".join(str(counts[n]) for n in COUNT_NAMES) + " |")
    return "\n".join(rows)


def _feedback_metadata(feedback: FeedbackSnapshot | None, use_case: str) -> dict[str, int]:
    """`feedback_helpful`, `feedback_not_helpful`, `feedback_dismissed`; nothing when the
    store could not be read."""
    if feedback is None:
        return {}
    return {f"feedback_{name}": count for name, count in feedback.counts_of(use_case).items()}


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


def build_insights_asset(use_cases: Sequence[UseCase]) -> dg.AssetsDefinition:
    """The one multi-asset of every use case's insight file and the feed."""
    inputs = _inputs(use_cases)
    metric_tables = {table for use_case in use_cases for table in use_case.tables}

    @dg.multi_asset(
        name="insights",
        group_name=INSIGHTS_GROUP,
        outs={
            **{
                use_case.insight_asset: dg.AssetOut(
                    io_manager_key=INSIGHTS_IO_MANAGER_KEY,
                    kinds=INSIGHT_KINDS,
                    description=use_case.insight_description,
                )
                for use_case in use_cases
            },
            FEED_ASSET: dg.AssetOut(
                io_manager_key=INSIGHTS_IO_MANAGER_KEY,
                kinds=INSIGHT_KINDS,
                description=FEED_DESCRIPTION,
            ),
        },
        ins={table: dg.AssetIn(key=table) for table in inputs},
        internal_asset_deps={
            **{
                use_case.insight_asset: {dg.AssetKey(t) for t in use_case.insight_inputs}
                for use_case in use_cases
            },
            FEED_ASSET: {dg.AssetKey(use_case.insight_asset) for use_case in use_cases},
        },
    )
    def insights(
        context: dg.AssetExecutionContext,
        llm: LlamaModelResource,
        thresholds: Thresholds,
        pipeline_settings: PipelineSettings,
        **tables: pd.DataFrame,
    ) -> Iterator[dg.MaterializeResult]:
        """The insight files of every use case and the feed of all of them. One insight: one
        board's (and sprint's) finding for one use case, with its facts, evidence, severity
        and change since the previous day's feed."""
        metric_frames = [frame for name, frame in tables.items() if name in metric_tables]
        current = MetricTables(as_of=latest_as_of(metric_frames), frames=tables)
        model = llm if llm.enabled else None
        # The published history: what earlier runs made current, never this run's own draft.
        previous = previous_feed(
            pipeline_settings.folder.insights_history,
            feed_day(current.as_of),
            warn=context.log.warning,
        )
        if previous is None:
            context.log.info("No earlier insight history: every change is left empty.")
        # The team's verdicts (the service's store), read-only; None when it cannot be read.
        feedback = read_feedback(pipeline_settings.folder.feedback, warn=context.log.warning)
        started = time.perf_counter()
        every_document: list[dict[str, Any]] = []
        for use_case in use_cases:
            facts = use_case.facts(current, use_case.thresholds_of(thresholds))
            written, stats = write_insights(facts, use_case.wording, model)
            documents = mark_changes([item.document for item in written], previous)
            every_document += documents
            context.log.info(
                f"{use_case.insight_asset}: {stats.insights} insights, {stats.model_written} "
                f"worded by the model, {len(stats.rejections)} model answers rejected."
            )
            metadata = _metadata(documents, written)
            metadata.update(_feedback_metadata(feedback, use_case.name))
            if model is not None:
                metadata["model_file"] = model.model_file_name or ""
                metadata["completion_tokens"] = stats.completion_tokens
            yield dg.MaterializeResult(
                asset_key=use_case.insight_asset,
                value=insight_document(use_case.insight_asset, current.as_of, documents),
                metadata=metadata,
            )
        feed = feed_order(every_document, use_case_names())
        gone = resolved(feed, previous)
        compared_with = None if previous is None else previous.day.isoformat()
        feed_metadata = _metadata(feed)
        feed_metadata["compared_with"] = compared_with or "none"
        feed_metadata.update(change_counts(feed, gone))
        if feedback is not None:
            feed_metadata["feedback"] = dg.MetadataValue.md(
                feedback_markdown(feedback, [use_case.name for use_case in use_cases])
            )
        feed_metadata["seconds"] = round(time.perf_counter() - started, 3)
        if model is not None and model.load_seconds is not None:
            feed_metadata["model_load_seconds"] = round(model.load_seconds, 3)
        yield dg.MaterializeResult(
            asset_key=FEED_ASSET,
            value=insight_document(
                FEED_ASSET, current.as_of, feed, compared_with=compared_with, resolved=gone
            ),
            metadata=feed_metadata,
        )

    return insights
