"""`jira-insights`: small commands around the Dagster pipeline.

- `summary`: what the last run left in the data folder, and where (printed by `make demo`).
- `generate-sample`: write a sample Jira site of any size (used by the benchmarks).
- `history-range`: the partition range of the last N days of history, ending on the data's
  day, for `dagster asset materialize --partition-range` (`make history`, `make demo`).
- `ask`: a question in plain words, answered by one of the current analyses.
- `mcp`: the insights as an MCP server over stdio (docs/questions.md).
- `browser-login`: open a visible browser on JIRA_BROWSER_PROFILE_DIR to sign in once (SSO,
  two-factor), so the `browser` source can reuse that session headless.
- `serve`: the live insights service over the data folder (docs/service.md; `make serve`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from jira_insights_pipeline.data_folder import DATA_DIR_ENV, DataFolder
from jira_insights_pipeline.raw_store import latest_folder

AS_OF_ENV = "JIRA_INSIGHTS_AS_OF"


def _default_data_dir() -> str:
    return os.environ.get(DATA_DIR_ENV, "data")


def summary(data_dir: Path) -> str:
    """A short account of the warehouse tables and output files under `data_dir`."""
    lines = [f"Results in {data_dir.resolve()}"]
    folder = DataFolder(data_dir)
    latest = latest_folder(folder.raw)
    if latest is not None:
        lines.append(f"  raw snapshot: {latest.resolve()}")
    database = folder.warehouse
    if not database.is_file():
        lines.append(f"  no warehouse at {database}: materialize the assets first (make demo).")
        return "\n".join(lines)
    lines.append(f"  warehouse:    {database.resolve()}")
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "order by table_schema, table_name"
        ).fetchall()
        for schema, table in tables:
            (count,) = connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            lines.append(f"    {schema + '.' + table:<36} {count:>9,} rows")
    insights_dir = folder.insights
    if insights_dir.is_dir():
        lines.append(f"  insights:     {insights_dir.resolve()}")
        for path in sorted(insights_dir.glob("*.json")):
            lines.append(f"    {path.name}")
    feed = folder.insights_feed
    if feed.is_file():
        lines += _findings(json.loads(feed.read_text(encoding="utf-8")).get("insights", []))
    report = folder.report
    if report.is_file():
        lines.append(f"  report:       {report.resolve()}")
    lines.append("Open the Dagster UI with `make dev` to see the runs and the asset graph.")
    return "\n".join(lines)


def _findings(insights: list[dict]) -> list[str]:
    """The insights that need attention, worst first, one line each."""
    order = {"error": 0, "warning": 1}
    alarms = sorted(
        (i for i in insights if i.get("severity") in order), key=lambda i: order[i["severity"]]
    )
    healthy = len(insights) - len(alarms)
    lines = [f"  findings:     {len(alarms)} need attention, {healthy} healthy"]
    lines += [f"    [{i['severity']}] {i['title']}" for i in alarms]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jira-insights", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summary_parser = commands.add_parser("summary", help="what the last run left, and where")
    summary_parser.add_argument("--data-dir", default=_default_data_dir())
    sample_parser = commands.add_parser("generate-sample", help="write a sample Jira site")
    sample_parser.add_argument("--out", required=True, type=Path)
    sample_parser.add_argument("--boards", type=int, default=4)
    sample_parser.add_argument("--sprints", type=int, default=9)
    sample_parser.add_argument("--seed", type=int, default=None)
    range_parser = commands.add_parser(
        "history-range", help="the last N history days, ending on the data's day: FIRST...LAST"
    )
    range_parser.add_argument("--days", type=int, default=30)
    range_parser.add_argument(
        "--last-day", action="store_true", help="print only the last day (for --partition)"
    )
    range_parser.add_argument("--data-dir", default=_default_data_dir())
    commands.add_parser(
        "browser-login",
        help="sign in once in a visible browser (JIRA_BASE_URL, JIRA_BROWSER_PROFILE_DIR)",
    )
    serve_parser = commands.add_parser(
        "serve", help="the insights API and the self-refreshing report page (docs/service.md)"
    )
    serve_parser.add_argument(
        "--data-dir",
        default=_default_data_dir(),
        help="the data folder the pipeline publishes into (JIRA_INSIGHTS_DATA_DIR, else data)",
    )
    serve_parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; any but a loopback one needs JIRA_INSIGHTS_SERVE_TOKEN",
    )
    serve_parser.add_argument("--port", type=int, default=8080, help="TCP port (8080)")
    ask_parser = commands.add_parser(
        "ask", help="a question in plain words, answered by an analysis (docs/questions.md)"
    )
    ask_parser.add_argument("question")
    ask_parser.add_argument("--data-dir", default=_default_data_dir())
    ask_parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    mcp_parser = commands.add_parser(
        "mcp", help="the insights as an MCP server over stdio (docs/questions.md)"
    )
    mcp_parser.add_argument("--data-dir", default=_default_data_dir())
    args = parser.parse_args(argv)

    if args.command == "summary":
        print(summary(Path(args.data_dir)))
        return 0
    if args.command == "generate-sample":
        from jira_insights_pipeline.sample.generator import main as generator_main

        forwarded = ["--out", str(args.out), "--boards", str(args.boards)]
        forwarded += ["--sprints", str(args.sprints)]
        if args.seed is not None:
            forwarded += ["--seed", str(args.seed)]
        return generator_main(forwarded)
    if args.command == "history-range":
        if args.days < 1:
            print("--days takes a number of days, 1 or more.", file=sys.stderr)
            return 2
        from jira_insights_pipeline.partitions import history_range

        try:
            first, last, note = history_range(data_day(Path(args.data_dir), os.environ), args.days)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        if note:
            print(note, file=sys.stderr)
        print(last if args.last_day else f"{first}...{last}")
        return 0
    if args.command == "browser-login":
        return _browser_login()
    if args.command == "serve":
        return _serve(args.data_dir, args.host, args.port)
    if args.command == "ask":
        return _ask(Path(args.data_dir), args.question, args.json)
    if args.command == "mcp":
        from jira_insights_pipeline.mcp_server import serve_stdio

        serve_stdio(Path(args.data_dir))
        return 0
    return 2


def _serve(data_dir: str, host: str, port: int) -> int:
    # Imported here: FastAPI and uvicorn stay out of the other commands' start-up.
    from jira_insights_pipeline.service.server import ServeRefused, run

    if not 0 < port < 65536:
        print(f"--port takes a TCP port, 1 to 65535, not {port}.", file=sys.stderr)
        return 2
    try:
        run(data_dir, host, port, os.environ)
    except ServeRefused as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def data_day(data_dir: Path, environ: Mapping[str, str]) -> date:
    """The UTC day the pipeline's figures are as of, as the pipeline resolves it
    (`resolve_as_of`): JIRA_INSIGHTS_AS_OF when set, else the published snapshot's export time,
    else (nothing published yet) the bundled sample's when the sample is the source, else
    yesterday's."""
    from jira_insights_pipeline.metrics.timeline import resolve_as_of
    from jira_insights_pipeline.resources.io_managers import read_table

    override = environ.get(AS_OF_ENV, "").strip() or None
    snapshot = read_table(DataFolder(data_dir).warehouse, "jira", "jira_snapshot")
    if snapshot is not None and not snapshot.empty:
        exported_at = snapshot["exported_at"].iloc[0]
    elif environ.get("JIRA_SOURCE", "sample").strip() in ("", "sample"):
        from jira_insights_pipeline.sample.generator import EXPORTED_AT

        exported_at = EXPORTED_AT
    else:
        exported_at = datetime.now(tz=UTC) - timedelta(days=1)
    return resolve_as_of(exported_at, override).date()


def _ask(data_dir: Path, question: str, as_json: bool) -> int:
    """Answers `question` from the published feed, the model settling what words leave open."""
    from jira_insights_pipeline.ask import QuestionError, answer_from_feed
    from jira_insights_pipeline.insights.documents import InsightDocumentError
    from jira_insights_pipeline.insights.io_manager import read_insight_file
    from jira_insights_pipeline.service.server import question_model

    feed = DataFolder(data_dir).insights_feed
    if not feed.is_file():
        print(f"No insights feed at {feed}: run the pipeline first (make demo).", file=sys.stderr)
        return 1
    try:
        insights = read_insight_file(feed)["insights"]
        result = answer_from_feed(question, insights, question_model(os.environ))
    except (QuestionError, InsightDocumentError) as error:
        print(error, file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if not result["answered"]:
        print(result["message"])
        print("For example: " + " ".join(result["examples"]))
        return 0
    analysis = result["analysis"]
    where = analysis["board"]["name"] + (f", {analysis['sprint']}" if analysis["sprint"] else "")
    print(f"[{result['severity']}] {result['title']}")
    print(result["message"])
    for tip in result["recommendations"]:
        print(f"  - {tip}")
    print(
        f"(Answered by the {analysis['use_case_label'].lower()} analysis of {where}: "
        f"{result['chosen_because']}. Report: {result['link']})"
    )
    return 0


def _browser_login() -> int:
    from jira_insights_pipeline.live import LiveSourceError, browser_login
    from jira_insights_pipeline.resources.jira_source import JiraSource

    environment = {
        field: os.environ.get(f"JIRA_{field.upper()}")
        for field in ("base_url", "username", "password", "browser_profile_dir")
    }
    if not environment["browser_profile_dir"]:
        print("Set JIRA_BROWSER_PROFILE_DIR to the folder that will keep the signed-in profile.")
        return 2
    try:
        user = browser_login(JiraSource(kind="browser", **environment).live_settings())
    except (LiveSourceError, ValueError) as error:
        print(f"Sign-in failed: {error}")
        return 1
    print(f"Signed in as {user.display_name}. The browser source will reuse this profile.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
