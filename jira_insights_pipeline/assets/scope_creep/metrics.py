"""`sprint_scope_creep`: per sprint, how many committed stories grew, and the scope-creep rule.

The counts come from the sprint ledger (`sprint_commitments`, summed from `sprint_scope_changes`),
so this table never recounts a story; it adds the one column that decides the rule.
"""

from __future__ import annotations

import pandas as pd

from jira_insights_pipeline.assets.scope_creep.thresholds import ScopeCreepThresholds
from jira_insights_pipeline.metrics.issue_history import SPRINT_COLUMNS

SCOPE_CREEP_COLUMNS = [
    *SPRINT_COLUMNS,
    "estimated_committed_stories",
    "grown_stories",
    "grown_story_share",
    "added_issues",
    "added_points",
    "scope_creep_alert",
    "as_of",
]


def sprint_scope_creep(
    sprint_commitments: pd.DataFrame, thresholds: ScopeCreepThresholds
) -> pd.DataFrame:
    """One row per sprint of `sprint_commitments`: its estimated committed stories, how many
    grew, their share, the work added after the start, and `scope_creep_alert` (the share above
    `grown_story_share_alert`; a sprint with no estimated committed story never alerts)."""
    table = sprint_commitments.loc[:, SCOPE_CREEP_COLUMNS[:-2]].copy()
    table["scope_creep_alert"] = (
        table["grown_story_share"].gt(thresholds.grown_story_share_alert).astype(bool)
    )
    table["as_of"] = sprint_commitments["as_of"]
    return table.reset_index(drop=True)


def worst_scope_creep(table: pd.DataFrame, rows: int = 10) -> pd.DataFrame:
    """Alerting sprints first, then the largest share of grown stories."""
    ranked = table.sort_values(
        ["scope_creep_alert", "grown_story_share"],
        ascending=[False, False],
        na_position="last",
        kind="stable",
    )
    return ranked.head(rows)[
        ["board_id", "sprint_name", "sprint_state", *SCOPE_CREEP_COLUMNS[6:-1]]
    ]
