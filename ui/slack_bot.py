"""The Slack bot: a Bolt app that answers mentions and DMs from the articles.

``create_app()`` builds the Bolt app around an ``Assistant``; ``serve_http()``
serves it over HTTP; ``main()`` reads the tokens and runs it in Socket Mode
(``SLACK_APP_TOKEN`` set) or HTTP mode.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Executor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError, InvalidQuestionError, MissingDependencyError, RagError
from ui.slack_format import (
    SlackMessage,
    answer_message,
    apology_message,
    question_message,
    slack_to_plain,
    thread_history,
)

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from rag.assistant import Assistant

log = logging.getLogger("ui.slack_bot")

WORKING_REACTION = "hourglass_flowing_sand"
EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000
# Message subtypes that are a person writing something new.
_USER_SUBTYPES = (None, "file_share", "thread_broadcast")


def _require_bolt() -> None:
    try:
        import slack_bolt  # noqa: F401
        import slack_sdk  # noqa: F401
    except ImportError:
        raise MissingDependencyError("slack-bolt", "slack", "The Slack bot") from None


# -- log redaction -----------------------------------------------------------------

_TOKEN_RE = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
# The legacy verification token sits in every Events API body, which Bolt may log.
_BODY_TOKEN_RE = re.compile(r"""(["']token["']\s*:\s*["'])[^"']*""")


class LogRedactor:
    """Removes Slack tokens and given secrets from every log record.

    Installed as the log record factory, so it covers every handler, including
    ones added later; messages are formatted early and exception text is
    pre-rendered so neither can leak a secret.

    Args:
        secrets: Exact strings to hide (tokens, the signing secret); empty
            values are ignored. Anything shaped like ``xoxb-…``/``xapp-…``
            and the ``"token"`` field of logged request bodies are hidden too.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = {s for s in secrets if s}
        self._previous: Callable[..., logging.LogRecord] | None = None

    def redact(self, text: str) -> str:
        """Return ``text`` with secrets and token-shaped strings replaced."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        text = _BODY_TOKEN_RE.sub(r"\1[redacted]", text)
        return _TOKEN_RE.sub(r"\1-[redacted]", text)

    def install(self) -> LogRedactor:
        """Make this the log record factory (wrapping the current one)."""
        if self._previous is None:
            self._previous = logging.getLogRecordFactory()
            logging.setLogRecordFactory(self._make_record)
        return self

    def uninstall(self) -> None:
        """Restore the factory that was in place before ``install()``."""
        if self._previous is not None:
            logging.setLogRecordFactory(self._previous)
            self._previous = None

    def _make_record(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        assert self._previous is not None
        record = self._previous(*args, **kwargs)
        try:
            record.msg = self.redact(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = self.redact(record.stack_info)
        except Exception:  # noqa: BLE001, S110 - a malformed log call must still be logged, not raise here
            pass
        return record


# -- the bot -----------------------------------------------------------------------


class _Seen:
    """A bounded, thread-safe set of keys already handled."""

    def __init__(self, size: int = 5000) -> None:
        self._keys: OrderedDict[Hashable, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: Hashable) -> bool:
        """Record ``key``; True if it had not been seen before."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


class SlackBot:
    """Turns Slack events into questions for the ``Assistant`` and posts replies.

    Args:
        assistant: The engine. A reply in a thread is answered with the thread's
            earlier messages as history, so follow-ups are understood (offline,
            or by the chat model when one is configured).
        history_limit: Most earlier thread messages passed to the engine.
        reaction: Emoji added to the question while the bot works on it.
    """

    def __init__(
        self, assistant: Assistant, *, history_limit: int = 20, reaction: str = WORKING_REACTION
    ) -> None:
        self.assistant = assistant
        self.history_limit = history_limit
        self.reaction = reaction
        self._seen_events = _Seen()
        self._seen_messages = _Seen()

    def is_new_delivery(self, headers: dict[str, Any], body: dict[str, Any]) -> bool:
        """False for Slack retries and for events already delivered."""
        retry = headers.get("x-slack-retry-num")
        if retry:
            reason = headers.get("x-slack-retry-reason") or ["?"]
            log.info("Ignoring Slack retry %s (%s) of event %s", retry[0], reason[0], body.get("event_id"))
            return False
        event_id = body.get("event_id")
        if event_id and not self._seen_events.first_time(event_id):
            log.info("Ignoring duplicate delivery of event %s", event_id)
            return False
        return True

    def handle(
        self, event: dict[str, Any], client: WebClient, bot_user_id: str | None, bot_id: str | None
    ) -> None:
        """Answer one ``app_mention`` or direct ``message`` event in its thread."""
        if event.get("type") == "message" and event.get("channel_type") != "im":
            return
        if event.get("subtype") not in _USER_SUBTYPES or event.get("bot_id"):
            return
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not user or not channel or not ts or user == bot_user_id:
            return
        if not self._seen_messages.first_time((channel, ts)):
            return  # e.g. the same message arriving as app_mention and message.im
        thread_ts = event.get("thread_ts") or ts
        question = slack_to_plain(event.get("text") or "")
        log.info("Question in %s (thread %s): %d characters", channel, thread_ts, len(question))
        reacted = self._react(client, "reactions_add", channel, ts)
        try:
            message = self._answer(client, question, channel, ts, event.get("thread_ts"), bot_user_id, bot_id)
            self._post(client, channel, thread_ts, message)
        except Exception as e:  # noqa: BLE001 - every failure gets an apology, none a traceback
            self._fail(client, channel, thread_ts, e)
        finally:
            if reacted:
                self._react(client, "reactions_remove", channel, ts)

    def _answer(
        self,
        client: WebClient,
        question: str,
        channel: str,
        ts: str,
        thread_ts: str | None,
        bot_user_id: str | None,
        bot_id: str | None,
    ) -> SlackMessage:
        try:
            # The thread's earlier messages let a follow-up ("And when?") be understood,
            # offline or by the chat model.
            history = self._history(client, channel, thread_ts, ts, bot_user_id, bot_id)
            answer = self.assistant.ask(question, history=history or None)
        except InvalidQuestionError as e:
            return question_message(e.message)  # "?" or an empty mention: ask for a question, cite nothing
        return answer_message(answer)

    def _history(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        ts: str,
        bot_user_id: str | None,
        bot_id: str | None,
    ) -> list[dict[str, str]]:
        if not thread_ts:
            return []
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            resp = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        except (SlackApiError, SlackClientError, OSError) as e:
            log.warning(
                "Could not read thread %s in %s, answering without history: %s", thread_ts, channel, e
            )
            return []
        messages = resp.get("messages") or []
        return thread_history(
            messages, before_ts=ts, bot_user_id=bot_user_id, bot_id=bot_id, limit=self.history_limit
        )

    def _post(self, client: WebClient, channel: str, thread_ts: str, message: SlackMessage) -> None:
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )

    def _fail(self, client: WebClient, channel: str, thread_ts: str, error: Exception) -> None:
        from slack_sdk.errors import SlackApiError

        if isinstance(error, RagError):
            log.error("Could not answer in %s (thread %s): %s", channel, thread_ts, error.message)
        elif isinstance(error, SlackApiError):
            code = error.response.get("error") if error.response is not None else error
            log.error("Could not answer in %s (thread %s): Slack API error %s", channel, thread_ts, code)
        else:  # a bug: keep the traceback in the log (never in Slack)
            log.exception("Could not answer in %s (thread %s): %s", channel, thread_ts, type(error).__name__)
        try:
            self._post(client, channel, thread_ts, apology_message())
        except Exception as e:  # noqa: BLE001
            log.error("Could not post the apology in %s (thread %s): %s", channel, thread_ts, e)

    def _react(self, client: WebClient, method: str, channel: str, ts: str) -> bool:
        try:
            getattr(client, method)(channel=channel, timestamp=ts, name=self.reaction)
            return True
        except Exception as e:  # noqa: BLE001 - the reaction is a courtesy; it must not stop the answer
            log.debug("%s failed in %s: %s", method, channel, e)
            return False


def create_app(
    assistant: Assistant,
    *,
    token: str,
    signing_secret: str | None,
    client: WebClient | None = None,
    base_url: str | None = None,
    token_verification_enabled: bool = True,
    bot: SlackBot | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Build the Bolt app that answers mentions and DMs with ``assistant``.

    Args:
        assistant: The engine that answers.
        token: Bot token (``xoxb-…``).
        signing_secret: Verifies HTTP requests; may be empty in Socket Mode.
        client: A ready ``WebClient`` holding the bot token; by default one is
            made from ``token``.
        base_url: Slack Web API URL for the default client (tests point it at a
            local server), e.g. ``http://127.0.0.1:8080/api/``.
        token_verification_enabled: Call ``auth.test`` now to check the token.
        bot: The ``SlackBot`` to use (default: a new one around ``assistant``).
        listener_executor: Runs the answers after the ack (default: Bolt's
            pool of 5 threads).

    Raises:
        MissingDependencyError: slack-bolt is not installed.
        ConfigError: Slack rejected the token.
    """
    _require_bolt()
    from slack_bolt import App, BoltResponse
    from slack_bolt.error import BoltError
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackClientError

    if client is None:
        client = WebClient(token=token, base_url=base_url) if base_url else WebClient(token=token)
    bot = bot or SlackBot(assistant)
    try:
        app = App(
            name="rag-articles",
            token=None if client.token else token,  # Bolt takes the token from the client
            signing_secret=signing_secret or "",
            client=client,
            token_verification_enabled=token_verification_enabled,
            listener_executor=listener_executor,
        )
    except (BoltError, SlackClientError) as e:
        msg = (
            "Slack did not accept SLACK_BOT_TOKEN (auth.test failed). Copy the Bot User OAuth Token again from "
            f"your app's settings: OAuth & Permissions. ({type(e).__name__})"
        )
        raise ConfigError(msg) from None

    @app.middleware
    def drop_retries_and_duplicates(req, next_):
        if not bot.is_new_delivery(req.headers, req.body):
            return BoltResponse(status=200, body="")
        return next_()

    @app.event("app_mention")
    def on_mention(event, client, context):
        bot.handle(event, client, context.bot_user_id, context.bot_id)

    @app.event("message")
    def on_message(event, client, context):
        bot.handle(event, client, context.bot_user_id, context.bot_id)

    app.slack_bot = bot  # type: ignore[attr-defined]
    return app


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
        from slack_bolt.request import BoltRequest

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
        import json

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
    import json

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


# -- entry point -------------------------------------------------------------------


def _read_tokens(env: dict[str, str]) -> tuple[str, str | None, str | None]:
    token = env.get("SLACK_BOT_TOKEN", "").strip()
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
    if not token:
        msg = (
            "Set SLACK_BOT_TOKEN to your app's Bot User OAuth Token (starts with xoxb-). "
            "Find it at https://api.slack.com/apps → your app → OAuth & Permissions, after installing the app."
        )
        raise ConfigError(msg)
    if not token.startswith("xoxb-"):
        msg = (
            "SLACK_BOT_TOKEN must be the Bot User OAuth Token, which starts with xoxb- (OAuth & Permissions)."
        )
        raise ConfigError(msg)
    if app_token and not app_token.startswith("xapp-"):
        msg = (
            "SLACK_APP_TOKEN must be an app-level token starting with xapp- with the connections:write scope "
            "(Basic Information → App-Level Tokens). Unset it to run in HTTP mode."
        )
        raise ConfigError(msg)
    if not app_token and not secret:
        msg = (
            "Set SLACK_SIGNING_SECRET to run in HTTP mode: https://api.slack.com/apps → your app → "
            "Basic Information → App Credentials → Signing Secret. "
            "Or set SLACK_APP_TOKEN (an xapp- app-level token) to use Socket Mode instead."
        )
        raise ConfigError(msg)
    return token, app_token, secret


def main(
    port: int | None = None,
    *,
    host: str | None = None,
    env: dict[str, str] | None = None,
    assistant: Assistant | None = None,
    base_url: str | None = None,
) -> int:
    """Run the Slack bot until interrupted.

    Socket Mode when ``SLACK_APP_TOKEN`` is set; otherwise HTTP mode on ``port``
    (default ``RAG_SLACK_PORT``, 3000) and ``host`` (default ``RAG_SLACK_HOST``
    or 0.0.0.0), with Slack's requests verified by ``SLACK_SIGNING_SECRET``.

    Args:
        port: HTTP mode port.
        host: HTTP mode address to bind.
        env: Environment to read (default ``os.environ``).
        assistant: The engine (default: ``Assistant`` from ``RAG_*`` settings).
        base_url: Slack Web API URL, for a local stand-in in tests.

    Returns:
        The exit code, 0 after a clean stop.

    Raises:
        ConfigError: A token or secret is missing or malformed.
        MissingDependencyError: slack-bolt is not installed.
    """
    env = dict(os.environ if env is None else env)
    token, app_token, secret = _read_tokens(env)
    _require_bolt()
    LogRedactor([token, app_token, secret]).install()

    if assistant is None:
        from rag.assistant import Assistant
        from rag.config import Settings

        assistant = Assistant(Settings.from_env(env))
        assistant.retriever  # noqa: B018 - loads the model and opens the index before the first question
    app = create_app(assistant, token=token, signing_secret=secret, base_url=base_url)

    if app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("Slack bot connecting in Socket Mode")
        SocketModeHandler(app, app_token).start()
        return 0

    port = port or assistant.settings.slack_port
    host = host or env.get("RAG_SLACK_HOST") or "127.0.0.1"
    try:
        server = serve_http(app, host=host, port=port)
    except OSError as e:
        msg = (
            f"Can't listen on {host}:{port} ({e.strerror}). Pick another port with --port or RAG_SLACK_PORT."
        )
        raise ConfigError(msg) from None
    log.info("Slack bot listening in HTTP mode on %s", server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
