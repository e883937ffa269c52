"""The one registry of use cases. Everything that treats use cases alike is derived from it:
the threshold sections, the metric assets and their checks, the insight assets and the feed,
the alert sensor, the report and the JSON Schemas' enums.

Adding a use case is a new home under `assets/<name>/` (see `use_case.UseCase`) and one line in
`HOMES`. A home's package itself stays light (its name and its threshold section); its assets,
facts and wording load through `use_cases()`, so the settings resource can know every threshold
section without importing any asset.
"""

from __future__ import annotations

import functools

import dagster as dg
import pydantic
from pydantic import Field

from jira_insights_pipeline.assets import (
    defect_leakage,
    flow,
    missed_target,
    scope_creep,
    team_health,
    velocity,
)
from jira_insights_pipeline.assets.sprints.thresholds import SprintThresholds
from jira_insights_pipeline.use_case import UseCase

# The use cases, in the order the feed, the report and the alerts list them.
HOMES = (scope_creep, missed_target, defect_leakage, team_health, velocity, flow)

# One typed object for every threshold: the sprint ledger's section, then one per use case, each
# defined in its home (`assets/<name>/thresholds.py`) with its defaults and allowed range. It is
# a resource of its own (key `thresholds`, nested in `pipeline_settings`): Dagster replaces the
# whole config of a resource that run config names, so thresholds set in the launchpad must not
# share a resource with the data folder.
Thresholds: type[dg.ConfigurableResource] = pydantic.create_model(
    "Thresholds",
    __base__=dg.ConfigurableResource,
    __doc__="Every threshold the pipeline judges by, one section per use case.",
    sprints=(SprintThresholds, Field(default_factory=SprintThresholds)),
    **{home.NAME: (home.Thresholds, Field(default_factory=home.Thresholds)) for home in HOMES},
)


@functools.cache
def use_cases() -> tuple[UseCase, ...]:
    """Every use case, in `HOMES` order, with its assets, rules, facts and wording loaded."""
    return tuple(home.use_case() for home in HOMES)


def use_case(name: str) -> UseCase:
    """The use case called `name` (an insight's `type`)."""
    for candidate in use_cases():
        if candidate.name == name:
            return candidate
    known = ", ".join(home.NAME for home in HOMES)
    raise KeyError(f"No use case is called {name!r}; the registry lists {known}.")


def use_case_names() -> tuple[str, ...]:
    return tuple(home.NAME for home in HOMES)
