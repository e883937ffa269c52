"""Field discovery (jira_insights_pipeline.parsing.fields) on real `/field` listings.

Every site numbers its custom fields differently, several fields may share the name "Story
Points", and some sites have both "Story Points" and Jira Software's "Story point estimate".
The expected ids per site were read off the listings themselves (the Public Jira Dataset's 14
sites, perceval's and jirareport's listings), with the decoys each site has noted.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from jira_insights_pipeline.parsing.fields import discover_fields

LISTINGS = Path(__file__).parent / "data" / "field_listings"


def _montgomery() -> dict[str, list[dict[str, Any]]]:
    with gzip.open(LISTINGS / "montgomery_jira_field_information.json.gz", "rt") as handle:
        return json.load(handle)


# site: (sprint, story points, flagged, epic link, acceptance criteria)
EXPECTED = {
    # Decoys: "Original story points" (jpo), "Flags", "Hadoop Flags", "Ignite Flags".
    "Apache": (
        "customfield_12310921",
        "customfield_12310293",
        "customfield_12310290",
        "customfield_12311120",
        None,
    ),
    "Hyperledger": (
        "customfield_10004",
        "customfield_10002",
        "customfield_10000",
        "customfield_10006",
        None,
    ),
    # Both "Story point estimate" (jsw-story-points, 10016) and "Story Points" (10026).
    "IntelDAOS": (
        "customfield_10020",
        "customfield_10016",
        "customfield_10021",
        "customfield_10014",
        None,
    ),
    "JFrog": (
        "customfield_10805",
        "customfield_14600",
        "customfield_10800",
        "customfield_10806",
        None,
    ),
    # Three fields named "Story Points": 10571, 10623, 10653.
    "Jira": (
        "customfield_11930",
        "customfield_10571",
        "customfield_10650",
        "customfield_12931",
        None,
    ),
    "JiraEcosystem": (
        "customfield_10880",
        "customfield_19406",
        "customfield_12680",
        "customfield_12180",
        None,
    ),
    # No story points field at all.
    "Mojang": ("customfield_11601", None, "customfield_10002", "customfield_11602", None),
    # Decoys: "Actual Story Points", "Feature Flag" (a text field).
    "MongoDB": (
        "customfield_10557",
        "customfield_10555",
        "customfield_10553",
        "customfield_10857",
        None,
    ),
    "Qt": (
        "customfield_10302",
        "customfield_10183",
        "customfield_10180",
        "customfield_10400",
        None,
    ),
    "RedHat": (
        "customfield_12310940",
        "customfield_12310243",
        "customfield_12315542",
        "customfield_12311140",
        "customfield_12315940",
    ),
    "Sakai": (
        "customfield_10020",
        "customfield_10016",
        "customfield_10021",
        "customfield_10014",
        None,
    ),
    "SecondLife": (
        "customfield_10671",
        "customfield_10163",
        "customfield_10160",
        "customfield_10871",
        "customfield_10143",
    ),
    "Sonatype": (
        "customfield_11001",
        "customfield_10132",
        "customfield_10130",
        "customfield_11500",
        None,
    ),
    "Spring": (
        "customfield_10480",
        "customfield_10142",
        "customfield_10140",
        "customfield_10680",
        "customfield_10782",
    ),
}


@pytest.mark.parametrize("site", sorted(EXPECTED))
def test_discovery_on_each_public_site(site: str) -> None:
    listing = _montgomery()[site]
    found = discover_fields(listing)
    assert (
        found.sprint.field_id,
        found.story_points.field_id,
        found.flagged.field_id,
        found.epic_link.field_id,
        found.acceptance_criteria.field_id,
    ) == EXPECTED[site]
    assert found.sprint.how == "schema type com.pyxis.greenhopper.jira:gh-sprint"
    assert found.flagged.how == 'name "Flagged" and multi-checkbox schema'


def test_every_site_of_the_dataset_is_covered() -> None:
    assert set(_montgomery()) == set(EXPECTED)


def test_how_each_story_points_field_was_found_and_what_is_ambiguous() -> None:
    listings = _montgomery()
    atlassian = discover_fields(listings["Jira"])
    assert atlassian.story_points.how == 'name "Story Points" (lowest of 3 fields with that name)'
    assert any(
        '3 fields are named "Story Points": using customfield_10571' in w
        and "customfield_10623, customfield_10653" in w
        for w in atlassian.warnings
    )
    sakai = discover_fields(listings["Sakai"])
    assert sakai.story_points.how == "schema type com.pyxis.greenhopper.jira:jsw-story-points"
    assert sakai.story_points.name == "Story point estimate"
    assert any("customfield_10016" in w and "customfield_10026" in w for w in sakai.warnings)
    spring = discover_fields(listings["Spring"])
    assert spring.story_points.how == 'name "Story Points"'
    assert spring.warnings == ()
    assert (
        discover_fields(listings["Mojang"]).story_points.how == "no story points field on this site"
    )


def test_the_board_configuration_beats_the_listing_and_meta_json_beats_both() -> None:
    sakai = _montgomery()["Sakai"]
    # The agile API's board configuration shape: estimation.field.fieldId.
    board = {
        "id": 5,
        "configuration": {
            "estimation": {
                "type": "field",
                "field": {"fieldId": "customfield_10026", "displayName": "Story Points"},
            }
        },
    }
    by_board = discover_fields(sakai, [board])
    assert by_board.story_points.field_id == "customfield_10026"
    assert by_board.story_points.name == "Story Points"
    assert by_board.story_points.how == "board configuration estimation field (board 5)"
    assert by_board.warnings == ()
    overridden = discover_fields(sakai, [board], story_points_override="customfield_10016")
    assert overridden.story_points.field_id == "customfield_10016"
    assert overridden.story_points.how == "meta.json override"


def test_boards_that_disagree_or_estimate_in_time() -> None:
    sakai = _montgomery()["Sakai"]

    def board(board_id: int, field_id: str) -> dict[str, Any]:
        return {"id": board_id, "configuration": {"estimation": {"field": {"fieldId": field_id}}}}

    majority = discover_fields(
        sakai,
        [
            board(1, "customfield_10016"),
            board(2, "customfield_10026"),
            board(3, "customfield_10026"),
        ],
    )
    assert majority.story_points.field_id == "customfield_10026"
    assert any("Boards estimate with different fields" in w for w in majority.warnings)
    by_time = discover_fields(sakai, [board(7, "timeoriginalestimate")])
    assert by_time.story_points.field_id == "customfield_10016"
    assert any("Board(s) 7 estimate in time" in w for w in by_time.warnings)


def test_perceval_listing_has_only_a_flagged_field() -> None:
    listing = json.loads((LISTINGS / "perceval_jira_fields.json").read_text())
    found = discover_fields(listing)
    assert found.flagged.field_id == "customfield_10200"
    assert found.sprint.field_id is None
    assert found.story_points.field_id is None
    assert found.acceptance_criteria.field_id is None


def test_jirareport_listing_has_an_acceptance_criteria_field() -> None:
    stub = json.loads((LISTINGS / "jirareport_fields_stub.json").read_text())
    found = discover_fields(stub["response"]["jsonBody"])
    assert found.sprint.field_id == "customfield_10480"
    assert found.story_points.field_id == "customfield_10142"
    assert found.flagged.field_id == "customfield_10140"
    assert found.epic_link.field_id == "customfield_10680"
    assert found.acceptance_criteria.field_id == "customfield_10782"
    assert found.acceptance_criteria.how == 'name "Acceptance Criteria"'
