"""What a use case is: the contract each home under `assets/<use case>/` fills in once.

A `UseCase` names everything only that use case knows: its threshold section, its rules (the
boolean columns of its metric tables that decide a crossing), its metric assets, the facts its
insights may state and how they are worded, and its key figure on the report. The registry
(`registry.py`) lists the use cases; the checks, the insight assets, the alert sensor, the
report, the feed and the JSON Schemas are all derived from it, so none of the shared modules
names a use case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg

from jira_insights_pipeline.rules import Rule

if TYPE_CHECKING:
    from jira_insights_pipeline.insights.grounding import Draft
    from jira_insights_pipeline.insights.plans import Plans
    from jira_insights_pipeline.insights.tables import MetricTables
    from jira_insights_pipeline.insights.templates import Titles
    from jira_insights_pipeline.insights.values import InsightFacts
    from jira_insights_pipeline.report.charts import Chart
    from jira_insights_pipeline.report.figures import Figure


def no_charts(board_id: int, tables: MetricTables, thresholds: Any) -> list[Chart]:
    """The default of a use case that draws no chart."""
    return []


def no_trends(board_id: int, tables: MetricTables, thresholds: Any) -> list[str]:
    """The default of a use case that adds no trend line to the weekly digest."""
    return []


@dataclass(frozen=True)
class Wording:
    """How one use case's insights are worded: the sentence plans the model chooses among, the
    template used without the model, and what the prompt asks for."""

    plans: Callable[[InsightFacts, bool], Plans]
    template: Callable[[InsightFacts], Draft]
    titles: Titles
    topic: str
    task: str


@dataclass(frozen=True)
class UseCase:
    """One use case. `name` is its key in every file the pipeline writes (the insight `type`);
    `thresholds` its typed threshold section (`PipelineSettings.thresholds.<name>`)."""

    name: str
    label: str
    insight_description: str
    thresholds: type[dg.Config]
    rules: tuple[Rule, ...]
    assets: Sequence[dg.AssetsDefinition]
    # The tables its insight facts read (asset keys: metric and staging tables).
    insight_inputs: tuple[str, ...]
    facts: Callable[[MetricTables, Any], list[InsightFacts]]
    wording: Wording
    # The tables its report figure reads, and the figure of one board (None: nothing to show).
    report_inputs: tuple[str, ...]
    report_figure: Callable[[int, MetricTables, Any], Figure | None]
    # The charts of one board, drawn from the same report tables (report/charts.py).
    report_charts: Callable[[int, MetricTables, Any], list[Chart]] = no_charts
    # Lines of one board's weekly digest on how its figure moved, from the same report tables.
    digest_trends: Callable[[int, MetricTables, Any], list[str]] = no_trends
    # Rebuilt by the hourly run: its figures can change within a day and its alerts must follow.
    hourly: bool = False
    # Its daily-partitioned history tables (partitions.py): the same figures as of each day's
    # end, for trends. Apart from `assets`, whose tables are as of the snapshot.
    history_assets: Sequence[dg.AssetsDefinition] = ()
    # Words a question about this use case is likely to hold (lowercase; `ask` tolerates
    # typos), which narrow a plain-words question before the model chooses (ask.py).
    question_words: tuple[str, ...] = ()

    @property
    def insight_asset(self) -> str:
        """The insight asset and file name: `<name>_insights` (`<data>/insights/<it>.json`)."""
        return f"{self.name}_insights"

    @property
    def tables(self) -> tuple[str, ...]:
        """The metric tables this use case materializes."""
        return tuple(key.path[-1] for asset in self.assets for key in asset.keys)

    def thresholds_of(self, thresholds: dg.Config) -> Any:
        """This use case's section of the pipeline's `Thresholds`."""
        return getattr(thresholds, self.name)
