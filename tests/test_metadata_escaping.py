"""Jira text shown in the Dagster UI is literal: table previews and insight summaries escape
Markdown, so a summary or board name can never become a link, an image, HTML or an extra table
cell in the viewer's browser."""

from __future__ import annotations

import re

import pandas as pd

from jira_insights_pipeline.assets.insights import insights_markdown
from jira_insights_pipeline.assets.metadata import markdown_preview
from jira_insights_pipeline.markdown import markdown_escape

HOSTILE = "![x](http://203.0.113.9/p.png) [login](http://evil) <img src=x> a|b"
# Markdown that acts: an image or link opener, or an HTML tag, not preceded by a backslash.
ACTIVE = re.compile(r"(?<!\\)(!\[|\[[^\]]*(?<!\\)\]\(|<[a-z/])")


def test_the_active_pattern_finds_what_it_must() -> None:
    assert ACTIVE.search(HOSTILE) and ACTIVE.search("<b>x</b>") and ACTIVE.search("[a](b)")
    assert not ACTIVE.search(markdown_escape(HOSTILE))


def test_previews_escape_every_text_cell_and_list() -> None:
    frame = pd.DataFrame({"summary": [HOSTILE], "keys": [["A|1", "[B](x)"]], "points": [3.0]})
    text = markdown_preview(frame).value
    assert not ACTIVE.search(text), text
    assert r"\!\[x\]\(http://203.0.113.9/p.png\)" in text
    assert r"a\|b" in text and r"A\|1, \[B\]\(x\)" in text
    assert text.count("|") - text.count(r"\|") == 3 * 4, "three columns, four rows of pipes"


def test_insight_summaries_escape_titles_messages_and_names() -> None:
    document = {
        "severity": "warning",
        "title": HOSTILE,
        "message": "<script>alert(1)</script>",
        "recommendations": ["[click](http://evil)"],
        "evidence": [],
        "board": {"name": "<b>CHK</b>"},
        "sprint": None,
    }
    text = insights_markdown([document])
    assert not ACTIVE.search(text), text
    assert markdown_escape("<b>CHK</b>") in text
