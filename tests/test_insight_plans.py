"""Sentence plans and templates say only what the facts make true, in plain English.

The numbers in an insight are exact, but the words around them can still lie: "finished 90% of
its commitment" when added work made up the difference, "20%, above the 20% limit" when the
share was 20.4%, "these bugs trace back to" after the bugs testing caught, "1 points". These
tests build facts that provoke each case (from the four-board demo tables, their inputs changed
where needed and the metric tables computed again) and read every answer each use case's plans
allow, filled, plus the template text. A sentence a plan requires is in every answer. Where
a rule's flag is set, its insight is the rule's alarm: as severe as the rule, under the use
case's alarm headline, and every answer opens with the figures the rule judged.
"""

import dataclasses
import importlib
import json
import re

import pandas as pd
import pytest
from demo_tables import four_board_tables, recomputed, work_items

from jira_insights_pipeline.assets.scope_creep.metrics import sprint_scope_creep
from jira_insights_pipeline.insights.engine import write_insight, write_insights
from jira_insights_pipeline.insights.grounding import PLACEHOLDER, fill_draft, parse_draft
from jira_insights_pipeline.insights.plans import (
    MAX_EXTRA_SENTENCES,
    Plans,
    plan_answers,
    plans_for,
)
from jira_insights_pipeline.insights.tables import MetricTables
from jira_insights_pipeline.insights.values import Fact, InsightFacts
from jira_insights_pipeline.registry import Thresholds, use_case, use_case_names, use_cases


@pytest.fixture(scope="module")
def tables() -> MetricTables:
    return four_board_tables()


def facts_for(name: str, tables: MetricTables) -> list[InsightFacts]:
    found = use_case(name)
    return found.facts(tables, found.thresholds_of(Thresholds()))


def _messages(facts: InsightFacts) -> list[str]:
    """Every message and recommendation the plans allow, filled, and the template's."""
    wording = use_case(facts.use_case).wording
    texts = []
    for answer in plan_answers(plans_for(facts, wording.plans)):
        draft = fill_draft(parse_draft(answer, "Title"), facts)
        texts.append(" ".join([draft.message, *draft.recommendations]))
    document = write_insight(facts, wording, None).document
    texts.append(" ".join([document["title"], document["message"], *document["recommendations"]]))
    return texts


def _with(facts: InsightFacts, **values: object) -> InsightFacts:
    changed = tuple(
        dataclasses.replace(fact, value=values[fact.name]) if fact.name in values else fact
        for fact in facts.facts
    )
    return dataclasses.replace(facts, facts=changed)


def _one_facts(
    tables: MetricTables, name: str, board_id: int, sprint_id: int | None = None
) -> InsightFacts:
    return next(
        f
        for f in facts_for(name, tables)
        if f.board_id == board_id and sprint_id in (None, f.sprint_id)
    )


# The figures the first sentence of a crossed rule's insight names (as placeholders): what the
# rule judged and what it was judged against; one group per way an opener may put it.
RULE_FACTS = {
    "scope_creep": (
        ("grown_stories", "estimated_stories", "grown_share_limit"),
        ("grown_story_share", "grown_share_limit"),
    ),
    "missed_target": (("completion_rate", "completion_target"),),
    "defect_leakage": (("escape_rate", "escape_rate_limit"),),
    "team_health": (("hygiene_score", "hygiene_score_min"),),
    "velocity": (("completed_points", "previous_mean_points"),),
    "flow": (("median_cycle_days", "previous_median_cycle_days", "rise_limit"),),
}
# The demo boards' crossings: Mobile App's scope creep (both sprints), missed targets (Mobile
# App, Platform), Payments' leakage, Platform's hygiene, velocity drops (Mobile App, Platform)
# and Mobile App's rising cycle time.
CROSSINGS = {
    "scope_creep": [(1, 104), (1, 105)],
    "missed_target": [(1, 104), (3, 304)],
    "defect_leakage": [(2, 204)],
    "team_health": [(3, 305)],
    "velocity": [(1, 104), (3, 304)],
    "flow": [(1, 104)],
}


def _first_sentence(message: str) -> str:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z0-9{])", message, maxsplit=1)[0]


@pytest.mark.parametrize("name", use_case_names())
def test_a_crossed_rule_is_the_alarm_and_opens_every_answer(
    name: str, tables: MetricTables
) -> None:
    found = use_case(name)
    titles = importlib.import_module(f"jira_insights_pipeline.assets.{name}.wording").TITLES
    items = facts_for(name, tables)
    alarms = []
    for rule in found.rules:
        for _, row in rule.crossed(tables[rule.table]).iterrows():
            sprint_id = int(row["sprint_id"]) if rule.per_sprint else None
            (facts,) = [
                f
                for f in items
                if f.board_id == int(row["board_id"]) and sprint_id in (None, f.sprint_id)
            ]
            assert facts.severity == rule.severity != "info"
            alarms.append(facts)
            document = write_insight(facts, found.wording, None).document
            assert document["severity"] == rule.severity
            assert document["title"] == titles.alarm.format(
                board=facts.board_name, sprint=facts.sprint_name
            )
            answers = [json.loads(a) for a in plan_answers(plans_for(facts, found.wording.plans))]
            assert answers
            for message in [a["message"] for a in answers] + [
                found.wording.template(facts).message
            ]:
                named = set(PLACEHOLDER.findall(_first_sentence(message)))
                assert any(set(group) <= named for group in RULE_FACTS[name]), message
    assert [(f.board_id, f.sprint_id) for f in alarms] == CROSSINGS[name]
    # Every other insight of the use case is calm: its rows' flags are not set.
    assert {f.severity for f in items if f not in alarms} <= {"info"}


def test_the_rising_cycle_time_opens_with_the_median_and_the_one_before(
    tables: MetricTables,
) -> None:
    facts = _one_facts(tables, "flow", 1)
    assert facts.severity == "warning"
    wording = use_case("flow").wording
    firsts = {
        _first_sentence(fill_draft(parse_draft(answer, "T"), facts).message)
        for answer in plan_answers(plans_for(facts, wording.plans))
    }
    assert firsts == {
        "In MOB Sprint 23 the median cycle time on Mobile App was 6.5 days against 4 days in the "
        f"sprints before, {rise}, above the 20% limit."
        for rise in ("up 62%", "a rise of 62%")
    }


def test_completed_points_are_not_called_the_commitment_finished(tables: MetricTables) -> None:
    # PAY Sprint 23: 21 points committed and all finished; one story grew by 2 points.
    facts = _one_facts(tables, "missed_target", 2)
    assert facts.by_name["completion_rate"].rendered == "110%"
    for text in _messages(facts):
        assert "of its commitment" not in text and "met its commitment" not in text
        assert "completed 23 points against a commitment of 21 points (110%)" in text or (
            "completed 110% as many points as it committed" in text
        )


def _scope_creep_with(tables: MetricTables, grown: int, estimated: int) -> InsightFacts:
    """The scope-creep insight of MOB Sprint 23 had `grown` of `estimated` committed stories
    grown: the ledger changed so, and the scope-creep table decided again from it."""
    commitments = tables["sprint_commitments"].copy()
    row = commitments["sprint_name"].eq("MOB Sprint 23")
    commitments.loc[row, ["grown_stories", "estimated_committed_stories"]] = [grown, estimated]
    commitments.loc[row, "grown_story_share"] = grown / estimated
    creep = sprint_scope_creep(commitments, Thresholds().scope_creep)
    changed = MetricTables(tables.as_of, {**tables.frames, "sprint_scope_creep": creep})
    return _one_facts(changed, "scope_creep", 1, 104)


def test_a_value_next_to_its_limit_shows_the_decimal_that_separates_them(
    tables: MetricTables,
) -> None:
    # 10 of 49 stories grew: 20.4%, which is above the 20% limit; "20%" would read as at it.
    scope = _scope_creep_with(tables, 10, 49)
    assert scope.severity == "warning"
    assert scope.by_name["grown_story_share"].rendered == "20.4%"
    assert scope.by_name["grown_story_share"].json_value() == 0.204
    # Exactly at the limit stays whole and is within it.
    at_limit = _scope_creep_with(tables, 10, 50)
    assert at_limit.severity == "info"
    assert at_limit.by_name["grown_story_share"].rendered == "20%"
    assert all("above" not in text and "over the" not in text for text in _messages(at_limit))


def _platform_health(tables: MetricTables, opened: int, stale: int) -> InsightFacts:
    """Platform's hygiene insight with `opened` open issues of which `stale` are stale (and no
    other problem), its hygiene score computed again from them."""
    health = tables["work_item_health"]
    platform = pd.DataFrame(work_items(3, opened, stale=stale))
    changed = pd.concat([health.loc[health["board_id"].ne(3)], platform], ignore_index=True)
    return _one_facts(recomputed(tables, work_item_health=changed), "team_health", 3)


def test_scores_next_to_their_limits_keep_a_decimal(tables: MetricTables) -> None:
    # 16 of 23 open issues without a problem: 69.57, just under the healthy 70.
    health = _platform_health(tables, 23, 7)
    assert health.severity == "warning" and health.by_name["hygiene_score"].rendered == "69.6"
    assert any("69.6, below the healthy 70" in text for text in _messages(health))
    # At the minimum (21 of 30), the template says "at", not "above".
    health = _platform_health(tables, 30, 9)
    assert health.severity == "info" and health.by_name["hygiene_score"].value == 70
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


@pytest.mark.parametrize("name", use_case_names())
def test_one_of_anything_reads_as_one(name: str, tables: MetricTables) -> None:
    items = facts_for(name, tables)
    assert items
    for facts in items:
        for text in _messages(_ones(facts)):
            assert not BAD_ONES.search(text), text


def test_a_jira_summary_that_shares_a_phrase_with_a_template_crashes_nothing(
    tables: MetricTables,
) -> None:
    phrase = "Production bugs trace back to the login form"
    frames = dict(tables.frames)
    for name in ("defect_leakage", "jira_issues"):
        frames[name] = frames[name].assign(summary=phrase)
    changed = MetricTables(tables.as_of, frames)
    written = []
    for u in use_cases():
        items, stats = write_insights(facts_for(u.name, changed), u.wording, None)
        assert stats.insights == len(items) > 0
        written += items
    # Eight scope-creep and eight leakage insights (each board's running and latest closed
    # sprint), four each of target, hygiene, velocity and flow.
    assert len(written) == 32
    (payments,) = [
        w.document
        for w in written
        if w.document["type"] == "defect_leakage"
        and w.document["board"]["id"] == 2
        and w.document["sprint"]["id"] == 204
    ]
    # The template says the plan's sentence (the wording of its home, not a second one).
    assert "The production bugs trace back to PAY-130, PAY-131." in payments["message"]


def test_every_fact_kind_renders_as_its_json_value_reads() -> None:
    share = Fact("share", 0.2041, "ratio", "a share", decimals=1)
    assert (share.rendered, share.json_value()) == ("20.4%", 0.204)
    score = Fact("score", 69.64, "score", "a score", decimals=1)
    assert (score.rendered, score.json_value()) == ("69.6", 69.6)
    whole = Fact("share", 0.2041, "ratio", "a share")
    assert (whole.rendered, whole.json_value()) == ("20%", 0.2)


def test_facts_no_plan_fits_are_worded_by_the_template(tables: MetricTables) -> None:
    class NeverCalled:
        """A model that must not be asked: with no plan there is nothing to choose from."""

        seed = 42
        enabled = True
        model_file_name = "never.gguf"

        def choose(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the model was asked without answers")

    facts = _one_facts(tables, "velocity", 1)
    wording = dataclasses.replace(
        use_case("velocity").wording,
        plans=lambda facts, alarm: Plans(("{no_such_fact} happened.",), (), ()),
    )
    document = write_insight(facts, wording, NeverCalled()).document
    assert document["generated_by"] == "template"
    assert document["model"]["rejections"] == [
        "no sentence plan: no opening sentence fits the velocity facts"
    ]


def _required_facts() -> InsightFacts:
    return InsightFacts(
        use_case="velocity",
        severity="warning",
        board_id=1,
        board_name="Mobile App",
        sprint_id=104,
        sprint_name="MOB Sprint 23",
        as_of="2025-03-14T17:00:00+00:00",
        status="velocity dropped",
        facts=(
            Fact("board", "Mobile App", "name", "the board"),
            Fact("completed_points", 19, "points", "points completed"),
            Fact("drop_limit", 0.7, "ratio", "the least share of the mean expected"),
        ),
        key_facts=("completed_points",),
    )


def test_a_required_sentence_is_in_every_answer() -> None:
    facts = _required_facts()
    required = "That is [under|below] the {drop_limit} limit."
    plans = plans_for(
        facts,
        lambda facts, alarm: Plans(
            openers=(
                "{board} completed {completed_points}.",
                "{board} finished {completed_points}.",
            ),
            extras=("First extra.", "Second extra.", "Third extra.", "An {unknown} extra."),
            advice=("Plan less.", "Find the cause."),
            required=(required,),
        ),
    )
    assert plans.required == (required,)
    assert "An {unknown} extra." not in plans.extras  # optional sentences naming no fact go
    answers = plan_answers(plans)
    messages = {json.loads(answer)["message"] for answer in answers}
    room = MAX_EXTRA_SENTENCES - len(plans.required)
    for message in messages:
        sentences = re.split(r"(?<=\.) ", message)
        # The opener, then the required sentence (in one of its wordings), then the extras.
        assert sentences[1] in (
            "That is under the {drop_limit} limit.",
            "That is below the {drop_limit} limit.",
        ), message
        assert len(sentences) - 2 <= room
    # Both wordings of the required sentence, after both openers, with and without an extra.
    assert len(messages) == 2 * 2 * (1 + 3)
    # A required sentence naming a missing fact is the planner's bug, never dropped quietly.
    with pytest.raises(ValueError, match="a required sentence names a missing fact"):
        plans_for(
            facts,
            lambda facts, alarm: Plans(
                ("{board} completed {completed_points}.",),
                (),
                ("Do.",),
                required=("Under {no_such_limit}.",),
            ),
        )


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
