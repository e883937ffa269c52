"""How `jira-insights serve` starts the service: where it may listen, and with what token.

The service binds 127.0.0.1 unless told otherwise. Any other address exposes the feed (and
the feedback form) to the network, so it needs a token, `JIRA_INSIGHTS_SERVE_TOKEN`, which
every request must then send as `Authorization: Bearer <token>`. The token is read from the
environment only (never from the command line, where `ps` would show it) and never printed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

TOKEN_ENV = "JIRA_INSIGHTS_SERVE_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class ServeRefused(ValueError):
    """The service must not start as asked; the message says what to change."""


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def serve_token(host: str, environ: Mapping[str, str]) -> str | None:
    """The token the service requires, or None for a local bind without one; ServeRefused for
    a non-local bind without a token."""
    token = environ.get(TOKEN_ENV, "").strip() or None
    if token is None and not is_loopback(host):
        raise ServeRefused(
            f"Refusing to listen on {host}: that address is reachable from other machines, and "
            f"{TOKEN_ENV} is not set. Set it to a long random secret (for example "
            "`export JIRA_INSIGHTS_SERVE_TOKEN=$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')`); clients then send "
            "`Authorization: Bearer <token>`. Or listen on 127.0.0.1 (the default)."
        )
    return token


def question_model(environ: Mapping[str, str]) -> Any:
    """The model that settles open questions: the pipeline's default (or JIRA_INSIGHTS_MODEL_PATH),
    loaded once per process on the first question that needs it; None when
    JIRA_INSIGHTS_LLM=off."""
    from jira_insights_pipeline.resources.llm import MODE_ENV, MODEL_PATH_ENV, LlamaModelResource

    model = LlamaModelResource(
        model_path=environ.get(MODEL_PATH_ENV, ""), mode=environ.get(MODE_ENV, "on")
    )
    return model if model.enabled else None


def run(data_dir: str, host: str, port: int, environ: Mapping[str, str]) -> None:
    """Serves the data folder `data_dir` on host:port until interrupted (uvicorn)."""
    import uvicorn

    from jira_insights_pipeline.service.app import LOCAL_HOSTS, create_app

    token = serve_token(host, environ)
    # A local bind answers only requests addressed to a local name: a web page whose DNS name
    # was rebound to 127.0.0.1 sends its own name as Host, and is turned away.
    hosts = [*LOCAL_HOSTS, host] if is_loopback(host) else None
    app = create_app(data_dir, token=token, allowed_hosts=hosts, model=question_model(environ))
    print(
        f"Serving the insights of {data_dir} on http://{host}:{port}/"
        + (" (token required)" if token else ""),
        flush=True,
    )
    # uvicorn's access log names the method, path and status, never a header: the token
    # never reaches a log.
    uvicorn.run(app, host=host, port=port, log_level="info")
