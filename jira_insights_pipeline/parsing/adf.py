"""Atlassian Document Format (API v3's rich text) as plain text lines.

API v3 sends `description`, `environment` and textarea custom fields as ADF trees; API v2 and
changelog `fromString`/`toString` send wiki text. `rich_text` accepts both and returns text.

The text keeps the document's lines: each paragraph, heading, list item and code line is one
line, and a hard break starts a new line. Headings keep Jira's wiki marker (`h2. Title`, as the
changelog's wiki text of the same description has it) and list items a bullet (`- item`,
`1. item`), so that sections stay findable (acceptance criteria are the section under their
heading) and read the same in current and past versions; tables become one line per row with
cells separated by ` | `. Media and other non-text nodes leave no text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_INLINE_CONTAINERS = frozenset({"paragraph", "heading"})


def is_adf(value: Any) -> bool:
    """True for an ADF document (`{"type": "doc", "content": [...]}`)."""
    return isinstance(value, Mapping) and value.get("type") == "doc"


def rich_text(value: Any) -> str | None:
    """A rich-text field's text, from ADF or wiki text; None stays None."""
    if value is None:
        return None
    if is_adf(value):
        return adf_to_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "content" in value:
        return adf_to_text({"type": "doc", "content": value.get("content") or []})
    return str(value)


def adf_to_text(document: Mapping[str, Any]) -> str:
    """An ADF document as text, one line per block (see the module docstring)."""
    lines: list[str] = []
    _blocks(document.get("content") or [], lines, indent="")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _inline(nodes: list[Any]) -> list[str]:
    """Inline content as lines (a hardBreak starts a new one)."""
    lines = [""]
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        kind = node.get("type")
        attrs = node.get("attrs") or {}
        if kind == "text":
            lines[-1] += str(node.get("text") or "")
        elif kind == "hardBreak":
            lines.append("")
        elif kind == "mention":
            lines[-1] += str(attrs.get("text") or "")
        elif kind == "emoji":
            lines[-1] += str(attrs.get("text") or attrs.get("shortName") or "")
        elif kind == "status":
            lines[-1] += str(attrs.get("text") or "")
        elif kind in ("inlineCard", "blockCard"):
            lines[-1] += str(attrs.get("url") or "")
        elif kind == "date":
            lines[-1] += _date_text(attrs.get("timestamp"))
        elif node.get("content"):
            nested = _inline(node["content"])
            lines[-1] += nested[0]
            lines.extend(nested[1:])
    return lines


def _date_text(timestamp: Any) -> str:
    try:
        return datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError):
        return ""


def _blocks(nodes: list[Any], lines: list[str], indent: str) -> None:
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        kind = node.get("type")
        content = node.get("content") or []
        if kind == "paragraph":
            lines.extend(indent + line for line in _inline(content))
        elif kind == "heading":
            level = int((node.get("attrs") or {}).get("level") or 1)
            text = _inline(content)
            lines.append(f"{indent}h{max(1, min(level, 6))}. {text[0]}")
            lines.extend(indent + line for line in text[1:])
        elif kind in ("bulletList", "orderedList", "taskList", "decisionList"):
            _list(node, lines, indent)
        elif kind == "codeBlock":
            code = "".join(str(n.get("text") or "") for n in content if isinstance(n, Mapping))
            lines.extend(indent + line for line in code.split("\n"))
        elif kind == "table":
            for row in content:
                cells = [" ".join(_cell_lines(cell)) for cell in (row.get("content") or [])]
                lines.append(indent + " | ".join(cells))
        elif kind == "rule":
            lines.append(indent + "----")
        elif kind in ("expand", "nestedExpand"):
            title = (node.get("attrs") or {}).get("title")
            if title:
                lines.append(indent + str(title))
            _blocks(content, lines, indent)
        elif kind in _INLINE_CONTAINERS or kind in ("text", "hardBreak", "mention"):
            lines.extend(indent + line for line in _inline([node]))
        else:
            # blockquote, panel, layouts and anything newer: their children carry the text.
            _blocks(content, lines, indent)


def _cell_lines(cell: Mapping[str, Any]) -> list[str]:
    inner: list[str] = []
    _blocks(cell.get("content") or [], inner, indent="")
    return [line.strip() for line in inner if line.strip()]


def _list(node: Mapping[str, Any], lines: list[str], indent: str) -> None:
    kind = node.get("type")
    start = int((node.get("attrs") or {}).get("order") or 1)
    for position, item in enumerate(node.get("content") or []):
        if not isinstance(item, Mapping):
            continue
        if kind == "orderedList":
            marker = f"{start + position}. "
        elif kind == "taskList":
            done = (item.get("attrs") or {}).get("state") == "DONE"
            marker = "[x] " if done else "[ ] "
        else:
            marker = "- "
        item_lines: list[str] = []
        children = item.get("content") or []
        if item.get("type") in ("taskItem", "decisionItem"):
            item_lines.extend(_inline(children))
        else:
            _blocks(children, item_lines, indent="")
        if not item_lines:
            item_lines = [""]
        lines.append(indent + marker + item_lines[0])
        lines.extend(indent + "  " + line for line in item_lines[1:])
