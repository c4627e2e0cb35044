"""The Slack bot: a Bolt app that answers mentions and DMs from the articles.

``create_app()`` builds the Bolt app around an ``Assistant`` (events handled by
``ui.slack_events.SlackBot``); ``ui.slack_http.serve_http()`` serves it over HTTP;
``main()`` reads the tokens and runs it in Socket Mode (``SLACK_APP_TOKEN`` set)
or HTTP mode. Tokens are kept out of the logs by ``ui.slack_redaction``.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import ConfigError, MissingDependencyError
from ui.slack_events import SlackBot
from ui.slack_http import serve_http
from ui.slack_redaction import LogRedactor

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

log = logging.getLogger("ui.slack_bot")  # one logger for the whole bot, whichever module logs


def _require_bolt() -> None:
    try:
        import slack_bolt  # noqa: F401 - optional [slack] extra: fail early, naming it
        import slack_sdk  # noqa: F401
    except ImportError:
        raise MissingDependencyError("slack-bolt", "slack", "The Slack bot") from None


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
    # slack-bolt is the optional [slack] extra (and slow to import): loaded only when a bot is built
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
        assistant = Assistant(Settings.from_env(env))
        assistant.retriever  # noqa: B018 - loads the model and opens the index before the first question
    app = create_app(assistant, token=token, signing_secret=secret, base_url=base_url)

    if app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler  # [slack] extra, Socket Mode only

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
