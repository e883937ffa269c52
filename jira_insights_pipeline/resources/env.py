"""Binding optional settings to environment variables.

Dagster resolves a `dg.EnvVar` when a run launches and refuses to launch when the variable is
unset. Most of this pipeline's settings are optional with a sensible default (the sample site
needs no Jira credentials at all), so a variable is bound as an `EnvVar` only when it is set:
its value is still read by Dagster at launch, and secrets stay masked in the UI.
"""

from __future__ import annotations

import os
from typing import TypeVar

import dagster as dg

T = TypeVar("T")


def env_var_or(name: str, default: T) -> dg.EnvVar | T:
    """`dg.EnvVar(name)` when `name` is set in the environment, else `default`."""
    return dg.EnvVar(name) if name in os.environ else default
