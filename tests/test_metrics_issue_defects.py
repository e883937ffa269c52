"""`defect_leakage` and `defect_escape_rates` (the defect-leakage use case,
`assets/defect_leakage/metrics.py`) on a hand-made site whose answers were worked out by
hand: each bug's environment class (labels before the Environment text, production winning over
QA, "pre-prod" being QA), the sprint of its board it was created in (gaps between sprints and
bugs on no board belong to none), whether a linked story was already done when the bug was
filed (a reopened story is not), and the per-sprint counts, escape rate and alert."""

from __future__ import annotations

import pandas as pd
import pytest
from metrics_issue_site import Site, t

from jira_insights_pipeline.assets.defect_leakage.metrics import (
    classify_environments,
    defect_escape_rates,
    defect_leakage,
)
from jira_insights_pipeline.assets.defect_leakage.schemas import (
    DefectEscapeRatesSchema,
    DefectLeakageSchema,
)
from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.validation import validate_table

AS_OF = t("2026-03-25 12:00")


def _site() -> Site:
    site = Site()
    site.boards.append({"board_id": 2, "name": "Quiet board"})
    site.sprint(101, "S1", "closed", "2026-03-02 09:00", "2026-03-16 09:00", "2026-03-16 10:00")
    site.sprint(102, "S2", "active", "2026-03-16 11:00", "2026-03-30 09:00")
    site.sprint(103, "S3", "future", None, None)
    site.sprint(201, "Q1", "closed", "2026-03-02 09:00", "2026-03-16 09:00", "2026-03-16 09:00", 2)
    # A-1 is done before any bug is filed against it; A-2 is done, reopened, and done again.
    site.issue("A-1", "2026-02-25").move("A-1", "2026-03-03", "In Progress")
    site.move("A-1", "2026-03-05 10:00", "Done")
    site.issue("A-2", "2026-02-25").move("A-2", "2026-03-04", "In Progress")
    site.move("A-2", "2026-03-12", "Done").move("A-2", "2026-03-13 09:00", "In Progress")
    site.move("A-2", "2026-03-18", "Done")
    site.issue("A-3", "2026-02-25", issue_type="Task")
    bug = {"issue_type": "Bug"}
    site.issue("A-10", "2026-03-06", labels=["prod-incident"], **bug).link("A-10", "A-1")
    site.issue("A-11", "2026-03-10", environment="QA server", **bug).link("A-11", "A-2")
    # Labels decide before the Environment text.
    site.issue("A-12", "2026-03-13 12:00", labels=["UAT"], environment="Production", **bug)
    site.link("A-12", "A-2", "Blocks")
    # Between S1's completion (10:00) and S2's start (11:00): no sprint.
    site.issue("A-13", "2026-03-16 10:30", environment="seen on prod", **bug)
    site.issue("A-14", "2026-03-17", environment="Chrome 120 on Windows", **bug)
    site.link("A-14", "A-2").link("A-14", "A-3")
    site.issue("A-15", "2026-03-20", labels=["team-x", "production"], **bug).link("A-15", "A-2")
    site.issue("A-16", "2026-03-21", environment="pre-prod cluster", **bug)
    site.issue("A-17", "2026-03-26", labels=["prod"], **bug)  # after "as of"
    site.issue("A-18", "2026-03-10", labels=["live"], board_id=None, **bug)
    return site


def _leakage(site: Site, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    tables = site.tables()
    return defect_leakage(
        tables["jira_issues"],
        tables["jira_status_intervals"],
        tables["jira_issue_links"],
        tables["jira_sprints"],
        as_of,
    )


def test_each_bug_gets_environment_sprint_and_done_stories() -> None:
    leakage = validate_table(DefectLeakageSchema, _leakage(_site()), "defect_leakage")
    rows = leakage.set_index("issue_key")
    assert sorted(rows.index) == [f"A-{n}" for n in range(10, 17)] + ["A-18"]
    assert rows["environment_class"].to_dict() == {
        "A-10": "production",
        "A-11": "qa",
        "A-12": "qa",
        "A-13": "production",
        "A-14": "unknown",
        "A-15": "production",
        "A-16": "qa",
        "A-18": "production",
    }
    assert rows.loc["A-12", "environment_evidence"] == "label: UAT"
    assert rows.loc["A-13", "environment_evidence"] == "environment: seen on prod"
    assert rows.loc["A-15", "environment_evidence"] == "label: production"
    assert pd.isna(rows.loc["A-14", "environment_evidence"])
    assert rows["sprint_id"].astype("Float64").fillna(-1).to_dict() == {
        "A-10": 101,
        "A-11": 101,
        "A-12": 101,
        "A-13": -1,
        "A-14": 102,
        "A-15": 102,
        "A-16": 102,
        "A-18": -1,
    }
    assert rows.loc["A-14", "sprint_name"] == "S2"
    assert pd.isna(rows.loc["A-18", "board_id"])
    # Links: tasks are not stories; A-2 was in progress again (reopened) when
    # were filed, and done again from 03-18, before A-15.
    assert list(rows.loc["A-14", "linked_story_keys"]) == ["A-2"]
    assert rows["done_story_keys"].map(list).to_dict() == {
        "A-10": ["A-1"],
        "A-11": [],
        "A-12": [],
        "A-13": [],
        "A-14": [],
        "A-15": ["A-2"],
        "A-16": [],
        "A-18": [],
    }
    assert rows["linked_to_done_story"].sum() == 2
    assert (rows["as_of"] == AS_OF).all()


def test_escape_rates_per_board_and_sprint() -> None:
    site = _site()
    rates = defect_escape_rates(
        _leakage(site), site.tables()["jira_sprints"], AS_OF, DefectLeakageThresholds()
    )
    rates = validate_table(DefectEscapeRatesSchema, rates, "defect_escape_rates")
    rows = rates.set_index("sprint_id")
    # The future sprint S3 has not started: no row. Board 2's sprint had no bug.
    assert sorted(rows.index) == [101, 102, 201]
    s1, s2, q1 = rows.loc[101], rows.loc[102], rows.loc[201]
    assert (s1.bugs_found, s1.production_bugs, s1.qa_bugs, s1.unknown_bugs) == (3, 1, 2, 0)
    assert s1.escape_rate == pytest.approx(1 / 3)
    assert s1.bugs_linked_to_done_stories == 1
    assert bool(s1.leakage_alert)
    assert (s2.bugs_found, s2.production_bugs, s2.qa_bugs, s2.unknown_bugs) == (3, 1, 1, 1)
    assert s2.escape_rate == pytest.approx(0.5)
    assert s2.sprint_state == "active"
    assert s2.sprint_end == AS_OF
    assert (q1.bugs_found, q1.production_bugs) == (0, 0)
    assert pd.isna(q1.escape_rate)
    assert not bool(q1.leakage_alert)
    # A higher threshold silences S1 (1/3) but not S2 (1/2).
    lenient = defect_escape_rates(
        _leakage(site),
        site.tables()["jira_sprints"],
        AS_OF,
        DefectLeakageThresholds(escape_rate_alert=0.4),
    ).set_index("sprint_id")
    assert lenient["leakage_alert"].to_dict() == {101: False, 102: True, 201: False}


def test_an_earlier_as_of_sees_the_site_as_it_was() -> None:
    site = _site()
    as_of = t("2026-03-15 00:00")
    leakage = _leakage(site, as_of)
    assert sorted(leakage["issue_key"]) == ["A-10", "A-11", "A-12", "A-18"]
    rates = defect_escape_rates(
        leakage, site.tables()["jira_sprints"], as_of, DefectLeakageThresholds()
    )
    rows = rates.set_index("sprint_id")
    assert sorted(rows.index) == [101, 201]
    assert rows.loc[101, "sprint_state"] == "active"
    assert rows.loc[101, "sprint_end"] == as_of
    assert rows.loc[101, "bugs_found"] == 3


def test_environment_words() -> None:
    bugs = pd.DataFrame(
        {
            "labels": [
                ["Prod"],
                ["env:production"],
                ["found_in_qa"],
                ["staging", "prod-incident"],
                ["frontend"],
                [],
                [],
                [],
                [],
                ["testing-needed"],
            ],
            "environment": [
                None,
                None,
                None,
                None,
                "LIVE site",
                "UAT, later seen in production",
                "pre-production",
                "product page",
                None,
                None,
            ],
        }
    )
    classes = classify_environments(bugs)["environment_class"].tolist()
    assert classes == [
        "production",
        "production",
        "qa",
        "production",
        "production",
        "production",
        "qa",
        "unknown",
        "unknown",
        "unknown",
    ]
