"""The live insights service: a FastAPI app over one data folder (docs/service.md).

It reads what the pipeline last published (the feed, validated on read, and the report page)
and writes only its own feedback file (`<data folder>/feedback/feedback.sqlite3`). Endpoints:

    GET  /                               the report page, refreshing itself, with feedback buttons
    GET  /api/health                     whether there is a feed to serve
    GET  /api/version                    a tag of the published files (ETag; 304 when unchanged)
    GET  /api/insights                   the feed's insights, filtered, ordered, dismissed hidden
    GET  /api/boards, /api/boards/{id}   per board: counts; its insights and resolved problems
    POST /api/insights/{id}/feedback     a verdict: helpful, not_helpful or dismiss (+ a note)
    POST /api/ask                        a question in plain words, answered by an analysis
    GET  /openapi.json                   the OpenAPI description (FastAPI's)

Safety (every request, before any endpoint): the Host header must be a local name unless the
service was bound to another address (a DNS-rebinding page cannot reach a local service), a
configured token must come as `Authorization: Bearer <token>`, and a POST must be JSON, of a
sane size, and from the service's own page when the browser says where it comes from (Origin).
"""

from __future__ import annotations

import hmac
import html
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from jira_insights_pipeline.ask import MAX_QUESTION_CHARS, Chooser, answer_from_feed
from jira_insights_pipeline.data_folder import DataFolder
from jira_insights_pipeline.registry import use_case_names
from jira_insights_pipeline.service.feed import Feed, FeedUnavailable, FileStamp, PublishedFiles
from jira_insights_pipeline.service.feedback import (
    FeedbackStore,
    feedback_path,
    is_dismissed,
    order_insights,
)
from jira_insights_pipeline.service.models import (
    AskAnswer,
    AskIn,
    BoardDetail,
    BoardList,
    BoardSummary,
    Change,
    FeedbackIn,
    FeedbackOut,
    Health,
    InsightList,
    Problem,
    ResolvedList,
    Severity,
    SeverityCounts,
    Version,
)
from jira_insights_pipeline.service.page import CONTENT_SECURITY_POLICY, served_page

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A verdict with a 500-character note fits, even when every character is JSON-escaped as a
# surrogate pair (12 bytes, as Python's json and many clients write an emoji).
MAX_BODY_BYTES = 16384
DEFAULT_POLL_SECONDS = 5.0
# Questions per client and minute: the model is one per process, on two cores.
QUESTIONS_PER_MINUTE = 20


class RateLimit:
    """At most `limit` calls per client in any `window_seconds` (a sliding window, in memory:
    a restart forgets it, which only lets a client ask again sooner)."""

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._calls: dict[str, list[float]] = {}
        # FastAPI runs the endpoint in a thread pool: the count is taken under a lock.
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._calls.get(client, []) if now - t < self.window]
            allowed = len(recent) < self.limit
            if allowed:
                recent.append(now)
            self._calls[client] = recent
            return allowed


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _guard(
    token: str | None,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The checks every request passes before an endpoint sees it (see the module docstring)."""
    expected = None if token is None else token.encode("utf-8")

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if expected is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            # compare_digest: the time taken tells nothing about how much of a guess was right.
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode("utf-8"), expected
            ):
                return _problem(
                    401,
                    "This service needs its token: send `Authorization: Bearer <token>` "
                    "(the value of JIRA_INSIGHTS_SERVE_TOKEN it was started with).",
                    {"WWW-Authenticate": "Bearer"},
                )
        if request.method in UNSAFE_METHODS:
            origin = request.headers.get("origin")
            own = f"{request.url.scheme}://{request.headers.get('host', '')}"
            if origin is not None and origin != own:
                return _problem(
                    403, "Feedback is accepted only from this service's own page (Origin)."
                )
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json":
                return _problem(415, "Send the body as JSON (Content-Type: application/json).")
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return _problem(411, "Send a Content-Length with the JSON body.")
            if int(length) > MAX_BODY_BYTES:
                return _problem(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return guard


def _counts(insights: Sequence[dict[str, Any]]) -> SeverityCounts:
    counts = SeverityCounts()
    for insight in insights:
        setattr(counts, insight["severity"], getattr(counts, insight["severity"]) + 1)
    return counts


def create_app(
    data_dir: str | os.PathLike[str] | DataFolder,
    *,
    token: str | None = None,
    allowed_hosts: Sequence[str] | None = LOCAL_HOSTS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    model: Chooser | None = None,
    questions_per_minute: int = QUESTIONS_PER_MINUTE,
) -> FastAPI:
    """The service over the data folder `data_dir`. `token`: required of every request when
    given (`JIRA_INSIGHTS_SERVE_TOKEN`). `allowed_hosts`: the host names a request may be
    addressed to (the Host header; the local names by default), None for any (a non-local
    bind, which has a token). `poll_seconds`: how often the
    served page asks whether the published files changed. `model`: what settles a question
    the names and words leave open (the default model, loaded on the first such question;
    None: such a question gets what can be asked)."""
    folder = data_dir if isinstance(data_dir, DataFolder) else DataFolder.at(data_dir)
    files = PublishedFiles(folder)
    store = FeedbackStore(feedback_path(folder.root))
    known_use_cases = tuple(use_case_names())

    app = FastAPI(
        title="Jira insights",
        version="1.0.0",
        summary="The insights the pipeline last published, and the team's feedback on them.",
        responses={503: {"model": Problem, "description": "No published feed to serve"}},
        # FastAPI's /docs and /redoc pages load their scripts from a CDN: nothing here may
        # make a browser fetch from outside. The description itself stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.middleware("http")(_guard(token))
    # Added last, so it runs first: a request for a foreign host name gets nothing else.
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=["*"] if allowed_hosts is None else list(allowed_hosts)
    )
    app.state.store = store
    app.state.files = files

    @app.exception_handler(FeedUnavailable)
    async def feed_unavailable(request: Request, error: FeedUnavailable) -> JSONResponse:
        return _problem(503, str(error))

    def hidden_subjects(feed: Feed) -> set[str]:
        dismissals = store.dismissals()
        return {
            insight["subject"]
            for insight in feed.insights
            if is_dismissed(insight, dismissals.get(insight["subject"]))
        }

    @app.get("/api/health", response_model=Health, tags=["service"])
    def health() -> Health:
        """Whether a valid published feed is there to serve, and which."""
        feed: Feed | None = None
        problem: str | None = None
        try:
            feed = files.feed()
        except FeedUnavailable as error:
            problem = str(error)
        return Health(
            ok=feed is not None,
            data_folder=str(folder.root.resolve()),
            feed_exists=folder.insights_feed.is_file(),
            as_of=None if feed is None else feed.document["as_of"],
            schema_version=None if feed is None else feed.document["schema_version"],
            problem=problem,
            feedback_store=str(store.path.resolve()),
        )

    @app.get(
        "/api/version",
        response_model=Version,
        tags=["service"],
        responses={304: {"description": "Nothing changed since the ETag sent"}},
    )
    def version(request: Request) -> Response:
        """A tag of the published feed and page: the page polls it, conditionally."""
        tag = files.version()
        etag = f'"{tag}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
        stamp = FileStamp.of(folder.insights_feed)
        try:
            as_of: str | None = files.feed().document["as_of"]
        except FeedUnavailable:
            as_of = None
        body = Version(
            version=tag, as_of=as_of, feed_mtime_ns=None if stamp is None else stamp.mtime_ns
        )
        return JSONResponse(body.model_dump(), headers={"ETag": etag, "Cache-Control": "no-cache"})

    @app.get("/api/insights", response_model=InsightList | ResolvedList, tags=["insights"])
    def insights(
        board: Annotated[int | None, Query(description="Only this board (its Jira id).")] = None,
        severity: Annotated[Severity | None, Query()] = None,
        use_case: Annotated[
            str | None, Query(alias="type", description="Only this use case.")
        ] = None,
        change: Annotated[
            Change | None, Query(description="Only insights of this change since the last day.")
        ] = None,
        status: Annotated[
            Literal["current", "resolved"],
            Query(description="`resolved`: the problems no longer raised since `compared_with`."),
        ] = "current",
        include_dismissed: Annotated[
            bool, Query(description="Also the insights the team dismissed.")
        ] = False,
    ) -> InsightList | ResolvedList:
        """The published feed's insights, most severe first, then the use cases the team found
        most helpful, then the feed's order."""
        if use_case is not None and use_case not in known_use_cases:
            raise HTTPException(
                422, f"Unknown use case {use_case!r}: use one of {', '.join(known_use_cases)}."
            )
        feed = files.feed()
        header = {
            "as_of": feed.document["as_of"],
            "compared_with": feed.document["compared_with"],
            "schema_version": feed.document["schema_version"],
        }

        def wanted(insight: dict[str, Any]) -> bool:
            return (
                (board is None or int(insight["board"]["id"]) == board)
                and (severity is None or insight["severity"] == severity)
                and (use_case is None or insight["type"] == use_case)
            )

        if status == "resolved":
            if change is not None:
                raise HTTPException(422, "`change` applies to current insights only.")
            resolved = [item for item in feed.resolved if wanted(item)]
            return ResolvedList(**header, count=len(resolved), resolved=resolved)  # type: ignore[arg-type]
        matching = [
            insight
            for insight in feed.insights
            if wanted(insight) and (change is None or insight["change"] == change)
        ]
        hidden = hidden_subjects(feed)
        shown = [
            insight for insight in matching if include_dismissed or insight["subject"] not in hidden
        ]
        helpfulness = store.helpfulness()
        return InsightList(
            **header,
            count=len(shown),
            hidden_by_dismissal=len(matching) - len(shown),
            helpfulness=helpfulness,
            insights=order_insights(shown, helpfulness),  # type: ignore[arg-type]
        )

    def board_names(feed: Feed) -> dict[int, str]:
        names: dict[int, str] = {}
        for insight in [*feed.insights, *feed.resolved]:
            names.setdefault(int(insight["board"]["id"]), str(insight["board"]["name"]))
        return names

    @app.get("/api/boards", response_model=BoardList, tags=["boards"])
    def boards() -> BoardList:
        """Every board of the feed, with its insights counted by severity."""
        feed = files.feed()
        hidden = hidden_subjects(feed)
        summaries = []
        for board_id, name in sorted(board_names(feed).items()):
            own = [i for i in feed.insights if int(i["board"]["id"]) == board_id]
            summaries.append(
                BoardSummary(
                    id=board_id,
                    name=name,
                    counts=_counts(own),
                    dismissed=sum(1 for i in own if i["subject"] in hidden),
                )
            )
        return BoardList(
            as_of=feed.document["as_of"],
            compared_with=feed.document["compared_with"],
            schema_version=feed.document["schema_version"],
            boards=summaries,
        )

    @app.get(
        "/api/boards/{board_id}",
        response_model=BoardDetail,
        tags=["boards"],
        responses={404: {"model": Problem, "description": "No such board in the feed"}},
    )
    def board_detail(
        board_id: Annotated[int, Path(description="The board's Jira id.")],
        include_dismissed: bool = False,
    ) -> BoardDetail:
        """One board: its key figures (the published report's), its insights (ordered as
        /api/insights orders them) and the problems resolved since the day compared with."""
        feed = files.feed()
        names = board_names(feed)
        if board_id not in names:
            raise HTTPException(404, "No board of that id in the published feed.")
        hidden = hidden_subjects(feed)
        own = [i for i in feed.insights if int(i["board"]["id"]) == board_id]
        shown = [i for i in own if include_dismissed or i["subject"] not in hidden]
        return BoardDetail(
            id=board_id,
            name=names[board_id],
            counts=_counts(own),
            dismissed=sum(1 for i in own if i["subject"] in hidden),
            as_of=feed.document["as_of"],
            compared_with=feed.document["compared_with"],
            figures=[vars(figure) for figure in files.figures().get(board_id, [])],  # type: ignore[misc]
            insights=order_insights(shown, store.helpfulness()),  # type: ignore[arg-type]
            resolved=[r for r in feed.resolved if int(r["board"]["id"]) == board_id],  # type: ignore[misc]
        )

    @app.post(
        "/api/insights/{insight_id}/feedback",
        response_model=FeedbackOut,
        status_code=201,
        tags=["feedback"],
        responses={
            404: {"model": Problem, "description": "No such insight in the feed"},
            403: {"model": Problem, "description": "Sent from another site (Origin)"},
            415: {"model": Problem, "description": "Not JSON"},
        },
    )
    def feedback(insight_id: str, verdict: FeedbackIn) -> FeedbackOut:
        """Records the team's verdict on an insight, attached to its `subject`: `dismiss` hides
        it until its severity rises or its facts change; helpful and not_helpful order the use
        cases."""
        feed = files.feed()
        insight = feed.insight(insight_id)
        if insight is None:
            raise HTTPException(
                404,
                "No insight of that id in the published feed (ids change with every run): "
                "reload the page or GET /api/insights for the current ids.",
            )
        record = store.record(insight, verdict.verdict, verdict.note)
        hidden = is_dismissed(insight, store.dismissals().get(insight["subject"]))
        return FeedbackOut(**vars(record), hidden=hidden)  # type: ignore[arg-type]

    questions = RateLimit(questions_per_minute)

    @app.post(
        "/api/ask",
        response_model=AskAnswer,
        response_model_exclude_none=True,
        tags=["questions"],
        responses={
            429: {"model": Problem, "description": "Too many questions from this client"},
            422: {"model": Problem, "description": f"Empty, or over {MAX_QUESTION_CHARS} chars"},
        },
    )
    def ask_question(body: AskIn, request: Request) -> dict[str, Any]:
        """Answers a question in plain words with the analysis it maps to (docs/questions.md):
        that analysis's grounded insight, saying which one and why, or what can be asked."""
        client = request.client.host if request.client else "unknown"
        if not questions.allow(client):
            raise HTTPException(
                429, f"At most {questions_per_minute} questions a minute; ask again shortly."
            )
        feed = files.feed()
        return answer_from_feed(body.question, feed.insights, model)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        """The report page with the service's script (the file on disk stays script-free)."""
        try:
            feed = files.feed()
            text = files.page()
        except FeedUnavailable as error:
            body = (
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                "<title>Jira insights: nothing published yet</title></head><body>"
                f"<p>{html.escape(str(error))}</p></body></html>"
            )
            return HTMLResponse(body, status_code=503)
        hidden = hidden_subjects(feed)
        served = served_page(
            text,
            version=files.version(),
            hidden_insight_ids=[i["id"] for i in feed.insights if i["subject"] in hidden],
            poll_seconds=poll_seconds,
        )
        return HTMLResponse(
            served,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-cache",
            },
        )

    return app
