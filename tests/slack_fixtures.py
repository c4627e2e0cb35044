"""Helpers for the Slack bot tests: a local stand-in for the Slack Web API,
signed Events API requests, a running bot, and a fake assistant."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from rag.errors import InvalidQuestionError
from rag.types import Answer, Citation

BOT_TOKEN = "xoxb-1111-2222-testtokenABC"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T00000001"
CHANNEL = "C00000001"
DM_CHANNEL = "D00000001"
USER = "U00000001"


# -- the Slack Web API stand-in ---------------------------------------------------


class FakeSlackAPI:
    """Answers the Web API methods the bot uses and records every call.

    Attributes:
        calls: ``(method, params)`` in arrival order.
        threads: ``(channel, thread_ts) -> messages`` served by
            ``conversations.replies``; the bot's own posts are appended.
        errors: ``method -> error code`` to make a method fail.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.errors: dict[str, str] = {}
        self._cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length))

            def _handle(self, raw: bytes) -> None:
                path, _, query = self.path.partition("?")
                method = path.rsplit("/", 1)[-1]
                params = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
                if raw:
                    if "json" in (self.headers.get("Content-Type") or ""):
                        params.update(json.loads(raw))
                    else:
                        params.update({k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()})
                params["_auth"] = self.headers.get("Authorization", "")
                body = json.dumps(api._respond(method, params)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> FakeSlackAPI:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def _respond(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            self.calls.append((method, params))
            self._cond.notify_all()
            if method in self.errors:
                return {"ok": False, "error": self.errors[method]}
            if method == "auth.test":
                return {
                    "ok": True,
                    "url": "https://example.slack.com/",
                    "team": "Test",
                    "user": "ragbot",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "is_enterprise_install": False,
                }
            if method == "chat.postMessage":
                ts = next_ts()
                message = {
                    "type": "message",
                    "user": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "text": params.get("text"),
                    "ts": ts,
                }
                if params.get("thread_ts"):
                    self.threads.setdefault((params["channel"], params["thread_ts"]), []).append(message)
                return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
            if method == "conversations.replies":
                return {"ok": True, "messages": self.threads.get((params["channel"], params["ts"]), [])}
            return {"ok": True}

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._cond:
            return [p for m, p in self.calls if m == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
        """Block until ``method`` was called ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len([1 for m, _ in self.calls if m == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [m for m, _ in self.calls]
                    msg = f"{method} was not called {count} time(s) within {timeout}s; calls: {seen}"
                    raise AssertionError(msg)
                self._cond.wait(left)
            return [p for m, p in self.calls if m == method]


# -- signed Events API requests ---------------------------------------------------


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp and v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


_event_ids = itertools.count(1)
_message_ts = itertools.count(1)


def next_ts() -> str:
    return f"{1700000000 + next(_message_ts)}.000200"


def mention(
    text: str, *, channel: str = CHANNEL, user: str = USER, ts: str | None = None, **extra: Any
) -> dict:
    """An ``app_mention`` event addressed to the bot."""
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts or next_ts(),
        "channel": channel,
        "event_ts": ts,
        **extra,
    }


def direct_message(
    text: str, *, channel: str = DM_CHANNEL, user: str = USER, ts: str | None = None, **extra: Any
) -> dict:
    """A ``message.im`` event."""
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts or next_ts(),
        "channel": channel,
        **extra,
    }


def envelope(event: dict[str, Any], event_id: str | None = None) -> str:
    """The ``event_callback`` body Slack wraps an event in."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "A00000001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST ``body`` like Slack does; return status and response text."""
    req = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# -- a running bot ------------------------------------------------------------------


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that can wait until all work submitted so far is done."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="slack-test")
        self._futures: list[Future] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(pending)} listener(s) still running after {timeout}s")
            time.sleep(0.01)


@dataclass
class RunningBot:
    api: FakeSlackAPI
    url: str
    executor: TrackingExecutor
    app: Any
    secret: str = SIGNING_SECRET
    statuses: list[int] = field(default_factory=list)

    def send(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> int:
        """POST a signed event; return the HTTP status."""
        body = envelope(event, event_id)
        headers = sign(body, secret or self.secret, timestamp)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = post(self.url, body, headers)
        self.statuses.append(status)
        return status

    def settle(self, timeout: float = 60) -> None:
        """Wait until the bot has finished everything it started."""
        self.executor.wait_idle(timeout)

    def replies(self) -> list[dict[str, Any]]:
        return self.api.calls_to("chat.postMessage")


@contextmanager
def running_bot(assistant: Any, **create_kwargs: Any) -> Iterator[RunningBot]:
    """The real Bolt app in HTTP mode on a free loopback port, talking to a ``FakeSlackAPI``."""
    from ui.slack_bot import create_app
    from ui.slack_http import serve_http

    api = FakeSlackAPI().start()
    executor = TrackingExecutor()
    server = None
    try:
        app = create_app(
            assistant,
            token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            base_url=api.base_url,
            listener_executor=executor,
            **create_kwargs,
        )
        server = serve_http(app, host="127.0.0.1", port=0)
        thread = server.start_in_thread()
        yield RunningBot(api=api, url=server.url, executor=executor, app=app)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
            thread.join(5)
        executor.shutdown(wait=True, cancel_futures=True)
        api.stop()


def blocks_text(call: dict[str, Any]) -> str:
    """All mrkdwn text in a ``chat.postMessage`` call's blocks, joined by newlines."""
    out = []
    for block in call.get("blocks") or []:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            out.append(element.get("text", ""))
    return "\n".join(out)


# -- a fake assistant for fast tests ----------------------------------------------------


def sample_answer(question: str = "How much faster was the AI scene?", **changes: Any) -> Answer:
    citation = Citation(
        n=1,
        file="001_795e8594a4bac91d.txt",
        line_start=12,
        line_end=14,
        char_start=100,
        char_end=180,
        quote="Die Szene wurde zehnmal schneller fertiggestellt <als> mit herkömmlichen Mitteln & Werkzeugen.",
        score=0.8,
        passage_id="p1",
    )
    values = {
        "question": question,
        "text": "The AI scene was finished ten times faster [1].",
        "citations": [citation],
        "abstained": False,
    }
    return Answer(**(values | changes))


def declined_answer(question: str = "Who won the 2022 football World Cup?") -> Answer:
    return Answer(question=question, text="The articles don't say.", abstained=True)


class FakeAssistant:
    """Answers from a function; records each question and history."""

    def __init__(self, respond: Callable[[str], Answer] | None = None, *, llm: str | None = None) -> None:
        self.settings = SimpleNamespace(llm=llm)
        self.respond = respond or (lambda q: sample_answer(q))
        self.asked: list[tuple[str, list[dict[str, str]] | None]] = []

    def ask(
        self, question: str, *, history: list[dict[str, str]] | None = None, k: int | None = None
    ) -> Answer:
        if not question.strip():
            msg = "The question is empty. Ask something about the articles."
            raise InvalidQuestionError(msg)
        self.asked.append((question, history))
        return self.respond(question)


# -- the real engine, loaded once per test session ------------------------------------

_real: dict[str, Any] = {}


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real ``Assistant`` (Chroma + default embeddings) over the bundled articles."""
    if "assistant" not in _real:
        from rag.assistant import Assistant

        assistant = Assistant(home=tmp_path_factory.mktemp("slack-rag-home"))
        assistant.ask("How much faster was the AI scene?")  # ingest and load the model once
        _real["assistant"] = assistant
    return _real["assistant"]
