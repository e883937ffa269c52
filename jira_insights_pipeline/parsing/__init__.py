"""Parsers that turn a snapshot's raw Jira JSON into the staging tables of `schemas.py`.

Each module handles one thing real Jira sites send in more than one shape (timestamps, field
ids, the Sprint field, Atlassian Document Format, changelogs); `staging.build_staging_tables`
puts them together.
"""
