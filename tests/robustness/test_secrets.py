"""No token, key or password ever shows up in a log line, an error message or output,
even when every component fails with them set."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import RagError

from .conftest import CONTROL, Sandbox, run_rag

OPENAI_KEY = "sk-proj-TESTKEY9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1"
SLACK_TOKEN = "xoxb-2222-3333-SECRETtokenXYZ987"
SIGNING_SECRET = "signing-secret-0a1b2c3d4e5f6a7b8c9d"
UI_PASSWORD = "ui-pass-W0rd-5150"
CHROMA_PASSWORD = "chroma-pw-8675309"
SECRETS = (OPENAI_KEY, SLACK_TOKEN, SIGNING_SECRET, UI_PASSWORD, CHROMA_PASSWORD)


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret[:8]}… leaked in: {text[:500]}"
        assert "TESTKEY9f8e7d6c" not in text and "SECRETtokenXYZ" not in text  # not even partially


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records, at every level
    yield caplog


def _wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 30) -> None:
    """Wait until a record containing ``text`` is logged (from any thread)."""
    deadline = time.monotonic() + timeout
    while not any(text in r.getMessage() for r in caplog.records):
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing logged {text!r} within {timeout} s:\n{_log_text(caplog)}")
        time.sleep(0.02)


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    fmt = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(fmt.format(r) for r in caplog.records)


@pytest.mark.slow
def test_llm_failures_leak_no_key(control_bot: Sandbox, monkeypatch, everything_logged, capfd) -> None:
    from rag.assistant import Assistant
    from tests.openai_stub import OpenAIStub, Reply

    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    notices, errors = [], []
    with OpenAIStub() as stub:
        for reply in (Reply("x", status=401), Reply("x", status=500), Reply("x", malformed=True), Reply("x", cut=1)):
            stub.default = reply
            bot = Assistant(home=control_bot.home, auto_ingest=False, llm="openai:gpt-test",
                            llm_base_url=stub.url, llm_timeout=5)
            answer = bot.ask(CONTROL)
            notices.append(f"{answer.notice} {answer.text}")
        sent = [r.headers.get("authorization", "") for r in stub.requests]
    assert any(OPENAI_KEY in h for h in sent)  # the key was really in play
    # Unreachable server, and a spec that needs the real OpenAI endpoint (never contacted: no network).
    bot = Assistant(home=control_bot.home, auto_ingest=False, llm="openai:gpt-test",
                    llm_base_url="http://127.0.0.1:9/v1", llm_timeout=3)
    answer = bot.ask(CONTROL)
    notices.append(f"{answer.notice} {answer.text}")
    monkeypatch.delenv("OPENAI_API_KEY")
    try:  # no key and no local server: the error says how to set the key, without one to show
        Assistant(home=control_bot.home, auto_ingest=False, llm="openai:gpt-test").ask(CONTROL)
    except RagError as e:
        errors.append(e.message)
    assert errors and "OPENAI_API_KEY" in errors[0]
    out, err = capfd.readouterr()
    _assert_clean(_log_text(everything_logged), out, err, *notices, *errors)


@pytest.mark.slow
def test_cli_with_a_failing_llm_leaks_no_key(control_bot: Sandbox) -> None:
    done = run_rag("-v", "ask", CONTROL, home=control_bot.home, OPENAI_API_KEY=OPENAI_KEY,
                   RAG_LLM="openai:gpt-test", RAG_LLM_BASE_URL="http://127.0.0.1:9/v1", RAG_LLM_TIMEOUT="3")
    assert done.returncode == 0, done.stderr
    _assert_clean(done.stdout, done.stderr)


@pytest.mark.slow
def test_slack_failures_leak_no_token(control_bot: Sandbox, everything_logged, capfd) -> None:
    from tests.slack_fixtures import FakeSlackAPI, envelope, mention, post, sign
    from ui.slack_bot import create_app
    from ui.slack_http import serve_http

    messages = []
    api = FakeSlackAPI().start()
    try:
        api.errors["auth.test"] = "invalid_auth"
        with pytest.raises(RagError) as info:
            create_app(control_bot.bot, token=SLACK_TOKEN, signing_secret=SIGNING_SECRET, base_url=api.base_url)
        messages.append(info.value.message)
        api.errors = {"chat.postMessage": "not_authed", "reactions.add": "invalid_auth",
                      "conversations.replies": "token_revoked"}
        app = create_app(control_bot.bot, token=SLACK_TOKEN, signing_secret=SIGNING_SECRET, base_url=api.base_url)
        server = serve_http(app, host="127.0.0.1", port=0)
        thread = server.start_in_thread()
        try:
            body = envelope(mention(CONTROL))
            assert post(server.url, body, sign(body, secret=SIGNING_SECRET))[0] == 200
            assert post(server.url, body, sign(body, secret="forged"))[0] == 401
            api.wait_for("chat.postMessage", 2)  # the answer, then the apology: both refused
            _wait_for_log(everything_logged, "Could not post the apology")  # the last failure logged
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
        assert any(SLACK_TOKEN in c["_auth"] for _, c in api.calls)  # the token was really in play
    finally:
        api.stop()
    out, err = capfd.readouterr()
    _assert_clean(_log_text(everything_logged), out, err, *messages)


def test_slack_main_refuses_bad_tokens_without_echoing_them() -> None:
    from ui.slack_bot import main

    for env in (
        {"SLACK_BOT_TOKEN": "xoxp-" + SLACK_TOKEN[5:], "SLACK_SIGNING_SECRET": SIGNING_SECRET},
        {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_APP_TOKEN": "bad-" + SIGNING_SECRET},
        {"SLACK_BOT_TOKEN": SLACK_TOKEN},
    ):
        with pytest.raises(RagError) as info:
            main(env=env)
        _assert_clean(info.value.message)


def test_settings_and_store_errors_leak_no_password(tmp_path: Path, everything_logged) -> None:
    from rag.retrieval.chroma_client import make_client

    settings = Settings.from_env(env={"RAG_UI_AUTH": f"ana:{UI_PASSWORD}"}, home=tmp_path)
    assert settings.ui_auth == f"ana:{UI_PASSWORD}"
    texts = [repr(settings), str(settings)]
    remote = Settings.from_env(env={"RAG_CHROMA_URL": f"http://ana:{CHROMA_PASSWORD}@127.0.0.1:9"}, home=tmp_path)
    with pytest.raises(RagError) as info:
        make_client(remote)
    texts.append(info.value.message)
    assert "127.0.0.1:9" in info.value.message
    _assert_clean(*texts, _log_text(everything_logged))
