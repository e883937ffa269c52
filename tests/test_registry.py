"""The use-case registry is the one list of use cases: each use case's name appears among the
package's Python files only inside its own home and the registry (shared modules never switch
on a use case), every home fills in the whole contract, and the shipped JSON Schemas list what
the registry derives, so a consumer reading the files sees the same enums the validators use."""

from __future__ import annotations

import json
import re
from pathlib import Path

from jira_insights_pipeline.automation.crossings import alert_types
from jira_insights_pipeline.automation.delivery import alert_schema
from jira_insights_pipeline.insights.documents import insight_schema
from jira_insights_pipeline.registry import HOMES, Thresholds, use_case_names, use_cases

PACKAGE = Path(__file__).resolve().parents[1] / "jira_insights_pipeline"
REGISTRY = PACKAGE / "registry.py"
# Issue text of the generated sample site: words of its made-up tickets, not identifiers.
SAMPLE_TICKET_TEXT = PACKAGE / "sample" / "vocabulary.py"


# The one door between homes: an insight may cite what another use case's diagnosis decided,
# through that home's `citations` module (issue 11), and import nothing else of it.
CITATION_IMPORT = re.compile(
    r"^from jira_insights_pipeline\.assets\.\w+\.citations import .*$", re.M
)


def test_each_use_case_name_lives_only_in_its_home_and_the_registry() -> None:
    for name in use_case_names():
        home = PACKAGE / "assets" / name
        pattern = re.compile(rf"\b{name}\b")
        outside = [
            str(path.relative_to(PACKAGE))
            for path in PACKAGE.rglob("*.py")
            if home not in path.parents
            and path not in (REGISTRY, SAMPLE_TICKET_TEXT)
            and pattern.search(CITATION_IMPORT.sub("", path.read_text(encoding="utf-8")))
        ]
        assert outside == [], f"{name!r} named outside its home: {outside}"


def test_homes_cite_each_other_only_through_citations_modules() -> None:
    citing = {
        str(path.relative_to(PACKAGE)): CITATION_IMPORT.findall(path.read_text(encoding="utf-8"))
        for path in (PACKAGE / "assets").rglob("*.py")
    }
    citing = {path: lines for path, lines in citing.items() if lines}
    # Velocity cites scope creep (the added bugs) and missed target (why work was left).
    assert sorted(citing) == ["assets/velocity/facts.py", "assets/velocity/wording.py"]
    for path, lines in citing.items():
        assert all(path.split("/")[1] not in line for line in lines), path


def test_every_home_is_a_complete_use_case_in_registry_order() -> None:
    every = use_cases()
    assert [u.name for u in every] == [home.NAME for home in HOMES] == list(use_case_names())
    assert use_case_names() == (
        "scope_creep",
        "missed_target",
        "defect_leakage",
        "team_health",
        "velocity",
        "flow",
    )
    tables = [table for u in every for table in u.tables]
    assert len(tables) == len(set(tables)), "each metric table has one home"
    checks = [rule.check for u in every for rule in u.rules]
    assert len(checks) == len(set(checks))
    for u in every:
        assert u.rules, u.name
        assert all(rule.table in u.tables for rule in u.rules), u.name
        assert u.thresholds is type(u.thresholds_of(Thresholds()))
        assert u.insight_asset == f"{u.name}_insights"


def test_shipped_schemas_list_what_the_registry_derives() -> None:
    shipped = json.loads((PACKAGE / "insights" / "insight.schema.json").read_text())
    derived = insight_schema()
    assert shipped["properties"]["asset"]["enum"] == derived["properties"]["asset"]["enum"]
    shipped_insight = shipped["$defs"]["insight"]["properties"]
    derived_insight = derived["$defs"]["insight"]["properties"]
    assert shipped_insight["type"]["enum"] == derived_insight["type"]["enum"]
    assert shipped_insight["id"]["pattern"] == derived_insight["id"]["pattern"]
    assert shipped_insight["subject"]["pattern"] == derived_insight["subject"]["pattern"]
    alerts = json.loads((PACKAGE / "automation" / "alert.schema.json").read_text())
    shipped_types = alerts["$defs"]["alert"]["properties"]["type"]["enum"]
    assert shipped_types == alert_schema()["$defs"]["alert"]["properties"]["type"]["enum"]
    assert shipped_types == list(alert_types())


def test_every_threshold_has_a_lower_and_an_upper_bound() -> None:
    """A threshold without a range took nonsense silently (`escape_rate_alert: -5` gave "an
    escape rate of 0% against a -500% limit"); every numeric field of every section is
    bounded on both sides, so run config outside the range fails when the run starts."""
    unbounded = []
    for section, section_field in Thresholds.model_fields.items():
        for name, field in section_field.annotation.model_fields.items():
            bounds = {type(rule).__name__ for rule in field.metadata}
            if field.annotation in (int, float) and not (
                bounds & {"Ge", "Gt"} and bounds & {"Le", "Lt"}
            ):
                unbounded.append(f"{section}.{name}")
    assert unbounded == []
