"""Bad input through the chat page and the Slack bot, basic auth, and where the page binds."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from rag.config import Settings

from .conftest import CONTROL, Sandbox

pytestmark = pytest.mark.slow


def _status(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


# -- the page ------------------------------------------------------------------------


def test_page_basic_auth_on_the_real_server(control_bot: Sandbox, tmp_path: Path) -> None:
    from tests.ui_fixtures import running_app
    from ui.gradio_app import create_app

    settings = Settings.from_env(env={"RAG_UI_AUTH": "ana:s3cr3t-pw"}, home=tmp_path)
    app = create_app(control_bot.bot, settings)
    from ui.gradio_app import parse_auth

    with running_app(app, auth=parse_auth(settings.ui_auth)) as url:
        assert url.startswith("http://127.0.0.1:")
        assert _status(url + "/config") == 401
        assert _status(url + "/gradio_api/info") == 401
        body = b'{"data": ["How much faster was the AI scene?"]}'
        assert _status(url + "/gradio_api/call/ask", body, {"Content-Type": "application/json"}) == 401
        bad = urllib.parse.urlencode({"username": "ana", "password": "wrong"}).encode()
        assert _status(url + "/login", bad) == 400

        import http.cookiejar

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        good = urllib.parse.urlencode({"username": "ana", "password": "s3cr3t-pw"}).encode()
        assert opener.open(url + "/login", data=good, timeout=20).status == 200
        assert opener.open(url + "/config", timeout=20).status == 200


def test_page_binds_loopback_by_default_and_warns_when_exposed(
    control_bot: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import gradio as gr

    from ui import gradio_app

    assert Settings.from_env(env={}).ui_host == "127.0.0.1"
    seen: list[dict] = []

    def fake_launch(self, **kwargs):  # never bind anything but loopback in a test
        seen.append(kwargs)
        return None, "http://example.invalid/", None

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    app = gradio_app.create_app(control_bot.bot, Settings.from_env(env={}, home=tmp_path))
    with caplog.at_level(logging.WARNING, logger="rag.ui"):
        gradio_app.serve(app, port=None, block=False)
        gradio_app.serve(app, host="0.0.0.0", port=None, auth=("a", "b"), block=False)
        assert not [r for r in caplog.records if "without a password" in r.getMessage()]
        gradio_app.serve(app, host="0.0.0.0", port=None, block=False)
    assert [k["server_name"] for k in seen] == ["127.0.0.1", "0.0.0.0", "0.0.0.0"]
    warnings = [r.getMessage() for r in caplog.records if "without a password" in r.getMessage()]
    assert len(warnings) == 1 and "RAG_UI_AUTH" in warnings[0] and "0.0.0.0" in warnings[0]


@pytest.mark.parametrize(
    "question, message",
    [("   ", "The question is empty"), ("x" * 100_000, "the limit is 2,000")],
)
def test_page_shows_bad_questions_as_messages(control_bot: Sandbox, tmp_path: Path, question: str,
                                              message: str) -> None:
    from ui.feedback import FeedbackStore
    from ui.page_handlers import ChatHandlers

    handlers = ChatHandlers(control_bot.bot, FeedbackStore(tmp_path / "feedback.jsonl"))
    # (The handlers' outputs are (..., turns) and (chat, sources, turns, ...).)
    turns = handlers.add_question(question, [])[-1]
    chat, _, turns = list(handlers.respond(turns))[-1][:3]
    assert message in turns[-1]["error"]
    assert message in chat[-1]["content"]
    turns = handlers.add_question(CONTROL, turns)[-1]
    turns = list(handlers.respond(turns))[-1][2]
    assert turns[-1]["answer"] and not turns[-1]["answer"]["abstained"]  # the page keeps answering
    assert control_bot.count() == control_bot.baseline.count


# -- Slack -----------------------------------------------------------------------------


@pytest.fixture
def slack(control_bot: Sandbox):
    from tests.slack_fixtures import running_bot

    with running_bot(control_bot.bot) as bot:
        yield bot


def _still_answers(slack, control_bot: Sandbox) -> None:
    from tests.slack_fixtures import mention

    before = len(slack.replies())
    assert slack.send(mention(CONTROL)) == 200
    slack.api.wait_for("chat.postMessage", before + 1)
    reply = slack.replies()[-1]
    assert "[1]" in reply["text"], reply["text"]
    assert control_bot.count() == control_bot.baseline.count


def test_slack_forged_signature_is_refused(slack, control_bot: Sandbox) -> None:
    from tests.slack_fixtures import envelope, mention, post, sign

    body = envelope(mention(CONTROL))
    assert post(slack.url, body, sign(body, secret="not-the-signing-secret"))[0] == 401
    assert post(slack.url, body, {})[0] == 401  # no signature at all
    tampered = sign(body)
    assert post(slack.url, body.replace("faster", "slower"), tampered)[0] == 401
    assert post(slack.url, body, sign(body, timestamp=1_500_000_000))[0] == 401  # replayed, years old
    slack.settle()
    assert slack.replies() == []
    _still_answers(slack, control_bot)


@pytest.mark.parametrize(
    "body",
    [
        "this is not json {",
        "",
        "[]",
        '{"type": "event_callback"}',
        '{"type": "event_callback", "event": "not an object", "event_id": "Ev1"}',
        (
            '{"type": "event_callback", "event_id": "Ev2", "event": {"type": "app_mention", "text": 42, '
            '"channel": "C00000001", "user": "U00000001", "ts": "1.2"}}'
        ),
        '{"type": "event_callback", "event_id": "Ev3", "event": {"type": "app_mention", "channel": "C00000001"}}',
        "\udcff\x00 binary-ish",
    ],
)
def test_slack_malformed_event_body(slack, control_bot: Sandbox, body: str) -> None:
    from tests.slack_fixtures import post, sign

    raw = body.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        status, _ = post(slack.url, raw, sign(raw))
    except (ConnectionError, urllib.error.URLError) as e:
        pytest.fail(f"the bot dropped the connection instead of answering: {e!r}")
    if status >= 500:
        _still_answers(slack, control_bot)  # the server survives either way
    assert status < 500, status
    slack.settle()
    assert slack.replies() == []  # nothing in it to answer: no reply, and no trace posted to Slack
    _still_answers(slack, control_bot)


def _status_before_body(url: str, length: int) -> int:
    """Send only the headers of a POST declaring ``length`` body bytes; return the status the server sends."""
    import http.client

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        conn.putrequest("POST", parts.path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()  # and no body: a server that waits to read it never answers
        return conn.getresponse().status
    finally:
        conn.close()


def test_slack_oversized_body_is_refused(slack, control_bot: Sandbox) -> None:
    from ui.slack_http import MAX_BODY_BYTES

    # Refused from the declared length, before the body is read (a reading server would time out here).
    assert _status_before_body(slack.url, 1_200_000) == 413
    assert _status_before_body(slack.url, MAX_BODY_BYTES + 1) == 413
    slack.settle()
    assert slack.replies() == []
    _still_answers(slack, control_bot)


@pytest.mark.parametrize(
    ("text", "said"),
    [("", "The question is empty"), ("   ", "The question is empty"), ("x" * 100_000, "the limit is 2,000")],
)
def test_slack_bad_question_gets_a_clear_reply(slack, control_bot: Sandbox, text: str, said: str) -> None:
    from tests.slack_fixtures import blocks_text, mention

    event = mention(text)
    assert slack.send(event) == 200
    slack.settle()
    (reply,) = slack.replies()
    assert reply["thread_ts"] == event["ts"]
    shown = reply["text"] + "\n" + blocks_text(reply)
    assert said in shown and "Traceback" not in shown, shown
    _still_answers(slack, control_bot)
