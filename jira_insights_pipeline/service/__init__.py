"""The live insights service (`jira-insights serve`, docs/service.md): the published feed as a
JSON API, the report page refreshing itself, and the team's feedback on each insight.

Importing this package imports nothing heavy; `create_app` (FastAPI) is in `app.py` and the
command's runner in `server.py`.
"""
