"""The real Bolt app over loopback HTTP with a fake assistant and a local Slack API."""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.request

import pytest

from rag.errors import ConfigError, MissingDependencyError, StoreUnavailableError
from tests.slack_fixtures import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL,
    SIGNING_SECRET,
    FakeAssistant,
    FakeSlackAPI,
    blocks_text,
    declined_answer,
    direct_message,
    mention,
    next_ts,
    post,
    running_bot,
    sign,
)
from ui.slack_bot import create_app, main
from ui.slack_format import APOLOGY_TEXT, DECLINED_TEXT
from ui.slack_redaction import LogRedactor


@pytest.fixture
def fake():
    return FakeAssistant()


@pytest.fixture
def bot(fake):
    with running_bot(fake) as running:
        yield running


def test_mention_is_answered_in_its_thread_with_sources(bot, fake):
    event = mention("How much faster was the AI scene?")
    assert bot.send(event) == 200
    reply = bot.api.wait_for("chat.postMessage")[0]
    assert reply["channel"] == CHANNEL
    assert reply["thread_ts"] == event["ts"]
    assert reply["text"] == "The AI scene was finished ten times faster [1]."
    text = blocks_text(reply)
    assert "*Sources*" in text and "*[1]* 001_795e8594a4bac91d.txt, lines 12-14" in text
    assert fake.asked == [("How much faster was the AI scene?", None)]
    assert reply["_auth"] == f"Bearer {BOT_TOKEN}"


def test_working_reaction_is_added_then_removed_on_the_question(bot):
    event = mention("How much faster was the AI scene?")
    bot.send(event)
    bot.settle()
    added, removed = bot.api.calls_to("reactions.add"), bot.api.calls_to("reactions.remove")
    assert [(c["channel"], c["timestamp"], c["name"]) for c in added] == [
        (CHANNEL, event["ts"], "hourglass_flowing_sand")
    ]
    assert [(c["channel"], c["timestamp"]) for c in removed] == [(CHANNEL, event["ts"])]
    order = [m for m, _ in bot.api.calls if m in ("reactions.add", "chat.postMessage", "reactions.remove")]
    assert order == ["reactions.add", "chat.postMessage", "reactions.remove"]


def test_mention_inside_a_thread_replies_to_that_thread(bot):
    parent = next_ts()
    bot.send(mention("And how many people worked on it?", thread_ts=parent))
    assert bot.api.wait_for("chat.postMessage")[0]["thread_ts"] == parent


def test_direct_message_is_answered(bot, fake):
    event = direct_message("Wie viel schneller war die Szene?")
    bot.send(event)
    reply = bot.api.wait_for("chat.postMessage")[0]
    assert (reply["channel"], reply["thread_ts"]) == (event["channel"], event["ts"])
    assert fake.asked[0][0] == "Wie viel schneller war die Szene?"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(direct_message("my own answer", user=BOT_USER_ID), id="own-message"),
        pytest.param(direct_message("my own post", bot_id=BOT_ID, user=None), id="own-bot-id"),
        pytest.param(
            direct_message("hello from another bot", bot_id="BOTHER", subtype="bot_message"), id="other-bot"
        ),
        pytest.param(direct_message("edited", subtype="message_changed"), id="edit"),
        pytest.param(
            direct_message("channel chatter", channel_type="channel", channel=CHANNEL), id="channel-message"
        ),
    ],
)
def test_ignored_messages_get_no_reply(bot, fake, event):
    assert bot.send(event) == 200
    bot.settle()
    assert bot.replies() == [] and fake.asked == []
    assert bot.api.calls_to("reactions.add") == []


def test_forged_signature_is_rejected(bot, fake):
    assert bot.send(mention("How much faster?"), secret="not-the-secret") == 401
    bot.settle()
    assert bot.replies() == [] and fake.asked == []


def test_expired_signature_is_rejected(bot, fake):
    assert bot.send(mention("How much faster?"), timestamp=int(time.time()) - 600) == 401
    bot.settle()
    assert bot.replies() == [] and fake.asked == []


def test_unsigned_request_is_rejected(bot):
    body = json.dumps({"type": "event_callback", "event": mention("hi")})
    assert post(bot.url, body, {})[0] == 401
    bot.settle()
    assert bot.replies() == []


def test_retry_gets_no_second_reply(bot, fake):
    event = mention("How much faster was the AI scene?")
    assert bot.send(event, event_id="Ev1") == 200
    bot.api.wait_for("chat.postMessage")
    assert bot.send(event, event_id="Ev1", retry_num=1) == 200
    assert bot.send(event, event_id="Ev1", retry_num=2) == 200
    bot.settle()
    assert len(bot.replies()) == 1 and len(fake.asked) == 1


def test_retry_while_the_first_answer_is_still_running_gets_no_second_reply():
    import threading

    release = threading.Event()
    slow = FakeAssistant()
    first = slow.respond

    def respond(question):
        release.wait(10)
        return first(question)

    slow.respond = respond
    with running_bot(slow) as bot:
        event = mention("How much faster was the AI scene?")
        assert bot.send(event, event_id="EvSlow") == 200
        assert bot.send(event, event_id="EvSlow", retry_num=1) == 200
        release.set()
        bot.settle()
        assert len(bot.replies()) == 1


def test_duplicate_delivery_without_retry_header_gets_no_second_reply(bot, fake):
    event = mention("How much faster was the AI scene?")
    bot.send(event, event_id="EvDup")
    bot.send(event, event_id="EvDup")
    bot.settle()
    assert len(bot.replies()) == 1


def test_same_message_as_mention_and_dm_is_answered_once(bot, fake):
    ts = next_ts()
    bot.send(mention("How much faster?", channel="D00000009", ts=ts, channel_type="im"))
    bot.send(direct_message(f"<@{BOT_USER_ID}> How much faster?", channel="D00000009", ts=ts))
    bot.settle()
    assert len(bot.replies()) == 1 and len(fake.asked) == 1


def test_declined_question_lists_no_sources():
    with running_bot(FakeAssistant(lambda q: declined_answer(q))) as bot:
        bot.send(mention("Who won the 2022 football World Cup?"))
        reply = bot.api.wait_for("chat.postMessage")[0]
        text = blocks_text(reply)
        assert DECLINED_TEXT in text
        assert "Sources" not in text and "[1]" not in text


def test_empty_mention_explains_what_to_ask(bot):
    bot.send(mention(""))
    reply = bot.api.wait_for("chat.postMessage")[0]
    # One line asking for a question: no apology, no sources.
    assert reply["text"] == "The question is empty. Ask something about the articles."
    assert "Sources" not in blocks_text(reply) and "[1]" not in blocks_text(reply)


def test_unexpected_error_gives_an_apology_and_a_log_line_without_traceback(caplog):
    def boom(question):
        raise RuntimeError("internal detail that must stay in the log")

    caplog.set_level(logging.INFO, logger="ui.slack_bot")
    with running_bot(FakeAssistant(boom)) as bot:
        event = mention("How much faster?")
        bot.send(event)
        reply = bot.api.wait_for("chat.postMessage")[0]
        bot.settle()
    assert reply["text"] == APOLOGY_TEXT and reply["thread_ts"] == event["ts"]
    assert "Traceback" not in json.dumps(reply) and "internal detail" not in json.dumps(reply)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "ui.slack_bot"]
    assert len(errors) == 1 and "Could not answer" in errors[0].getMessage()
    assert len(bot.api.calls_to("reactions.remove")) == 1


def test_engine_error_is_logged_with_its_message(caplog):
    def unavailable(question):
        raise StoreUnavailableError("Chroma at http://db:8000 is not reachable.")

    caplog.set_level(logging.INFO, logger="ui.slack_bot")
    with running_bot(FakeAssistant(unavailable)) as bot:
        bot.send(mention("How much faster?"))
        reply = bot.api.wait_for("chat.postMessage")[0]
        bot.settle()
    assert reply["text"] == APOLOGY_TEXT
    assert any("Chroma at http://db:8000 is not reachable." in r.getMessage() for r in caplog.records)


def test_failed_post_is_logged_and_does_not_crash(bot, caplog):
    caplog.set_level(logging.INFO, logger="ui.slack_bot")
    bot.api.errors["chat.postMessage"] = "not_in_channel"
    bot.send(mention("How much faster?"))
    bot.settle()
    assert len(bot.replies()) == 2  # the answer, then the apology; both refused
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Slack API error not_in_channel" in errors[0].getMessage() and not errors[0].exc_info
    assert "not_in_channel" in errors[1].getMessage()


def test_reaction_failure_does_not_stop_the_answer(bot):
    bot.api.errors["reactions.add"] = "missing_scope"
    bot.send(mention("How much faster?"))
    bot.settle()
    assert len(bot.replies()) == 1 and bot.api.calls_to("reactions.remove") == []


def test_without_llm_thread_history_is_passed_too(bot, fake):
    parent = mention("How much faster was the AI scene?")
    bot.api.threads[(CHANNEL, parent["ts"])] = [{**parent}, {"user": BOT_USER_ID, "text": "Ten times.", "ts": next_ts()}]
    bot.send(mention("And in German?", thread_ts=parent["ts"]))
    bot.settle()
    assert [c["ts"] for c in bot.api.calls_to("conversations.replies")] == [parent["ts"]]
    assert fake.asked == [
        (
            "And in German?",
            [
                {"role": "user", "content": "How much faster was the AI scene?"},
                {"role": "assistant", "content": "Ten times."},
            ],
        )
    ]


def test_a_message_outside_a_thread_has_no_history(bot, fake):
    bot.send(mention("How much faster was the AI scene?"))
    bot.settle()
    assert bot.api.calls_to("conversations.replies") == []
    assert fake.asked == [("How much faster was the AI scene?", None)]


def test_with_llm_thread_history_is_passed_to_the_engine():
    fake = FakeAssistant(llm="ollama:llama3.2")
    with running_bot(fake) as bot:
        first = mention("How much faster was the AI scene?")
        bot.api.threads[(CHANNEL, first["ts"])] = [{**first}]
        bot.send(first)
        bot.api.wait_for("chat.postMessage")
        follow_up = mention("And how much cheaper?", thread_ts=first["ts"])
        bot.api.threads[(CHANNEL, first["ts"])].append({**follow_up})
        bot.send(follow_up)
        bot.api.wait_for("chat.postMessage", 2)
        bot.settle()
    assert fake.asked[0] == ("How much faster was the AI scene?", None)
    question, history = fake.asked[1]
    assert question == "And how much cheaper?"
    assert history == [
        {"role": "user", "content": "How much faster was the AI scene?"},
        {"role": "assistant", "content": "The AI scene was finished ten times faster [1]."},
    ]
    assert [c["ts"] for c in bot.api.calls_to("conversations.replies")] == [first["ts"]]


def test_url_verification_challenge_is_answered(bot):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    status, text = post(bot.url, body, sign(body))
    assert status == 200 and "abc123" in text


def test_other_paths_and_methods(bot):
    body = json.dumps({"type": "event_callback", "event": mention("x")})
    assert post(bot.url.replace("/slack/events", "/other"), body, sign(body))[0] == 404
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(bot.url, timeout=5)
    assert err.value.code == 405


# -- tokens and configuration -------------------------------------------------------


def test_redactor_hides_secrets_in_messages_args_and_tracebacks(caplog):
    redactor = LogRedactor([BOT_TOKEN, SIGNING_SECRET, None]).install()
    try:
        caplog.set_level(logging.DEBUG)
        logger = logging.getLogger("test.redact")
        logger.info("token=%s secret=%s", BOT_TOKEN, SIGNING_SECRET)
        logger.info("someone else's token xoxp-9999-abc and app token xapp-1-A0-123-abc")
        try:
            raise ValueError(f"bad {BOT_TOKEN}")
        except ValueError:
            logger.exception("failed")
        logger.info("100%% fine, %d items", 3)
        logger.debug("body: %s", {"token": "legacyverif123", "team_id": "T1"})
        logger.debug('raw body: {"token": "legacyverif456", "type": "event_callback"}')
    finally:
        redactor.uninstall()
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text
    assert "xoxp-9999" not in caplog.text and "xapp-1-A0" not in caplog.text
    assert "token=[redacted] secret=[redacted]" in caplog.text
    assert "ValueError: bad [redacted]" in caplog.text
    assert "100% fine, 3 items" in caplog.text
    assert "legacyverif" not in caplog.text and "'team_id': 'T1'" in caplog.text


def test_tokens_never_reach_the_logs_of_a_running_bot(caplog):
    def leak(question):
        raise RuntimeError(f"engine saw {BOT_TOKEN} and {SIGNING_SECRET}")

    redactor = LogRedactor([BOT_TOKEN, SIGNING_SECRET]).install()
    try:
        caplog.set_level(logging.DEBUG)
        with running_bot(FakeAssistant(leak)) as bot:
            bot.send(mention("How much faster?"))
            bot.send(mention("forged"), secret="wrong")
            bot.api.wait_for("chat.postMessage")
            bot.settle()
    finally:
        redactor.uninstall()
    assert "engine saw [redacted]" in caplog.text
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text
    assert "legacy-verification-token" not in caplog.text


def _clean_env(**values: str) -> dict[str, str]:
    return {"RAG_HOME": "/nonexistent", **values}


@pytest.mark.parametrize(
    ("env", "needle", "where"),
    [
        ({}, "SLACK_BOT_TOKEN", "OAuth & Permissions"),
        ({"SLACK_BOT_TOKEN": "xapp-1-wrong"}, "xoxb-", "OAuth & Permissions"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET", "Basic Information"),
        (
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-oops"},
            "SLACK_APP_TOKEN",
            "App-Level Tokens",
        ),
    ],
)
def test_missing_or_wrong_tokens_say_what_to_set_and_where(env, needle, where):
    with pytest.raises(ConfigError) as err:
        main(env=_clean_env(**env), assistant=FakeAssistant())
    assert needle in err.value.message and where in err.value.message
    for value in env.values():
        if len(value) > 6:
            assert value not in err.value.message


def test_cli_reports_a_missing_token(monkeypatch, capsys):
    from ui.cli import main as cli_main

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert cli_main(["slack"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_rejected_token_is_a_config_error():
    api = FakeSlackAPI().start()
    try:
        api.errors["auth.test"] = "invalid_auth"
        with pytest.raises(ConfigError) as err:
            create_app(FakeAssistant(), token=BOT_TOKEN, signing_secret=SIGNING_SECRET, base_url=api.base_url)
    finally:
        api.stop()
    assert "SLACK_BOT_TOKEN" in err.value.message and BOT_TOKEN not in err.value.message


def test_main_runs_http_mode_without_app_token(monkeypatch):
    from ui import slack_bot

    seen = {}

    class Server:
        url = "http://127.0.0.1:4567/slack/events"

        def serve_forever(self):
            seen["served"] = True

        def server_close(self):
            seen["closed"] = True

    def fake_serve_http(app, *, host, port):
        seen.update(host=host, port=port, app=app)
        return Server()

    monkeypatch.setattr(slack_bot, "serve_http", fake_serve_http)
    monkeypatch.setattr(LogRedactor, "install", lambda self: self)
    api = FakeSlackAPI().start()
    try:
        env = _clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
        assert main(4567, host="127.0.0.1", env=env, assistant=FakeAssistant(), base_url=api.base_url) == 0
    finally:
        api.stop()
    assert (seen["host"], seen["port"], seen["served"], seen["closed"]) == ("127.0.0.1", 4567, True, True)
    assert api.calls_to("auth.test")


def test_main_runs_socket_mode_with_app_token(monkeypatch):
    from slack_bolt.adapter import socket_mode

    from ui import slack_bot

    seen = {}

    class Handler:
        def __init__(self, app, app_token):
            seen.update(app=app, app_token=app_token)

        def start(self):
            seen["started"] = True

    monkeypatch.setattr(socket_mode, "SocketModeHandler", Handler)
    monkeypatch.setattr(slack_bot, "serve_http", lambda *a, **k: pytest.fail("HTTP mode in Socket Mode"))
    monkeypatch.setattr(LogRedactor, "install", lambda self: self)
    api = FakeSlackAPI().start()
    try:
        env = _clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN="xapp-1-A111-222-abc")
        assert main(env=env, assistant=FakeAssistant(), base_url=api.base_url) == 0
    finally:
        api.stop()
    assert seen["app_token"] == "xapp-1-A111-222-abc" and seen["started"]


def test_missing_slack_bolt_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "slack_bolt", None)
    with pytest.raises(MissingDependencyError) as err:
        create_app(FakeAssistant(), token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    assert "pip install 'rag-articles[slack]'" in err.value.message
