"""Serving the Slack bot over HTTP: Slack's Events API POSTs, handed to the Bolt app.

``serve_http()`` binds a ``SlackHTTPServer``; each request is size-checked and
shape-checked before Bolt verifies its signature and dispatches it.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger("ui.slack_bot")  # one logger for the whole bot, whichever module logs

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000


class SlackHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that hands Slack's POSTs on ``path`` to a Bolt app.

    Bolt verifies the signature of each request (401 if forged or older than
    five minutes) and acknowledges events at once; answers are posted later
    from Bolt's worker threads, so Slack's 3-second limit is always met.
    """

    daemon_threads = True

    def __init__(self, app: App, host: str, port: int, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.path = path
        super().__init__((host, port), _BoltRequestHandler)

    @property
    def url(self) -> str:
        """The events URL, e.g. ``http://127.0.0.1:3000/slack/events``."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def start_in_thread(self) -> threading.Thread:
        """Serve in a daemon thread; stop with ``shutdown()`` then ``server_close()``."""
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        return thread


class _BoltRequestHandler(BaseHTTPRequestHandler):
    server: SlackHTTPServer

    def do_POST(self) -> None:
        from slack_bolt.request import BoltRequest  # optional [slack] extra, checked by create_app

        request_path, _, query = self.path.partition("?")
        if request_path != self.server.path:
            self._send(404, {}, "")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self._send(413 if length > 0 else 400, {}, "")
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        if not _well_formed(body, self.headers.get("Content-Type") or ""):
            self._send(400, {}, "")
            return
        headers = {k.lower(): self.headers.get_all(k) or [] for k in set(self.headers.keys())}
        resp = self.server.app.dispatch(BoltRequest(body=body, query=query, headers=headers))
        self._send(resp.status, resp.headers, resp.body)

    def do_GET(self) -> None:
        self._send(405 if self.path.partition("?")[0] == self.server.path else 404, {}, "")

    def _send(self, status: int, headers: dict[str, Any], body: str | dict | None) -> None:
        data = (body if isinstance(body, str) else json.dumps(body or "")).encode("utf-8")
        self.send_response(status)
        for key, values in headers.items():
            if key.lower() == "content-length":
                continue
            for value in values if isinstance(values, list | tuple) else [values]:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


def _well_formed(body: str, content_type: str) -> bool:
    """An Events API body must be a JSON object whose ``event``, if any, is an object.

    Bolt assumes this and fails with a dropped connection or a 500 otherwise.
    """
    if "application/x-www-form-urlencoded" in content_type:
        return True
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("event", {}), dict)


def serve_http(
    app: App, *, host: str = "127.0.0.1", port: int = 3000, path: str = EVENTS_PATH
) -> SlackHTTPServer:
    """Bind a ``SlackHTTPServer`` for ``app``; call ``serve_forever()`` or ``start_in_thread()``."""
    return SlackHTTPServer(app, host, port, path)
