"""Atlassian Document Format to text (jira_insights_pipeline.parsing.adf).

None of the real data at hand holds an ADF description (DevLake's site sends none, jirareport's
is wiki text), so the tree below is a minimal one in the documented shape of API v3's
`description` (developer.atlassian.com, "Atlassian Document Format": doc/version 1, heading
with attrs.level, bulletList > listItem > paragraph, hardBreak, mention with attrs.text).
"""

from __future__ import annotations

from typing import Any

from jira_insights_pipeline.parsing.adf import adf_to_text, is_adf, rich_text


def _text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def _paragraph(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def _items(*texts: str) -> list[dict[str, Any]]:
    return [{"type": "listItem", "content": [_paragraph(_text(t))]} for t in texts]


DESCRIPTION = {
    "version": 1,
    "type": "doc",
    "content": [
        _paragraph(
            _text("As a "),
            _text("shopper", marks=[{"type": "strong"}]),
            _text(" I want to pay by card."),
            {"type": "hardBreak"},
            _text("Asked by "),
            {"type": "mention", "attrs": {"id": "5e9711ba34f7b90c0fbc37d3", "text": "@Rankin"}},
        ),
        {"type": "heading", "attrs": {"level": 2}, "content": [_text("Acceptance criteria")]},
        {
            "type": "bulletList",
            "content": [
                *_items("Card number is validated"),
                {
                    "type": "listItem",
                    "content": [
                        _paragraph(_text("Errors are shown")),
                        {"type": "orderedList", "content": _items("inline", "on submit")},
                    ],
                },
            ],
        },
        {"type": "heading", "attrs": {"level": 3}, "content": [_text("Notes")]},
        {"type": "codeBlock", "attrs": {"language": "json"}, "content": [_text('{"a": 1}\n{}')]},
        {
            "type": "mediaSingle",
            "content": [{"type": "media", "attrs": {"id": "x", "type": "file"}}],
        },
        {
            "type": "table",
            "content": [
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableHeader", "content": [_paragraph(_text("card"))]},
                        {"type": "tableCell", "content": [_paragraph(_text("result"))]},
                    ],
                }
            ],
        },
    ],
}


def test_adf_becomes_lines_with_headings_and_list_items_kept() -> None:
    assert is_adf(DESCRIPTION)
    assert adf_to_text(DESCRIPTION) == "\n".join(
        [
            "As a shopper I want to pay by card.",
            "Asked by @Rankin",
            "h2. Acceptance criteria",
            "- Card number is validated",
            "- Errors are shown",
            "  1. inline",
            "  2. on submit",
            "h3. Notes",
            '{"a": 1}',
            "{}",
            "card | result",
        ]
    )


def test_rich_text_accepts_adf_wiki_text_and_null() -> None:
    # v2 and changelog values are wiki text: kept as they are (DevLake's real description item).
    wiki = "平均域的显示需要配合 [~accountid:5f8d380729bd8a006f5a90a0] 提供的新算法进行调整"
    assert rich_text(wiki) == wiki
    assert rich_text(None) is None
    environment = {"type": "doc", "version": 1, "content": [_paragraph(_text("Chrome 120"))]}
    assert rich_text(environment) == "Chrome 120"
    assert rich_text({"type": "doc", "version": 1, "content": []}) == ""
