"""Metric tables: plain functions from staging DataFrames to metric DataFrames, no Dagster."""
