"""The HTML insights report: per board, the current insights by severity with their evidence,
and the key figures (rendered by jinja2 with autoescape)."""
