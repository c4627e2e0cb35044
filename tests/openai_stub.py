"""A scripted OpenAI-compatible HTTP server on loopback, for tests.

It answers ``POST /v1/chat/completions`` (JSON, or SSE when ``"stream": true``)
and ``GET /v1/models`` with replies queued by the test, and records every
request. Replies can be delayed (to trigger client timeouts), cut short, or
carry a malformed SSE event.

Example:
    >>> with OpenAIStub() as stub:
    ...     stub.push("The scene was ten times faster. [1]")
    ...     ChatOpenAI(model="m", base_url=stub.url, api_key="x").invoke("hi")
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Content = str | Callable[[dict[str, Any]], str]


@dataclass
class Reply:
    """One scripted response.

    Attributes:
        content: The assistant text, or a function of the request body returning it
            (e.g. to cite whichever passage number holds a phrase).
        status: HTTP status; other than 200 sends an OpenAI-style error body.
        delay: Seconds to wait before sending anything (timeouts).
        chunk_delay: Seconds between SSE events.
        chunk_size: Characters per SSE delta.
        malformed: Send an event that isn't JSON after the first delta.
        cut: Close the connection after this many deltas, without ``[DONE]``.
        when: Use this reply only for requests it returns True for.
    """

    content: Content = ""
    status: int = 200
    delay: float = 0.0
    chunk_delay: float = 0.0
    chunk_size: int = 8
    malformed: bool = False
    cut: int | None = None
    when: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class Recorded:
    """A request the stub received.

    ``pieces_sent`` counts the content deltas written before the reply ended or the
    client went away; ``hung_up`` is set when the client closed the connection before
    the reply was complete (e.g. it gave up waiting).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    pieces_sent: int = 0
    _hung_up: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def hung_up(self) -> bool:
        return self._hung_up.is_set()

    def wait_hung_up(self, timeout: float = 30) -> bool:
        """Wait until the client has closed the connection early; False if it hasn't within ``timeout``."""
        return self._hung_up.wait(timeout)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


class OpenAIStub:
    """The server. Replies are used in order; ``default`` answers when none is queued."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply("Stub reply.")
        self.requests: list[Recorded] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------
    def start(self, port: int = 0) -> OpenAIStub:
        """Listen on 127.0.0.1:``port`` (0 = any free port) in a daemon thread."""
        stub = self

        class Handler(_Handler):
            owner = stub

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(target=server.serve_forever, name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed replies in flight are woken and dropped."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the stub first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL for clients, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, content: Content | Reply = "", **options: Any) -> Reply:
        """Queue a reply: ``push("text")``, ``push(fn, delay=2)`` or ``push(Reply(...))``."""
        reply = content if isinstance(content, Reply) else Reply(content, **options)
        with self._lock:
            self._script.append(reply)
        return reply

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- used by the handler ------------------------------------------------------------
    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            for i, reply in enumerate(self._script):
                if reply.when is None or reply.when(body):
                    return self._script.pop(i)
        return self.default

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True if the stub is stopping."""
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.owner.requests.append(
            Recorded("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        )
        if self.path.rstrip("/").endswith("/models"):
            self._json(
                200,
                {"object": "list", "data": [{"id": "scripted-model", "object": "model", "owned_by": "stub"}]},
            )
        else:
            self._json(404, _error("not found", "invalid_request_error"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, _error("request body is not JSON", "invalid_request_error"))
            return
        self.recorded = Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.owner.requests.append(self.recorded)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, _error("not found", "invalid_request_error"))
            return
        reply = self.owner._next(body)
        if self._wait(reply.delay):
            return
        if reply.status != 200:
            self._json(reply.status, _error(f"scripted error {reply.status}", "server_error"))
            return
        content = reply.content(body) if callable(reply.content) else reply.content
        model = body.get("model", "scripted-model")
        try:
            if body.get("stream"):
                self._sse(reply, content, model, body)
            else:
                self._json(200, _completion(content, model))
        except (BrokenPipeError, ConnectionResetError):
            self.recorded._hung_up.set()

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds`` before sending more, watching the connection.

        True (send nothing more) if the stub is stopping or the client has closed
        the connection, which is then recorded as a hang-up.
        """
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            if self.owner._stopping.is_set():
                return True
            if self._client_closed():
                self.recorded._hung_up.set()
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.owner._sleep(min(0.02, left))

    def _client_closed(self) -> bool:
        # poll, not select: select() refuses descriptors above 1023, which a long test run reaches
        poller = select.poll()
        poller.register(self.connection, select.POLLIN)
        if not poller.poll(0):
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, reply: Reply, content: str, model: str, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        base = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

        def event(data: str) -> None:
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

        event(
            json.dumps(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                    ],
                }
            )
        )
        size = max(1, reply.chunk_size)
        pieces = [content[i : i + size] for i in range(0, len(content), size)]
        for i, piece in enumerate(pieces):
            if reply.cut is not None and i >= reply.cut:
                return
            if self._wait(reply.chunk_delay):
                return
            event(
                json.dumps(
                    {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                )
            )
            self.recorded.pieces_sent += 1
            if reply.malformed and i == 0:
                event('{"id": "chatcmpl-stub", "choices": [{"delta": {"content": "broken')
        event(json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        if (body.get("stream_options") or {}).get("include_usage"):
            event(json.dumps({**base, "choices": [], "usage": _usage(content)}))
        event("[DONE]")


def _completion(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(content),
    }


def _usage(content: str) -> dict[str, int]:
    tokens = max(1, len(content.split()))
    return {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def passage_numbers(body: dict[str, Any]) -> dict[int, str]:
    """The numbered passages in a chat request built by ``rag.generation.prompts``, as ``{n: text}``."""
    import re

    text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    return {
        int(n): t for n, t in re.findall(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', text, re.DOTALL)
    }


def cite_where(phrases: str | list[str], template: str) -> Callable[[dict[str, Any]], str]:
    """Content that fills ``{n}`` in ``template`` with the number of the first passage holding a phrase.

    Phrases are matched case-insensitively, ignoring typographic hyphens and
    spaces. Falls back to ``1`` when no passage holds one.
    """
    wanted = [_plain(p) for p in ([phrases] if isinstance(phrases, str) else phrases)]

    def content(body: dict[str, Any]) -> str:
        numbered = sorted(passage_numbers(body).items())
        found = [n for n, t in numbered if any(w in _plain(t) for w in wanted)]
        return template.format(n=found[0] if found else 1)

    return content


def _plain(text: str) -> str:
    from rag.text import normalize

    return normalize(text)
