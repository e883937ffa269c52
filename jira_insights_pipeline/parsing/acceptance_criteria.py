"""An issue's acceptance criteria, as text whose length says whether it has any.

Teams keep acceptance criteria either in a custom field ("Acceptance Criteria", a textarea) or
as a section of the description under a heading. The description arrives as ADF-derived text
(see `adf.py`: `h2. Acceptance criteria`, `- item`), as wiki text (`h2. Acceptance Criteria`,
`* item`) or as plain text (`Acceptance Criteria:`, `AC:`, markdown `## Acceptance criteria`),
and the metrics rebuild past versions from the changelog's wiki text, so all of these must give
the same answer.

The section runs from its heading to the next heading: a wiki (`h3.`) or markdown (`##`)
heading, a line that is only bold text (`*Notes*`, `**Notes:**`), or a line naming another
usual section (`Out of scope:`, `Definition of Done`, ...). A line starting with a single `#`
is a numbered list item in wiki text, so only `##` and deeper end a section. Within the
section, list markers and surrounding whitespace are dropped and blank lines removed, so
`* item` and `- item` measure alike; what remains is the criteria text.
"""

from __future__ import annotations

import re
from typing import Any

from jira_insights_pipeline.parsing.adf import rich_text

_AC_LABEL = r"(?:acceptance\s+criteri(?:a|on)s?|AC)"
_HEADING_MARKER = r"(?:h[1-6]\.\s*|#{1,6}\s+)"

# A heading naming acceptance criteria; what follows its colon on the same line is content.
_AC_HEADING = re.compile(
    r"^\s*(?:" + _HEADING_MARKER + r")?(?:\*{1,2}|_)?\s*"
    r"(?P<label>" + _AC_LABEL + r")\s*(?:\((?:s|es)\))?\s*:?\s*(?:\*{1,2}|_)?\s*:?"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_SECTION_END_HEADING = re.compile(r"^\s*(?:h[1-6]\.\s*|#{2,6}\s+)\S")
_BOLD_LINE = re.compile(r"^\s*(\*{1,2})[^*]+\1\s*:?\s*$")
_OTHER_SECTIONS = (
    "description",
    "background",
    "context",
    "summary",
    "user story",
    "story",
    "notes?",
    "out of scope",
    "scope",
    "definition of done",
    "dod",
    "dependencies",
    "assumptions",
    "risks",
    "open questions",
    "questions",
    "technical notes",
    "tech notes",
    "implementation notes",
    "design",
    "links",
    "resources",
    "references",
    "test plan",
    "testing notes",
    "qa notes",
    "steps to reproduce",
    "expected results?",
    "actual results?",
    "environment",
)
_OTHER_SECTION_LINE = re.compile(
    r"^\s*(?:" + "|".join(_OTHER_SECTIONS) + r")\s*:?\s*$", re.IGNORECASE
)
_LIST_MARKER = re.compile(r"^\s*(?:[*#\-+]+|\d+[.)]|\[[ xX]?\]|\(\/\)|\(x\))\s+")


def _is_ac_heading(line: str) -> re.Match[str] | None:
    match = _AC_HEADING.match(line)
    if not match:
        return None
    label = match.group("label")
    # "AC" only counts in capitals, so that a sentence starting "Ac..." is not taken for one.
    if label.upper() == "AC" and label != "AC":
        return None
    rest = match.group("rest")
    # "Acceptance criteria are agreed with QA" is a sentence, not a heading: a heading is
    # alone on its line or followed by a colon.
    if rest.strip() and ":" not in line[: match.start("rest")]:
        return None
    return match


def _is_other_heading(line: str) -> bool:
    return bool(
        _SECTION_END_HEADING.match(line)
        or _BOLD_LINE.match(line)
        or _OTHER_SECTION_LINE.match(line)
    )


def _clean(lines: list[str]) -> str:
    cleaned = []
    for line in lines:
        text = _LIST_MARKER.sub("", line).strip()
        if text:
            cleaned.append(text)
    return "\n".join(cleaned)


def acceptance_criteria_text(description_text: str | None, custom_field_value: Any = None) -> str:
    """The acceptance criteria: the custom field's text when it has any, else the section of
    the description under an "Acceptance Criteria" / "AC:" heading; "" when there are none.

    `custom_field_value` may be the raw field value (ADF or text); `description_text` is text
    (use `adf.rich_text` on an ADF description first).
    """
    custom = rich_text(custom_field_value)
    if custom and custom.strip():
        return _clean(custom.splitlines())
    if not description_text:
        return ""
    lines = description_text.splitlines()
    for index, line in enumerate(lines):
        heading = _is_ac_heading(line)
        if heading is None:
            continue
        section = [heading.group("rest")]
        for following in lines[index + 1 :]:
            if _is_ac_heading(following) or _is_other_heading(following):
                break
            section.append(following)
        return _clean(section)
    return ""
