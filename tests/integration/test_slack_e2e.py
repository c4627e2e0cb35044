"""The Slack bot end to end: real Bolt app in HTTP mode, real Assistant, local Slack API."""

from __future__ import annotations

import re
import time

import pytest

from tests.slack_fixtures import (
    BOT_ID,
    BOT_USER_ID,
    CHANNEL,
    blocks_text,
    direct_message,
    mention,
    real_assistant,  # noqa: F401 - session fixture
    running_bot,
)
from ui.slack_format import DECLINED_TEXT, answer_message

pytestmark = pytest.mark.slow

FASTER = "How much faster was the AI scene?"
OFF_TOPIC = "Who won the 2022 football World Cup?"


@pytest.fixture
def bot(real_assistant):  # noqa: F811
    with running_bot(real_assistant) as running:
        yield running


def _sources(reply: dict) -> str:
    text = blocks_text(reply)
    assert "*Sources*" in text, text
    return text[text.index("*Sources*") :]


def test_mention_gets_a_cited_answer_in_its_thread(bot, real_assistant):  # noqa: F811
    expected = real_assistant.ask(FASTER)
    assert not expected.abstained and expected.citations

    event = mention(FASTER)
    assert bot.send(event) == 200
    reply = bot.api.wait_for("chat.postMessage")[0]

    assert (reply["channel"], reply["thread_ts"]) == (CHANNEL, event["ts"])
    assert reply["blocks"] == answer_message(expected).blocks
    text = blocks_text(reply)
    assert re.search(r"zehnmal|10\W?mal", text), text
    sources = _sources(reply)
    for c in expected.citations:
        assert f"*[{c.n}]* *{c.title}*" in sources and c.title
        assert f"{c.file}, line" in sources and f" {c.lines}\n>" in sources
        assert f"[{c.n}]" in reply["text"]
    cited_files = {c.file for c in expected.citations}
    assert all(re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", f) for f in cited_files)
    bot.settle()
    assert [c["timestamp"] for c in bot.api.calls_to("reactions.add")] == [event["ts"]]
    assert [c["timestamp"] for c in bot.api.calls_to("reactions.remove")] == [event["ts"]]


def test_direct_message_gets_a_cited_answer(bot, real_assistant):  # noqa: F811
    event = direct_message("Wie viel schneller entstand die KI-Szene?")
    bot.send(event)
    reply = bot.api.wait_for("chat.postMessage")[0]
    assert (reply["channel"], reply["thread_ts"]) == (event["channel"], event["ts"])
    assert "*[1]*" in _sources(reply)


def test_declined_question_says_so_and_lists_no_sources(bot, real_assistant):  # noqa: F811
    assert real_assistant.ask(OFF_TOPIC).abstained
    event = mention(OFF_TOPIC)
    bot.send(event)
    reply = bot.api.wait_for("chat.postMessage")[0]
    text = blocks_text(reply)
    assert reply["thread_ts"] == event["ts"]
    assert DECLINED_TEXT in text
    assert "Sources" not in text and not re.search(r"\[\d+\]", text)


def test_retried_event_gets_no_second_reply(bot):
    event = mention(FASTER)
    assert bot.send(event, event_id="EvRetry1") == 200
    assert bot.send(event, event_id="EvRetry1", retry_num=1) == 200
    bot.api.wait_for("chat.postMessage")
    assert bot.send(event, event_id="EvRetry1", retry_num=2) == 200
    bot.settle()
    assert len(bot.replies()) == 1


@pytest.mark.parametrize("forgery", ["wrong-secret", "expired"])
def test_forged_or_expired_signature_gets_401_and_no_reply(bot, forgery):
    if forgery == "wrong-secret":
        status = bot.send(mention(FASTER), secret="0" * 32)
    else:
        status = bot.send(mention(FASTER), timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    bot.settle()
    assert bot.replies() == [] and bot.api.calls_to("reactions.add") == []


def test_own_and_other_bot_messages_are_ignored(bot):
    bot.send(direct_message(FASTER, user=BOT_USER_ID))
    bot.send(direct_message(FASTER, user=None, bot_id=BOT_ID))
    bot.send(direct_message(FASTER, bot_id="B0THER", subtype="bot_message"))
    bot.settle()
    assert bot.replies() == []


def test_questions_arriving_together_each_get_their_own_answer(bot, real_assistant):  # noqa: F811
    questions = [FASTER, OFF_TOPIC, "Welche Firma hat die KI-Szene umgesetzt?"]
    events = [mention(q) for q in questions]
    for event in events:
        assert bot.send(event) == 200
    bot.api.wait_for("chat.postMessage", len(events))
    bot.settle()
    by_thread = {r["thread_ts"]: r for r in bot.replies()}
    assert set(by_thread) == {e["ts"] for e in events}
    for event, question in zip(events, questions, strict=True):
        assert by_thread[event["ts"]]["blocks"] == answer_message(real_assistant.ask(question)).blocks
