"""Dagster assets: they orchestrate; the logic they call lives in plain modules."""
