"""Sentence plans and templates say only what the facts make true, in plain English.

The numbers in an insight are exact, but the words around them can still lie: "finished 90% of
its commitment" when added work made up the difference, "20%, above the 20% limit" when the
share was 20.4%, "these bugs trace back to" after the bugs testing caught, "1 points". These
tests build facts that provoke each case (from the hand-made demo tables, changed where needed)
and read every answer the plans allow, filled, plus the template text.
"""

import dataclasses
import re

import pytest

from jira_insights_pipeline.insights import demo_tables
from jira_insights_pipeline.insights.engine import write_insight, write_insights
from jira_insights_pipeline.insights.facts import (
    USE_CASES,
    Fact,
    InsightFacts,
    MetricTables,
    all_facts,
    facts_for,
)
from jira_insights_pipeline.insights.grounding import fill_draft, parse_draft
from jira_insights_pipeline.insights.plans import plan_answers, plans_for


@pytest.fixture(scope="module")
def tables() -> MetricTables:
    return demo_tables.four_board_tables()


def _messages(facts: InsightFacts) -> list[str]:
    """Every message and recommendation the plans allow, filled, and the template's."""
    texts = []
    for answer in plan_answers(plans_for(facts)):
        draft = fill_draft(parse_draft(answer, "Title"), facts)
        texts.append(" ".join([draft.message, *draft.recommendations]))
    document = write_insight(facts, None).document
    texts.append(" ".join([document["title"], document["message"], *document["recommendations"]]))
    return texts


def _with(facts: InsightFacts, **values: object) -> InsightFacts:
    changed = tuple(
        dataclasses.replace(fact, value=values[fact.name]) if fact.name in values else fact
        for fact in facts.facts
    )
    return dataclasses.replace(facts, facts=changed)


def _one_facts(tables: MetricTables, use_case: str, board_id: int) -> InsightFacts:
    return next(f for f in facts_for(use_case, tables) if f.board_id == board_id)


def test_completed_points_are_not_called_the_commitment_finished(tables: MetricTables) -> None:
    # PAY Sprint 23: 21 points committed and all finished, plus 2 points of added work.
    facts = _one_facts(tables, "missed_target", 2)
    assert facts.by_name["completion_rate"].rendered == "110%"
    for text in _messages(facts):
        assert "of its commitment" not in text and "met its commitment" not in text
        assert "completed 23 points against a commitment of 21 points (110%)" in text or (
            "completed 110% as many points as it committed" in text
        )


def test_a_value_next_to_its_limit_shows_the_decimal_that_separates_them(
    tables: MetricTables,
) -> None:
    # 10 of 49 stories grew: 20.4%, which is above the 20% limit; "20%" would read as at it.
    scope = _one_facts(tables, "scope_creep", 1)
    row = tables.sprint_commitments.index[
        tables.sprint_commitments["sprint_name"].eq("MOB Sprint 23")
    ]
    commitments = tables.sprint_commitments.copy()
    commitments.loc[row, ["grown_stories", "estimated_committed_stories"]] = [10, 49]
    commitments.loc[row, "grown_story_share"] = 10 / 49
    changed = dataclasses.replace(tables, sprint_commitments=commitments)
    scope = next(f for f in facts_for("scope_creep", changed) if f.sprint_name == "MOB Sprint 23")
    assert scope.severity == "warning"
    assert scope.by_name["grown_story_share"].rendered == "20.4%"
    assert scope.by_name["grown_story_share"].json_value() == 0.204
    # Exactly at the limit stays whole and is within it.
    commitments.loc[row, ["grown_stories", "estimated_committed_stories"]] = [10, 50]
    commitments.loc[row, "grown_story_share"] = 0.2
    at_limit = next(
        f
        for f in facts_for(
            "scope_creep", dataclasses.replace(tables, sprint_commitments=commitments)
        )
        if f.sprint_name == "MOB Sprint 23"
    )
    assert at_limit.severity == "info"
    assert at_limit.by_name["grown_story_share"].rendered == "20%"
    assert all("above" not in text and "over the" not in text for text in _messages(at_limit))


def test_scores_and_completion_rates_next_to_their_limits_keep_a_decimal(
    tables: MetricTables,
) -> None:
    scores = tables.hygiene_scores.copy()
    scores.loc[scores["board_id"].eq(3), "hygiene_score"] = 69.6
    health = _one_facts(dataclasses.replace(tables, hygiene_scores=scores), "team_health", 3)
    assert health.severity == "warning" and health.by_name["hygiene_score"].rendered == "69.6"
    assert any("69.6, below the healthy 70" in text for text in _messages(health))
    # At the minimum, the template says "at", not "above".
    scores.loc[scores["board_id"].eq(3), "hygiene_score"] = 70.0
    health = _one_facts(dataclasses.replace(tables, hygiene_scores=scores), "team_health", 3)
    assert health.severity == "info"
    assert all(
        "70, at the healthy 70" in text for text in _messages(health) if "healthy 70" in text
    )


def test_production_bug_sources_are_never_pinned_on_bugs_testing_caught(
    tables: MetricTables,
) -> None:
    for facts in facts_for("defect_leakage", tables):
        for text in _messages(facts):
            assert "These bugs trace back" not in text and "They trace back" not in text
            if "trace back to" in text or "traces back to" in text:
                assert re.search(r"[Pp]roduction bugs? traces? back to", text)


def _ones(facts: InsightFacts) -> InsightFacts:
    """Every count, points and days fact set to 1."""
    return _with(
        facts,
        **{f.name: 1 for f in facts.facts if f.kind in ("count", "points", "days")},
    )


# "Label: 1 of 1" (the templates' style) reads fine; "1 of 1 stories grew" does not.
BAD_ONES = re.compile(
    r"\b1 (?:points|days|bugs|stories|issues|sprints)\b|None of the 1\b|of the 1\b"
    r"|(?<!: )\b1 of 1\b|\b1 of the last 1\b"
)


@pytest.mark.parametrize("use_case", USE_CASES)
def test_one_of_anything_reads_as_one(use_case: str, tables: MetricTables) -> None:
    for facts in facts_for(use_case, tables):
        for text in _messages(_ones(facts)):
            assert not BAD_ONES.search(text), text


def test_a_jira_summary_that_shares_a_phrase_with_a_template_crashes_nothing(
    tables: MetricTables,
) -> None:
    phrase = "Production bugs trace back to the login form"
    leakage = tables.defect_leakage.copy()
    leakage["summary"] = phrase
    issues = tables.jira_issues.copy()
    issues["summary"] = phrase
    changed = dataclasses.replace(tables, defect_leakage=leakage, jira_issues=issues)
    written, stats = write_insights(all_facts(changed), None)
    assert stats.insights == 24
    (payments,) = [
        w.document
        for w in written
        if w.document["type"] == "defect_leakage" and w.document["board"]["id"] == 2
    ]
    assert "Production bugs trace back to PAY-130, PAY-131." in payments["message"]


def test_every_fact_kind_renders_as_its_json_value_reads() -> None:
    share = Fact("share", 0.2041, "ratio", "a share", decimals=1)
    assert (share.rendered, share.json_value()) == ("20.4%", 0.204)
    score = Fact("score", 69.64, "score", "a score", decimals=1)
    assert (score.rendered, score.json_value()) == ("69.6", 69.6)
    whole = Fact("share", 0.2041, "ratio", "a share")
    assert (whole.rendered, whole.json_value()) == ("20%", 0.2)


def test_facts_no_plan_fits_are_worded_by_the_template(tables: MetricTables) -> None:
    from jira_insights_pipeline.insights.plans import PLANNERS, Plans

    class NeverCalled:
        """A model that must not be asked: with no plan there is nothing to choose from."""

        seed = 42
        enabled = True
        model_file_name = "never.gguf"

        def choose(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the model was asked without answers")

    facts = _one_facts(tables, "velocity", 1)
    original = PLANNERS["velocity"]
    PLANNERS["velocity"] = lambda facts, alarm: Plans(("{no_such_fact} happened.",), (), ())
    try:
        document = write_insight(facts, NeverCalled()).document
    finally:
        PLANNERS["velocity"] = original
    assert document["generated_by"] == "template"
    assert document["model"]["rejections"] == [
        "no sentence plan: no opening sentence fits the velocity facts"
    ]


def test_a_team_without_points_gets_no_zero_point_forecast(tables: MetricTables) -> None:
    facts = _with(
        _one_facts(tables, "velocity", 4),
        completed_points=0,
        previous_mean_points=0,
        forecast_p50=0,
        forecast_p85=0,
    )
    for text in _messages(facts):
        assert "0 points is a safe commitment" not in text and "about 0 points" not in text
        assert "Estimate stories in points" in text
