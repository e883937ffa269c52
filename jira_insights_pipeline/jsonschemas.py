"""JSON Schemas shipped inside the package, and the validators that check files against them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.protocols import Validator


def packaged_schema(package: str, schema_file: str) -> dict[str, Any]:
    """The JSON Schema `schema_file` shipped as data inside `package`."""
    text = resources.files(package).joinpath(schema_file).read_text()
    return json.loads(text)


def schema_validator(schema: dict[str, Any]) -> Validator:
    """A validator for the draft `schema` declares; also checks `format`s. The schema itself is
    checked first, so a broken schema fails loudly instead of letting everything pass."""
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def instance_location(path: Iterable[str | int]) -> str:
    """Where in the checked document an error is, e.g. `insights/0/id`; `(top)` at the root."""
    return "/".join(str(part) for part in path) or "(top)"
