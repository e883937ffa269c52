"""A real webhook receiver on 127.0.0.1 for the alert tests: an HTTP server in a thread that
records every POST and answers as the test tells it: succeed, fail with a status, be slow, or be
down (its port closed, so connections are refused).

    with WebhookReceiver() as receiver:
        receiver.mode = "fail"           # answer 503
        receiver.url                     # http://127.0.0.1:<port>/hook
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["ok", "fail", "slow", "reject"]


@dataclass(frozen=True)
class Received:
    path: str
    body: dict[str, Any]
    content_type: str


class WebhookReceiver:
    """Start with `with WebhookReceiver() as receiver:`; `stop()` and `start()` take the port
    down and bring it back (the same port), as a webhook that is down and returns."""

    def __init__(self, slow_seconds: float = 3.0, fail_status: int = 503) -> None:
        self.mode: Mode = "ok"
        self.slow_seconds = slow_seconds
        self.fail_status = fail_status
        self.received: list[Received] = []
        self.attempts = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.attempts += 1
                    mode = receiver.mode
                if mode == "slow":
                    time.sleep(receiver.slow_seconds)
                if mode in ("fail", "reject"):
                    status = receiver.fail_status if mode == "fail" else 400
                    self.send_response(status)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            self.path,
                            json.loads(body),
                            self.headers.get("Content-Type", ""),
                        )
                    )
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass  # keep pytest output clean

        return Handler

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item.body for item in self.received]

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
