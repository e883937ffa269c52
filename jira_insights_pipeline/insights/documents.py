"""The JSON files downstream consumers read: one document per insight asset, validated against
`insight.schema.json` and serialized byte for byte the same way every time."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

SCHEMA_FILE = "insight.schema.json"
SCHEMA_VERSION = "1.0.0"


class InsightDocumentError(ValueError):
    """A document does not follow insight.schema.json."""


@functools.cache
def insight_schema() -> dict[str, Any]:
    """The JSON Schema of insight files (shipped inside the package)."""
    text = resources.files("jira_insights_pipeline.insights").joinpath(SCHEMA_FILE).read_text()
    return json.loads(text)


@functools.cache
def _validator() -> Validator:
    schema = insight_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def insight_document(asset: str, as_of: str, insights: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The file content for `asset`: its insights with the schema version and snapshot time."""
    return {
        "schema_version": SCHEMA_VERSION,
        "asset": asset,
        "as_of": as_of,
        "count": len(insights),
        "insights": list(insights),
    }


def validate_document(document: dict[str, Any]) -> None:
    """Raise InsightDocumentError listing every way `document` breaks the schema."""
    errors = sorted(_validator().iter_errors(document), key=lambda error: list(error.path))
    if errors:
        lines = [
            f"  at {'/'.join(str(part) for part in error.path) or '(top)'}: {error.message}"
            for error in errors[:20]
        ]
        raise InsightDocumentError(
            f"The insights document for {document.get('asset', '?')} breaks "
            f"{SCHEMA_FILE} (version {SCHEMA_VERSION}):\n" + "\n".join(lines)
        )


def dumps(document: dict[str, Any]) -> str:
    """Stable serialization: same document, same bytes (key order as built, no timestamps)."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
