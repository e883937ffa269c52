"""Why bugs escaped to production: the defect-leakage diagnosis behind the insight.

`escape_causes` takes every production bug of `defect_leakage` that is linked to a story (the
links as `defect_leakage` reads them) and traces it to one story: the linked story that was
done when the bug was created, the one done last before the bug if several were (the most
recent change is the likeliest source), else the first linked story by key. For that story:

- its Done instant: its last move into the Done category at or before the bug's creation (null
  when it was not done then, so the bug did not slip past a Done);
- the days from that Done to the bug's creation;
- tested: before its Done (before the bug's creation when not done) it entered a testing
  status, one of the In Progress category that is not the board's first in-progress status
  (`metrics.workflow`) or that is named like review, QA or test; statuses named like Blocked
  never count, since being held up is not testing. A story done without one skipped testing.

and the bug's epic (the story's when the bug has none: the bug belongs to that feature's work),
components and labels, the environment labels left out (every production bug carries one, so
they would always cluster).

`escape_clusters` sums, per board and judged sprint (the leakage rule's: the running and latest
closed sprint), the traced production bugs, how many came from stories done without a testing
status and their share, and the largest cluster: the component, epic or label shared by the
most traced bugs, at least `MIN_CLUSTER_BUGS` (one bug is no pattern); ties go to component,
then epic, then label (the narrowest owner first), then to the name first in alphabetical
order. The leading cause is skipped testing when at least as many bugs came from untested
stories as sit in the largest cluster (a team controls its Done directly), else the cluster.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.defect_leakage.metrics import (
    PRODUCTION,
    PRODUCTION_LABEL_PATTERN,
    QA_LABEL_PATTERN,
)
from jira_insights_pipeline.metrics.blocking import BLOCKED_STATUS_PATTERN
from jira_insights_pipeline.metrics.issue_history import (
    DONE,
    IN_PROGRESS,
    SPRINT_COLUMNS,
    names_matching,
    recent_sprints,
    utc_column,
    utc_instant,
)
from jira_insights_pipeline.metrics.workflow import first_in_progress_statuses

# Status names that are testing whatever the board's order ("In Review", "QA", "Testing",
# "Code Review", "UAT"); matched anywhere in the name, case-insensitive.
TESTING_STATUS_PATTERN = r"review|\bqa\b|test|verif|\buat\b|prüf|recette|测试|テスト"

COMPONENT = "component"
EPIC = "epic"
LABEL = "label"
# Ties of the largest cluster go to the narrowest owner: a component has a team that tests it.
CLUSTER_KINDS = [COMPONENT, EPIC, LABEL]
MIN_CLUSTER_BUGS = 2

SKIPPED_TESTING = "skipped_testing"
CLUSTER = "cluster"
LEADING_CAUSES = [SKIPPED_TESTING, CLUSTER]

CAUSE_COLUMNS = [
    "as_of",
    *SPRINT_COLUMNS[:3],
    "bug_key",
    "bug_created",
    "story_key",
    "linked_story_keys",
    "story_done_at",
    "days_done_to_bug",
    "tested",
    "testing_statuses",
    "epic_key",
    "components",
    "labels",
]


def testing_statuses(
    intervals: pd.DataFrame, first_in_progress: pd.Series, board_of: pd.Series
) -> pd.Series:
    """Which status intervals are in a testing status: In Progress category, not named like
    Blocked, and either not the issue's board's first in-progress status or named like review,
    QA or test. `board_of` maps issue_key to board_id."""
    status = intervals["status"].astype(object)
    in_progress = intervals["status_category"].eq(IN_PROGRESS).fillna(False).to_numpy(dtype=bool)
    held_up = names_matching(status, BLOCKED_STATUS_PATTERN).to_numpy()
    named = names_matching(status, TESTING_STATUS_PATTERN).to_numpy()
    first = intervals["issue_key"].map(board_of).map(first_in_progress).to_numpy(dtype=object)
    # Without a known first status (no issue of the board ever started) only the name decides.
    after_first = pd.notna(first) & (status.to_numpy(dtype=object) != first)
    return pd.Series(in_progress & ~held_up & (after_first | named), index=intervals.index)


def escape_causes(
    leakage: pd.DataFrame,
    issues: pd.DataFrame,
    status_intervals: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per production bug of `leakage` (the `defect_leakage` table) linked to a story:
    the story it traces to, that story's Done before the bug and the days from it, whether the
    story passed a testing status before it (and which), and the bug's epic, components and
    labels. Inputs besides `leakage` are the staging jira_issues and jira_status_intervals."""
    as_of = utc_instant(as_of)
    bugs = leakage.loc[
        leakage["environment_class"].eq(PRODUCTION).to_numpy()
        & leakage["linked_story_keys"].map(len).gt(0).to_numpy()
    ]
    if bugs.empty:
        return _empty_causes()
    pairs = bugs[["issue_key", "created", "linked_story_keys"]].explode("linked_story_keys")
    pairs = pairs.rename(
        columns={"issue_key": "bug_key", "created": "bug_created", "linked_story_keys": "story_key"}
    ).reset_index(drop=True)
    pairs["bug_created"] = utc_column(pairs["bug_created"])

    story_keys = set(pairs["story_key"])
    history = status_intervals.loc[status_intervals["issue_key"].isin(story_keys)]
    history = pd.DataFrame(
        {
            "issue_key": history["issue_key"].astype(str).to_numpy(),
            "status": history["status"].astype(str).to_numpy(),
            "status_category": history["status_category"].astype(object).to_numpy(),
            "entered_at": utc_column(history["entered_at"]).to_numpy(),
        }
    )
    history = history.loc[(history["entered_at"] <= as_of).to_numpy()]
    board_of = issues.set_index("issue_key")["board_id"].astype("Int64")
    first = first_in_progress_statuses(issues, status_intervals, as_of)
    history["testing"] = testing_statuses(history, first, board_of).to_numpy()

    # The story's last entry into Done at or before the bug (an interval in Done entered then).
    done = history.loc[history["status_category"].eq(DONE).fillna(False).to_numpy(dtype=bool)]
    done_pairs = pairs.reset_index(names="_pair").merge(
        done[["issue_key", "entered_at"]], left_on="story_key", right_on="issue_key"
    )
    done_pairs = done_pairs.loc[done_pairs["entered_at"] <= done_pairs["bug_created"]]
    last_done = done_pairs.groupby("_pair")["entered_at"].max()
    pairs["story_done_at"] = pd.Series(last_done, dtype="datetime64[ns, UTC]").reindex(pairs.index)
    pairs = _one_story_per_bug(pairs)

    # Testing statuses entered before the Done (or before the bug when the story was not done).
    limit = pairs["story_done_at"].fillna(pairs["bug_created"])
    seen = (
        pairs[["bug_key", "story_key"]]
        .assign(_limit=limit)
        .merge(
            history.loc[history["testing"], ["issue_key", "status", "entered_at"]],
            left_on="story_key",
            right_on="issue_key",
        )
    )
    seen = seen.loc[seen["entered_at"] < seen["_limit"]].sort_values(["bug_key", "entered_at"])
    seen = seen.drop_duplicates(["bug_key", "status"])
    statuses = seen.groupby("bug_key")["status"].agg(list)
    pairs["testing_statuses"] = pairs["bug_key"].map(statuses)
    pairs["testing_statuses"] = pairs["testing_statuses"].map(
        lambda value: value if isinstance(value, list) else []
    )
    pairs["tested"] = pairs["testing_statuses"].map(len).gt(0)
    pairs["days_done_to_bug"] = (
        (pairs["bug_created"] - pairs["story_done_at"]) / pd.Timedelta(days=1)
    ).astype(float)

    facts = issues.set_index("issue_key")
    bug_epic = pairs["bug_key"].map(facts["epic_key"])
    pairs["epic_key"] = bug_epic.fillna(pairs["story_key"].map(facts["epic_key"]))
    pairs["components"] = pairs["bug_key"].map(facts["components"]).map(_names)
    pairs["labels"] = pairs["bug_key"].map(facts["labels"]).map(_cluster_labels)

    sprint = bugs.set_index("issue_key")
    pairs["board_id"] = pairs["bug_key"].map(sprint["board_id"]).astype("Int64")
    pairs["sprint_id"] = pairs["bug_key"].map(sprint["sprint_id"]).astype("Int64")
    pairs["sprint_name"] = pairs["bug_key"].map(sprint["sprint_name"])
    pairs["linked_story_keys"] = pairs["bug_key"].map(sprint["linked_story_keys"]).map(list)
    pairs["as_of"] = as_of
    pairs = pairs.sort_values(["board_id", "sprint_id", "bug_key"], na_position="last")
    return pairs[CAUSE_COLUMNS].reset_index(drop=True)


def _one_story_per_bug(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per bug, the story done last before it, else the first linked story by key."""
    ordered = pairs.assign(_done=pairs["story_done_at"].notna()).sort_values(
        ["bug_key", "_done", "story_done_at", "story_key"],
        ascending=[True, False, False, True],
        na_position="last",
    )
    return ordered.drop_duplicates("bug_key").drop(columns="_done").reset_index(drop=True)


def _names(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    values = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(values, str):
        return [values] if values else []
    return sorted({str(v) for v in values if v is not None and str(v)})


def _cluster_labels(value: object) -> list[str]:
    """The labels that can cluster: those naming an environment left out."""
    normalised = pd.Series(_names(value), dtype=object)
    if normalised.empty:
        return []
    form = normalised.str.strip().str.lower().str.replace(r"[_\s]+", "-", regex=True)
    environment = form.str.fullmatch(PRODUCTION_LABEL_PATTERN) | form.str.fullmatch(
        QA_LABEL_PATTERN
    )
    return normalised.loc[~environment.to_numpy(dtype=bool)].tolist()


def _empty_causes() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in CAUSE_COLUMNS})
    return frame.astype(
        {
            "as_of": "datetime64[ns, UTC]",
            "board_id": "Int64",
            "sprint_id": "Int64",
            "bug_created": "datetime64[ns, UTC]",
            "story_done_at": "datetime64[ns, UTC]",
            "days_done_to_bug": float,
            "tested": bool,
        }
    )


CLUSTER_COLUMNS = [
    "as_of",
    *SPRINT_COLUMNS,
    "production_bugs",
    "traced_bugs",
    "untested_bugs",
    "untested_share",
    "untested_bug_keys",
    "untested_story_keys",
    "cluster_kind",
    "cluster_name",
    "cluster_bugs",
    "cluster_bug_keys",
    "leading_cause",
]


def escape_clusters(
    causes: pd.DataFrame, escape_rates: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """One row per board and judged sprint of `escape_rates` (the `defect_escape_rates` table;
    the running and latest closed sprint): its production bugs, those traced to a story (the
    `escape_causes` table), how many came from stories done without a testing status and their
    share of the traced, the largest component, epic or label cluster, and the leading cause."""
    as_of = utc_instant(as_of)
    judged = recent_sprints(escape_rates) if not escape_rates.empty else escape_rates
    rows = []
    for sprint in judged.itertuples(index=False):
        of_sprint = causes.loc[causes["sprint_id"].eq(sprint.sprint_id).fillna(False).to_numpy()]
        untested = of_sprint.loc[
            (of_sprint["story_done_at"].notna() & ~of_sprint["tested"].astype(bool)).to_numpy()
        ]
        traced = len(of_sprint)
        kind, name, members = _largest_cluster(of_sprint)
        untested_bugs = len(untested)
        cluster_bugs = len(members)
        if untested_bugs > 0 and untested_bugs >= cluster_bugs:
            leading: str | None = SKIPPED_TESTING
        elif cluster_bugs > 0:
            leading = CLUSTER
        else:
            leading = None
        rows.append(
            {
                "as_of": as_of,
                **{column: getattr(sprint, column) for column in SPRINT_COLUMNS},
                "production_bugs": int(sprint.production_bugs),
                "traced_bugs": traced,
                "untested_bugs": untested_bugs,
                "untested_share": untested_bugs / traced if traced else np.nan,
                "untested_bug_keys": sorted(untested["bug_key"]),
                "untested_story_keys": sorted(set(untested["story_key"])),
                "cluster_kind": kind,
                "cluster_name": name,
                "cluster_bugs": cluster_bugs,
                "cluster_bug_keys": members,
                "leading_cause": leading,
            }
        )
    if not rows:
        frame = pd.DataFrame({column: pd.Series(dtype=object) for column in CLUSTER_COLUMNS})
        return frame.astype(
            {
                "as_of": "datetime64[ns, UTC]",
                "board_id": "Int64",
                "sprint_id": "int64",
                "sprint_start": "datetime64[ns, UTC]",
                "sprint_end": "datetime64[ns, UTC]",
                "production_bugs": "int64",
                "traced_bugs": "int64",
                "untested_bugs": "int64",
                "untested_share": float,
                "cluster_bugs": "int64",
            }
        )
    table = pd.DataFrame(rows, columns=CLUSTER_COLUMNS)
    table["board_id"] = table["board_id"].astype("Int64")
    table["untested_share"] = table["untested_share"].astype(float)
    for column in ("sprint_id", "production_bugs", "traced_bugs", "untested_bugs", "cluster_bugs"):
        table[column] = table[column].astype("int64")
    return table.sort_values(["board_id", "sprint_start", "sprint_id"]).reset_index(drop=True)


def _largest_cluster(causes: pd.DataFrame) -> tuple[str | None, str | None, list[str]]:
    """(kind, name, bug keys) of the component, epic or label most traced bugs share, at least
    `MIN_CLUSTER_BUGS`; (None, None, []) when none is shared that often."""
    best: tuple[int, int, str, str, list[str]] | None = None
    for rank, (kind, values) in enumerate(
        (
            (COMPONENT, causes["components"]),
            (EPIC, causes["epic_key"].map(lambda v: [] if pd.isna(v) else [str(v)])),
            (LABEL, causes["labels"]),
        )
    ):
        members: dict[str, list[str]] = {}
        for bug, names in zip(causes["bug_key"], values, strict=True):
            for name in names:
                members.setdefault(str(name), []).append(str(bug))
        for name, bugs in members.items():
            candidate = (-len(bugs), rank, name, kind, sorted(bugs))
            if len(bugs) >= MIN_CLUSTER_BUGS and (best is None or candidate[:3] < best[:3]):
                best = candidate
    if best is None:
        return None, None, []
    return best[3], best[2], best[4]
