"""The JSON files downstream consumers read: one document per insight asset, validated against
`insight.schema.json` and serialized byte for byte the same way every time."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from jsonschema.protocols import Validator

from jira_insights_pipeline.jsonschemas import instance_location, packaged_schema, schema_validator
from jira_insights_pipeline.registry import use_case_names, use_cases

SCHEMA_FILE = "insight.schema.json"
# 1.1.0: `subject` and `change` on every insight, `compared_with` and `resolved` on the feed.
SCHEMA_VERSION = "1.1.0"
# The asset (and file) holding every current insight, beside one per use case.
FEED_ASSET = "insights_feed"


class InsightDocumentError(ValueError):
    """A document does not follow insight.schema.json."""


@functools.cache
def insight_schema() -> dict[str, Any]:
    """The JSON Schema of insight files (shipped inside the package), its use-case and asset
    enums taken from the registry (a test keeps the shipped file in step)."""
    schema = packaged_schema("jira_insights_pipeline.insights", SCHEMA_FILE)
    names = list(use_case_names())
    schema["properties"]["asset"]["enum"] = [u.insight_asset for u in use_cases()] + [FEED_ASSET]
    insight = schema["$defs"]["insight"]["properties"]
    insight["type"]["enum"] = names
    # The id and the subject share one shape (insights/values.py `_hashed`).
    hashed = "^(" + "|".join(names) + ")-[0-9a-f]{16}$"
    insight["id"]["pattern"] = hashed
    insight["subject"]["pattern"] = hashed
    return schema


@functools.cache
def _validator() -> Validator:
    return schema_validator(insight_schema())


def insight_document(
    asset: str,
    as_of: str,
    insights: Sequence[dict[str, Any]],
    *,
    compared_with: str | None = None,
    resolved: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The file content for `asset`: its insights with the schema version and snapshot time;
    the feed also names the day its changes were judged against (`compared_with`, None when
    there was none) and the insights `resolved` since then (insights/history.py)."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "asset": asset,
        "as_of": as_of,
        "count": len(insights),
        "insights": list(insights),
    }
    if asset == FEED_ASSET:
        document["compared_with"] = compared_with
        document["resolved"] = list(resolved)
    return document


def validate_document(document: dict[str, Any]) -> None:
    """Raise InsightDocumentError listing every way `document` breaks the schema."""
    errors = sorted(_validator().iter_errors(document), key=lambda error: list(error.path))
    if errors:
        lines = [f"  at {instance_location(error.path)}: {error.message}" for error in errors[:20]]
        raise InsightDocumentError(
            f"The insights document for {document.get('asset', '?')} breaks "
            f"{SCHEMA_FILE} (version {SCHEMA_VERSION}):\n" + "\n".join(lines)
        )


def dumps(document: dict[str, Any]) -> str:
    """Stable serialization: same document, same bytes (key order as built, no timestamps)."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
