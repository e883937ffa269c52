"""Jira's and the model's text as literal Markdown, for the Dagster UI's metadata and for the
exported board summaries: every character that could start a link, image, emphasis, code, HTML
tag or entity, heading, table cell or strikethrough is backslash-escaped. Plain punctuation
(periods, hyphens) is left alone, so the text stays readable where it is shown unrendered."""

from __future__ import annotations

MARKDOWN_SPECIAL = frozenset("\\`*_[]<>#|!()~&")


def markdown_escape(text: object) -> str:
    """`text` as literal Markdown: no link, image, HTML, heading or table cell comes out."""
    return "".join(f"\\{char}" if char in MARKDOWN_SPECIAL else char for char in str(text))
