"""The defect-leakage diagnosis (`assets/defect_leakage/diagnosis.py`): why bugs escaped to
production (issue 11, item 4).

An escape insight that only names the stories the bugs came from leaves the Scrum Master to
guess what those stories have in common. These tests pin what the diagnosis says against
counts made without it:
- on the sample site, every PAY production bug linked to a story: the story (the one done last
  before the bug), its last move into Done before the bug, the days from it, and the testing
  statuses it passed first (PAY's workflow, PLANTED.md: To Do, In Progress, Blocked, In Review,
  QA, Done, so In Review and QA test) equal a hand count over the snapshot JSON in plain
  Python, and so do PAY Sprint 26's and 27's cluster rows;
- on hand-made histories, the rules: a story moved from In Progress straight to Done skipped
  testing, Blocked is not testing, a status named like review tests wherever it sits, the story
  done last before the bug is the one it traces to, environment labels never cluster, and
  ties of the leading cause go to skipped testing;
- the real sites of tests/data have no production bug linked to a story, so their diagnosis
  tables are empty and valid;
- the PAY Sprint 26 insight (model off) leads with its largest cause and its figures, advises
  from it, and every answer its plans allow passes the grounding checks.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from metrics_issue_site import Site, t
from test_sample_generator import environment_class, shipped_site

from jira_insights_pipeline.assets.defect_leakage.diagnosis import (
    SKIPPED_TESTING,
    escape_causes,
    escape_clusters,
)
from jira_insights_pipeline.assets.defect_leakage.metrics import (
    defect_escape_rates,
    defect_leakage,
)
from jira_insights_pipeline.assets.defect_leakage.schemas import (
    EscapeCausesSchema,
    EscapeClustersSchema,
)
from jira_insights_pipeline.assets.defect_leakage.thresholds import DefectLeakageThresholds
from jira_insights_pipeline.assets.defect_leakage.wording import CAUSE_ADVICE
from jira_insights_pipeline.insights.engine import write_insight
from jira_insights_pipeline.insights.grounding import (
    check_draft,
    fill_draft,
    parse_draft,
    validate_draft,
)
from jira_insights_pipeline.insights.plans import plan_answers, plans_for
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.parsing.staging import build_staging_tables
from jira_insights_pipeline.registry import use_case
from jira_insights_pipeline.sample import SITE_DIR
from jira_insights_pipeline.snapshot import load_snapshot
from jira_insights_pipeline.validation import validate_table

DATA = Path(__file__).parent / "data"
THRESHOLDS = DefectLeakageThresholds()
LEAKAGE = use_case("defect_leakage")
# PAY's workflow (PLANTED.md): the statuses after its first in-progress column, Blocked aside.
PAY_TESTING = {"In Review", "QA"}


def _diagnosis(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    leakage = defect_leakage(
        tables["jira_issues"],
        tables["jira_status_intervals"],
        tables["jira_issue_links"],
        tables["jira_sprints"],
        as_of,
    )
    rates = defect_escape_rates(leakage, tables["jira_sprints"], as_of, THRESHOLDS)
    causes = escape_causes(leakage, tables["jira_issues"], tables["jira_status_intervals"], as_of)
    return {
        **tables,
        "defect_leakage": leakage,
        "defect_escape_rates": rates,
        "escape_causes": validate_table(EscapeCausesSchema, causes, "escape_causes"),
        "escape_clusters": validate_table(
            EscapeClustersSchema, escape_clusters(causes, rates, as_of), "escape_clusters"
        ),
    }


@cache
def _tables(root: str) -> dict[str, pd.DataFrame]:
    """The staging tables of a snapshot folder and the defect-leakage tables built from them."""
    tables = build_staging_tables(load_snapshot(Path(root))).tables()
    return _diagnosis(tables, tables["jira_snapshot"]["exported_at"].iloc[0])


# ---------------------------------------------------------------------------------------------
# The sample site: PAY's production bugs and the stories they came from
# ---------------------------------------------------------------------------------------------


def _hand_count() -> dict[str, dict[str, Any]]:
    """Per PAY production bug linked to a story, from the snapshot JSON: the story done last
    before the bug (else the first by key), that Done, the days to the bug and the testing
    statuses the story entered before it."""
    site = shipped_site()
    names = {s["id"]: s["name"] for s in site.statuses}
    categories = site.categories
    by_key = {issue.key: issue for issue in site.issues}
    found: dict[str, dict[str, Any]] = {}
    for bug in site.board_issues("PAY"):
        if bug.kind != "Bug" or environment_class(bug) != "production":
            continue
        linked = sorted(
            {
                side["key"]
                for link in bug.fields["issuelinks"]
                for side in (link.get("inwardIssue"), link.get("outwardIssue"))
                if side and side["key"] in by_key and by_key[side["key"]].kind == "Story"
            }
        )
        if not linked:
            continue
        dones: dict[str, datetime | None] = {}
        for key in linked:
            moves = by_key[key].changes.get("status", [])
            entered = [c.at for c in moves if categories[c.new] == "done" and c.at <= bug.created]
            dones[key] = max(entered) if entered else None
        done_ones = [key for key in linked if dones[key] is not None]
        story = max(done_ones, key=lambda k: (dones[k], k)) if done_ones else linked[0]
        done = dones[story]
        limit = done or bug.created
        testing: list[str] = []
        for change in by_key[story].changes.get("status", []):
            name = names[change.new]
            if change.at < limit and name in PAY_TESTING and name not in testing:
                testing.append(name)
        found[bug.key] = {
            "story": story,
            "done": done,
            "days": None if done is None else (bug.created - done).total_seconds() / 86400,
            "testing": testing,
            "components": sorted(c["name"] for c in bug.fields["components"]),
        }
    return found


def test_pay_escape_causes_equal_the_hand_count() -> None:
    expected = _hand_count()
    causes = _tables(str(SITE_DIR))["escape_causes"]
    pay = causes.loc[causes["bug_key"].str.startswith("PAY-")].set_index("bug_key")
    assert set(pay.index) == set(expected)
    assert len(expected) == 17
    for key, hand in expected.items():
        row = pay.loc[key]
        assert row["story_key"] == hand["story"], key
        assert row["story_done_at"].to_pydatetime() == hand["done"], key
        assert row["days_done_to_bug"] == pytest.approx(hand["days"], abs=1e-6), key
        assert list(row["testing_statuses"]) == hand["testing"], key
        assert bool(row["tested"]) == bool(hand["testing"]), key
        assert list(row["components"]) == hand["components"], key
    # PLANTED.md: every traced story was marked done straight from In Progress, without In
    # Review or QA, and every escaped bug is in the Gateway component.
    assert all(hand["done"] and hand["testing"] == [] for hand in expected.values())
    assert {tuple(hand["components"]) for hand in expected.values()} == {("Gateway",)}
    # PLANTED.md: PAY Sprint 26's bugs PAY-195 and PAY-198 came from PAY-124 and PAY-165.
    assert (pay.loc["PAY-195", "story_key"], pay.loc["PAY-198", "story_key"]) == (
        "PAY-124",
        "PAY-165",
    )
    assert round(pay.loc["PAY-195", "days_done_to_bug"], 1) == 9.3
    assert round(pay.loc["PAY-198", "days_done_to_bug"], 1) == 3.3


@pytest.mark.parametrize(
    ("sprint", "bugs"),
    [("PAY Sprint 26", ["PAY-195", "PAY-198"]), ("PAY Sprint 27", ["PAY-216", "PAY-217"])],
)
def test_pay_judged_sprints_skipped_testing_in_gateway(sprint: str, bugs: list[str]) -> None:
    clusters = _tables(str(SITE_DIR))["escape_clusters"].set_index("sprint_name")
    row = clusters.loc[sprint]
    hand = {key: value for key, value in _hand_count().items() if key in bugs}
    untested = [key for key, value in hand.items() if value["done"] and not value["testing"]]
    assert (
        (row["production_bugs"], row["traced_bugs"], row["untested_bugs"])
        == (
            2,
            len(hand),
            len(untested),
        )
        == (2, 2, 2)
    )
    assert row["untested_share"] == 1.0
    assert list(row["untested_bug_keys"]) == bugs
    assert (row["cluster_kind"], row["cluster_name"], row["cluster_bugs"]) == (
        "component",
        "Gateway",
        2,
    )
    assert list(row["cluster_bug_keys"]) == bugs
    # As many bugs skipped testing as cluster: the team's own Done leads.
    assert row["leading_cause"] == SKIPPED_TESTING
    # Boards without production bugs have no cause to lead with.
    quiet = clusters.loc[~clusters.index.str.startswith("PAY")]
    assert quiet["traced_bugs"].eq(0).all() and quiet["leading_cause"].isna().all()


# ---------------------------------------------------------------------------------------------
# The rules, on hand-made histories
# ---------------------------------------------------------------------------------------------

AS_OF = t("2026-03-25 12:00")


def _site() -> Site:
    site = Site()
    site.sprint(101, "S1", "closed", "2026-03-02 09:00", "2026-03-16 09:00", "2026-03-16 10:00")
    site.sprint(102, "S2", "active", "2026-03-16 11:00", "2026-03-30 09:00")
    # Four stories start in In Progress, so that is the board's first in-progress column.
    # A-1 goes straight to Done; A-2 waits in Blocked, then Done (still untested).
    site.issue("A-1", "2026-02-25").move("A-1", "2026-03-03", "In Progress")
    site.move("A-1", "2026-03-05 10:00", "Done")
    site.issue("A-2", "2026-02-25").move("A-2", "2026-03-03", "In Progress")
    site.move("A-2", "2026-03-04", "Blocked").move("A-2", "2026-03-06", "Done")
    # A-3 passes In Review; A-4 passes In Testing only after its first Done and is done again.
    site.issue("A-3", "2026-02-25").move("A-3", "2026-03-03", "In Progress")
    site.move("A-3", "2026-03-04", "In Review").move("A-3", "2026-03-05", "Done")
    site.issue("A-4", "2026-02-25").move("A-4", "2026-03-03", "In Progress")
    site.move("A-4", "2026-03-04", "Done").move("A-4", "2026-03-20", "In Testing")
    site.move("A-4", "2026-03-21", "Done")
    bug = {"issue_type": "Bug"}
    site.issue("A-10", "2026-03-08", labels=["prod-incident", "checkout"], **bug)
    site.link("A-10", "A-1")
    site.issue("A-11", "2026-03-09", labels=["production", "checkout"], **bug)
    site.link("A-11", "A-2")
    site.issue("A-12", "2026-03-10", labels=["production", "checkout"], **bug)
    site.link("A-12", "A-3")
    # Linked to A-1 (done 03-05) and A-4 (done 03-04): traced to A-1, the one done last.
    site.issue("A-13", "2026-03-11", labels=["production"], **bug).link("A-13", "A-1")
    site.link("A-13", "A-4")
    # Filed in S2 against A-4 after its second Done: the In Testing before it counts.
    site.issue("A-14", "2026-03-22", labels=["production"], **bug).link("A-14", "A-4")
    return site


def _site_tables() -> dict[str, pd.DataFrame]:
    return _diagnosis(_site().tables(), AS_OF)


def test_testing_statuses_and_the_story_a_bug_traces_to() -> None:
    causes = _site_tables()["escape_causes"].set_index("bug_key")
    assert causes["story_key"].to_dict() == {
        "A-10": "A-1",
        "A-11": "A-2",
        "A-12": "A-3",
        "A-13": "A-1",
        "A-14": "A-4",
    }
    assert {key: list(v) for key, v in causes["testing_statuses"].items()} == {
        "A-10": [],
        "A-11": [],  # Blocked is not testing
        "A-12": ["In Review"],
        "A-13": [],
        "A-14": ["In Testing"],
    }
    assert causes.loc["A-10", "days_done_to_bug"] == pytest.approx(2 + 14 / 24)
    assert causes.loc["A-14", "story_done_at"] == t("2026-03-21")
    assert list(causes.loc["A-13", "linked_story_keys"]) == ["A-1", "A-4"]
    # Environment labels never cluster: every production bug carries one.
    assert list(causes.loc["A-10", "labels"]) == ["checkout"]
    assert list(causes.loc["A-13", "labels"]) == []


def test_skipped_testing_leads_a_tie_with_a_cluster() -> None:
    clusters = _site_tables()["escape_clusters"].set_index("sprint_name")
    s1 = clusters.loc["S1"]
    # came from untested stories; share "checkout".
    assert (s1["traced_bugs"], s1["untested_bugs"], s1["cluster_bugs"]) == (4, 3, 3)
    assert list(s1["untested_bug_keys"]) == ["A-10", "A-11", "A-13"]
    assert list(s1["untested_story_keys"]) == ["A-1", "A-2"]
    assert (s1["cluster_kind"], s1["cluster_name"]) == ("label", "checkout")
    assert s1["untested_share"] == pytest.approx(0.75)
    assert s1["leading_cause"] == SKIPPED_TESTING
    # One bug is no cluster; A-4 was tested before the Done that A-14 followed.
    s2 = clusters.loc["S2"]
    assert (s2["traced_bugs"], s2["untested_bugs"], s2["cluster_bugs"]) == (1, 0, 0)
    assert pd.isna(s2["cluster_kind"]) and pd.isna(s2["leading_cause"])


@pytest.mark.parametrize(
    "site", ["actionableagile_site", "devlake_site", "kanalyzer_site", "live_improvingflow"]
)
def test_real_sites_have_no_linked_production_bugs(site: str) -> None:
    tables = _tables(str(DATA / site))
    assert tables["escape_causes"].empty
    assert tables["escape_clusters"]["traced_bugs"].eq(0).all()


# ---------------------------------------------------------------------------------------------
# The insight
# ---------------------------------------------------------------------------------------------


def _items(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    metric_tables = MetricTables(
        tables["jira_snapshot"]["exported_at"].iloc[0].isoformat()
        if "jira_snapshot" in tables
        else AS_OF.isoformat(),
        {name: tables[name] for name in LEAKAGE.insight_inputs if name in tables},
    )
    return {item.sprint_name: item for item in LEAKAGE.facts(metric_tables, THRESHOLDS)}


def test_pay_sprint_26_insight_leads_with_its_largest_cause() -> None:
    items = _items(_tables(str(SITE_DIR)))
    pay = items["PAY Sprint 26"]
    document = write_insight(pay, LEAKAGE.wording, None).document
    assert document["severity"] == "error"
    assert document["message"] == (
        "Both production bugs from PAY Sprint 26 came from stories marked done without a "
        "testing status; the escape rate was 40%, above the 20% limit. Bugs found in "
        "production: 2; caught in testing: 3. Both were in a single component, Gateway. The "
        "production bugs trace back to PAY-124, PAY-165."
    )
    assert document["recommendations"][0] == CAUSE_ADVICE["skipped testing"]
    facts = document["facts"]
    assert (facts["largest_cause"], facts["cluster_name"], facts["cluster_bugs"]) == (
        "skipped testing",
        "Gateway",
        2,
    )
    assert (facts["traced_bugs"], facts["untested_bugs"]) == (2, 2)
    assert facts["done_to_bug_days"] == round(statistics.median([9.267307, 3.302354]), 1)
    assert [e["issue_key"] for e in document["evidence"]][:2] == ["PAY-195", "PAY-198"]
    # Every answer the plans allow leads with the cause and is grounded.
    for item in items.values():
        for answer in plan_answers(plans_for(item, LEAKAGE.wording.plans)):
            draft = parse_draft(answer, LEAKAGE.wording.template(item).title)
            check_draft(draft, item, own_text=True)
            assert validate_draft(fill_draft(draft, item), item) == []
            if item.sprint_name == "PAY Sprint 26":
                first = json.loads(answer)["message"].split("; ")[0].split(", an escape")[0]
                assert first == (
                    "Both production bugs from {sprint} came from stories marked done without "
                    "a testing status"
                )


def test_skipped_testing_insight_says_how_many_and_advises_qa() -> None:
    tables = _site_tables()
    items = _items({**tables, "jira_boards": pd.DataFrame({"board_id": [1], "name": ["Team"]})})
    s1 = items["S1"]
    document = write_insight(s1, LEAKAGE.wording, None).document
    assert document["message"].startswith(
        "3 of the 4 production bugs from S1 came from stories marked done without a testing "
        "status; the escape rate was 100%, above the 20% limit."
    )
    assert "3 of them were in the same label, checkout." in document["message"]
    assert document["recommendations"][0] == (
        "Mark no story done before it has passed a testing status such as review or testing."
    )
    assert [e["issue_key"] for e in document["evidence"]][:3] == ["A-10", "A-11", "A-13"]
    for answer in plan_answers(plans_for(s1, LEAKAGE.wording.plans)):
        draft = parse_draft(answer, LEAKAGE.wording.template(s1).title)
        check_draft(draft, s1, own_text=True)
        assert validate_draft(fill_draft(draft, s1), s1) == []
