"""Dagster resources of the pipeline."""
