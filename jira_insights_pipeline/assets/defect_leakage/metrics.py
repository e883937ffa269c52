"""Defect leakage: where each bug was found (production or QA), whether it was linked to a story
that was already done, and per board and sprint how many bugs escaped to production.

A bug's environment comes from its labels first and its Environment field second, because labels
are the words teams choose on purpose ("prod-incident", "found-in-qa") while the Environment field
is free text that often describes a browser. When the evidence names both a production and a QA
environment, the bug counts as production: it was seen where customers are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.metrics.issue_history import (
    BUG_TYPE_PATTERN,
    DONE,
    SPRINT_COLUMNS,
    STORY_TYPE_PATTERN,
    names_matching,
    sprint_containing,
    sprint_windows,
    utc_column,
    utc_instant,
)
from jira_insights_pipeline.metrics.timeline import values_at

PRODUCTION = "production"
QA = "qa"
UNKNOWN = "unknown"
ENVIRONMENT_CLASSES = [PRODUCTION, QA, UNKNOWN]


# A label names an environment when, lower-cased with "_" and spaces read as "-", it is one of
# these words, optionally after a prefix such as "env-" or "found-in-".
_LABEL_PREFIX = r"(?:(?:env|environment|found-in|found|foundin|bug-in|seen-in)[-:=]?)?"
PRODUCTION_LABEL_PATTERN = (
    _LABEL_PREFIX + r"(?:production|prod|live|prod-incident|production-incident|prod-bug|"
    r"production-bug|incident-prod)"
)
QA_LABEL_PATTERN = (
    _LABEL_PREFIX + r"(?:qa|staging|stage|test|testing|uat|pre-prod|preprod|qa-bug|test-env)"
)
# In free text, whole words only; "pre-prod" is a QA environment, so it is removed before the
# production words are looked for.
QA_TEXT_PATTERN = r"\b(?:qa|staging|stage|test|testing|uat|pre-?prod(?:uction)?)\b"
PRE_PRODUCTION_TEXT_PATTERN = r"\bpre-?prod(?:uction)?\b"
PRODUCTION_TEXT_PATTERN = r"\b(?:production|prod|live)\b"


def classify_environments(bugs: pd.DataFrame) -> pd.DataFrame:
    """Each bug's environment class and the evidence for it.

    `bugs` has `issue_key`, `labels` (lists) and `environment` (text). Returns a frame indexed
    like `bugs` with `environment_class` (production, qa, unknown) and `environment_evidence`
    ("label: prod-incident", "environment: Production EU", or null when unknown).
    """
    labels = bugs[["labels"]].copy()
    labels["labels"] = labels["labels"].map(_as_list)
    exploded = labels.explode("labels").dropna(subset=["labels"])
    normalised = (
        exploded["labels"]
        .astype(str)
        .str.strip()
        .str.lower()
        .str.replace(r"[_\s]+", "-", regex=True)
    )
    production_label = normalised.str.fullmatch(PRODUCTION_LABEL_PATTERN)
    qa_label = normalised.str.fullmatch(QA_LABEL_PATTERN)
    first_production_label = exploded.loc[production_label, "labels"].groupby(level=0).first()
    first_qa_label = exploded.loc[qa_label, "labels"].groupby(level=0).first()

    text = bugs["environment"].astype(object).where(bugs["environment"].notna(), "").astype(str)
    lowered = text.str.lower()
    qa_text = lowered.str.contains(QA_TEXT_PATTERN, regex=True)
    without_pre_production = lowered.str.replace(PRE_PRODUCTION_TEXT_PATTERN, " ", regex=True)
    production_text = without_pre_production.str.contains(PRODUCTION_TEXT_PATTERN, regex=True)

    has_production_label = pd.Series(bugs.index.isin(first_production_label.index), bugs.index)
    has_qa_label = pd.Series(bugs.index.isin(first_qa_label.index), bugs.index)
    label_decides = has_production_label | has_qa_label
    text_production = ~label_decides & production_text
    text_qa = ~label_decides & ~production_text & qa_text

    environment_class = np.select(
        [has_production_label, has_qa_label, text_production, text_qa],
        [PRODUCTION, QA, PRODUCTION, QA],
        default=UNKNOWN,
    )
    short_text = text.str.strip().str.slice(0, 80)
    evidence = pd.Series([None] * len(bugs), index=bugs.index, dtype=object)
    evidence[has_production_label] = "label: " + first_production_label.reindex(
        bugs.index[has_production_label]
    ).astype(str)
    only_qa_label = has_qa_label & ~has_production_label
    evidence[only_qa_label] = "label: " + first_qa_label.reindex(bugs.index[only_qa_label]).astype(
        str
    )
    from_text = text_production | text_qa
    evidence[from_text] = "environment: " + short_text[from_text]
    return pd.DataFrame(
        {"environment_class": environment_class, "environment_evidence": evidence},
        index=bugs.index,
    )


def _as_list(value: object) -> list:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    if isinstance(value, str):
        return [value] if value else []
    return [value]


def defect_leakage(
    issues: pd.DataFrame,
    status_intervals: pd.DataFrame,
    issue_links: pd.DataFrame,
    sprints: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per bug created by `as_of`: its board and the sprint of that board during which
    it was created, its environment class and the evidence, the stories it is linked to, and
    which of them were already done (status category done) when the bug was created.

    Inputs are the staging tables jira_issues, jira_status_intervals, jira_issue_links and
    jira_sprints.
    """
    as_of = utc_instant(as_of)
    created = utc_column(issues["created"])
    is_bug = names_matching(issues["issue_type"], BUG_TYPE_PATTERN) & (created <= as_of)
    bugs = issues.loc[is_bug.to_numpy()].copy()
    bugs["created"] = created[is_bug]
    bugs = bugs.reset_index(drop=True)

    environments = classify_environments(bugs)
    bugs = bugs.join(environments)
    bugs = sprint_containing(bugs, sprint_windows(sprints, as_of), at="created")

    links = _bug_story_links(bugs, issues, issue_links)
    of_linked = status_intervals.loc[status_intervals["issue_key"].isin(links["story_key"])]
    statuses = of_linked[["issue_key", "status_category"]].assign(
        entered_at=utc_column(of_linked["entered_at"]),
        left_at=utc_column(of_linked["left_at"]),
    )
    links = values_at(
        statuses,
        links.rename(columns={"story_key": "issue_key", "bug_created": "at"}),
        start="entered_at",
        end="left_at",
        value_columns=["status_category"],
        key="issue_key",
    ).rename(columns={"issue_key": "story_key"})
    links["story_done"] = links["status_category"].eq(DONE).fillna(False).astype(bool)
    links = links.sort_values(["bug_key", "story_key"])
    linked = _group_lists(links["bug_key"], links["story_key"])
    done_links = links.loc[links["story_done"]]
    done = _group_lists(done_links["bug_key"], done_links["story_key"])

    keys = bugs["issue_key"]
    result = pd.DataFrame(
        {
            "as_of": as_of,
            "board_id": bugs["board_id"].astype("Int64"),
            "sprint_id": bugs["sprint_id"].astype("Int64"),
            "sprint_name": bugs["sprint_name"],
            "issue_key": keys.astype(str),
            "issue_type": bugs["issue_type"].astype(str),
            "summary": bugs["summary"],
            "created": bugs["created"],
            "environment_class": bugs["environment_class"],
            "environment_evidence": bugs["environment_evidence"],
            "linked_story_keys": _lists_for(keys, linked),
            "done_story_keys": _lists_for(keys, done),
        }
    )
    result["linked_stories"] = result["linked_story_keys"].map(len).astype("int64")
    result["linked_to_done_story"] = result["done_story_keys"].map(len).gt(0)
    # Production bugs first, those that slipped past a done story at the top.
    order = result.assign(
        _production=result["environment_class"].eq(PRODUCTION),
    ).sort_values(
        ["_production", "linked_to_done_story", "created", "issue_key"],
        ascending=[False, False, False, True],
    )
    return result.loc[order.index].reset_index(drop=True)


def _bug_story_links(
    bugs: pd.DataFrame, issues: pd.DataFrame, issue_links: pd.DataFrame
) -> pd.DataFrame:
    """(bug_key, story_key, bug_created) for every story linked to a bug, whichever side of the
    link the snapshot recorded it on."""
    columns = ["bug_key", "story_key", "bug_created"]
    if bugs.empty or issue_links.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).astype(
            {"bug_created": "datetime64[ns, UTC]"}
        )
    known_types = issues.set_index("issue_key")["issue_type"].astype(str)
    from_bug = issue_links[["issue_key", "linked_issue_key", "linked_issue_type"]].rename(
        columns={"issue_key": "bug_key", "linked_issue_key": "story_key", "linked_issue_type": "t"}
    )
    from_story = issue_links[["linked_issue_key", "issue_key"]].rename(
        columns={"linked_issue_key": "bug_key", "issue_key": "story_key"}
    )
    from_story["t"] = None
    pairs = pd.concat([from_bug, from_story], ignore_index=True)
    pairs = pairs.loc[pairs["bug_key"].isin(bugs["issue_key"])]
    story_type = pairs["story_key"].map(known_types).fillna(pairs["t"])
    pairs = pairs.loc[names_matching(story_type, STORY_TYPE_PATTERN).to_numpy()]
    pairs = pairs.drop_duplicates(["bug_key", "story_key"])[["bug_key", "story_key"]]
    pairs = pairs.loc[pairs["bug_key"] != pairs["story_key"]]
    pairs["bug_created"] = pairs["bug_key"].map(bugs.set_index("issue_key")["created"])
    return pairs.reset_index(drop=True)


def _group_lists(groups: pd.Series, values: pd.Series) -> pd.Series:
    """`values` gathered into one list per group, keeping their order, indexed by group. One
    split of a sorted array rather than a Python aggregation per group."""
    if groups.empty:
        return pd.Series(dtype=object)
    codes, distinct = pd.factorize(groups)
    order = np.argsort(codes, kind="stable")
    chunks = np.split(values.to_numpy()[order], np.cumsum(np.bincount(codes))[:-1])
    return pd.Series([chunk.tolist() for chunk in chunks], index=distinct, dtype=object)


def _lists_for(keys: pd.Series, lists: pd.Series) -> pd.Series:
    mapped = keys.map(lists)
    return mapped.map(lambda value: value if isinstance(value, list) else [])


def defect_escape_rates(
    leakage: pd.DataFrame,
    sprints: pd.DataFrame,
    as_of: pd.Timestamp,
    thresholds: DefectLeakageThresholds,
) -> pd.DataFrame:
    """One row per board and sprint started by `as_of`: the bugs created during the sprint on
    its board, split by environment, the escape rate production / (production + QA), the bugs
    linked to a story already done, and `leakage_alert` (escape rate above the threshold).

    `leakage` is the `defect_leakage` table; `sprints` the staging jira_sprints. A sprint with no
    production or QA bug has no escape rate (null) and never alerts.
    """
    as_of = utc_instant(as_of)
    windows = sprint_windows(sprints, as_of).dropna(subset=["board_id"])
    in_sprint = leakage.dropna(subset=["sprint_id"])
    environment = in_sprint["environment_class"]
    counts = (
        pd.DataFrame(
            {
                "sprint_id": in_sprint["sprint_id"].astype("int64"),
                "bugs_found": 1,
                "production_bugs": environment.eq(PRODUCTION).astype("int64"),
                "qa_bugs": environment.eq(QA).astype("int64"),
                "unknown_bugs": environment.eq(UNKNOWN).astype("int64"),
                "bugs_linked_to_done_stories": in_sprint["linked_to_done_story"].astype("int64"),
            }
        )
        .groupby("sprint_id")
        .sum()
    )
    rates = windows.join(counts, on="sprint_id")
    count_columns = list(counts.columns)
    rates[count_columns] = rates[count_columns].fillna(0).astype("int64")
    judged = rates["production_bugs"] + rates["qa_bugs"]
    rates["escape_rate"] = (rates["production_bugs"] / judged.where(judged > 0)).astype(float)
    rates["leakage_alert"] = rates["escape_rate"].gt(thresholds.escape_rate_alert)
    rates.insert(0, "as_of", as_of)
    rates = rates.sort_values(["board_id", "sprint_start", "sprint_id"]).reset_index(drop=True)
    return rates[
        [
            "as_of",
            *SPRINT_COLUMNS,
            "bugs_found",
            "production_bugs",
            "qa_bugs",
            "unknown_bugs",
            "escape_rate",
            "bugs_linked_to_done_stories",
            "leakage_alert",
        ]
    ]
