"""The bundled sample Jira site: a seeded generator of a realistic Jira Cloud site
(`jira_insights_pipeline.sample.generator.generate_site`), and the site it generates with its
default arguments, shipped compressed in `SITE_DIR`.

Regenerate the shipped site (a test checks that it matches a fresh generation):

    python -m jira_insights_pipeline.sample.generator --out jira_insights_pipeline/sample/site

PLANTED.md lists, board by board and sprint by sprint, what the site holds for each use case.
"""

from __future__ import annotations

from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent / "site"

__all__ = ["SITE_DIR"]
