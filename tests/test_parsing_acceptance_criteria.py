"""Acceptance criteria text (jira_insights_pipeline.parsing.acceptance_criteria).

The same criteria must measure alike whether they come from an ADF description (rendered by
adf.py), from the wiki text that v2 and changelog `toString` carry, or from plain text; a
custom "Acceptance Criteria" field wins over the description.
"""

from __future__ import annotations

import pytest

from jira_insights_pipeline.parsing.acceptance_criteria import acceptance_criteria_text
from jira_insights_pipeline.parsing.adf import adf_to_text

WIKI = (
    "As a shopper I want to pay by card.\n\n"
    "h2. Acceptance Criteria\n"
    "* Card number is validated\n"
    "* Errors are shown\n\n"
    "h3. Notes\n"
    "Ask QA."
)
ADF = {
    "type": "doc",
    "version": 1,
    "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "As a shopper I want to pay."}]},
        {
            "type": "heading",
            "attrs": {"level": 2},
            "content": [{"type": "text", "text": "Acceptance Criteria"}],
        },
        {
            "type": "bulletList",
            "content": [
                {
                    "type": "listItem",
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": t}]}],
                }
                for t in ("Card number is validated", "Errors are shown")
            ],
        },
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Notes"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Ask QA."}]},
    ],
}
CRITERIA = "Card number is validated\nErrors are shown"


def test_wiki_and_adf_descriptions_give_the_same_criteria() -> None:
    assert acceptance_criteria_text(WIKI) == CRITERIA
    assert acceptance_criteria_text(adf_to_text(ADF)) == CRITERIA


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("## Acceptance criteria\n- a\n- b\n## Design\nx", "a\nb"),
        ("Story text\nAC: user can log in\nmore", "user can log in\nmore"),
        ("Acceptance Criteria:\n1. one\n2) two\n\nOut of scope:\nrefunds", "one\ntwo"),
        ("*Acceptance Criteria:*\n# first\n# second\n*Notes*\nlater", "first\nsecond"),
        ("h2. Acceptance criterion\n(/) done\n(x) not done", "done\nnot done"),
        ("Acceptance criteria are agreed with QA next week.", ""),
        ("Actually nothing here.\nACME must approve", ""),
        # A real description change (DevLake's merico.atlassian.net issue 13383, wiki text).
        (
            "平均域的显示需要配合 [~accountid:5f8d380729bd8a006f5a90a0] 提供的新算法进行调整\n\n"
            "!image-20210125-030921.png|width=686,height=300!",
            "",
        ),
        ("", ""),
        (None, ""),
    ],
)
def test_sections_in_the_forms_teams_write(description: str | None, expected: str) -> None:
    assert acceptance_criteria_text(description) == expected


def test_a_custom_field_wins_over_the_description() -> None:
    assert acceptance_criteria_text(WIKI, "* Only this") == "Only this"
    custom_adf = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "From the field"}]}],
    }
    assert acceptance_criteria_text(WIKI, custom_adf) == "From the field"
    # An empty field falls back to the description.
    assert acceptance_criteria_text(WIKI, "  ") == CRITERIA
    assert acceptance_criteria_text(WIKI, None) == CRITERIA
