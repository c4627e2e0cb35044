"""Answer -> Slack blocks, and Slack text -> question/history."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from tests.slack_fixtures import BOT_ID, BOT_USER_ID, blocks_text, declined_answer, sample_answer
from ui.slack_format import (
    DECLINED_TEXT,
    FALLBACK_LIMIT,
    MAX_BLOCKS,
    SECTION_LIMIT,
    TRUNCATED_NOTE,
    answer_message,
    apology_message,
    escape,
    slack_to_plain,
    split_text,
    thread_history,
    to_mrkdwn,
)


def _texts(blocks: list[dict]) -> list[str]:
    return [blocks_text({"blocks": [b]}) for b in blocks]


def _assert_within_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT


def test_escape_stops_mentions_and_links():
    text = escape("<!channel> <@U123> <https://evil.example|click> a & b")
    assert "<" not in text and ">" not in text
    assert text.startswith("&lt;!channel&gt;")
    assert "a &amp; b" in text


def test_markdown_bold_becomes_slack_bold():
    assert to_mrkdwn("It was **ten times** faster & cheaper") == "It was *ten times* faster &amp; cheaper"


def test_answer_has_text_then_sources_with_file_lines_and_quote():
    msg = answer_message(sample_answer())
    text = blocks_text({"blocks": msg.blocks})
    assert msg.blocks[0]["text"]["text"] == "The AI scene was finished ten times faster [1]."
    sources = msg.blocks[-1]["text"]["text"]
    assert sources.startswith("*Sources*\n")
    assert "*[1]* 001_795e8594a4bac91d.txt, lines 12-14" in sources
    assert (
        ">Die Szene wurde zehnmal schneller fertiggestellt &lt;als&gt; mit herkömmlichen Mitteln &amp; Werkzeugen."
        in sources
    )
    assert text.index("[1].") < text.index("*Sources*")
    assert msg.text == "The AI scene was finished ten times faster [1]."
    _assert_within_limits(msg.blocks)


def test_single_line_citation_says_line():
    answer = sample_answer()
    answer.citations[0] = replace(answer.citations[0], line_start=7, line_end=7)
    assert "*[1]* 001_795e8594a4bac91d.txt, line 7\n" in blocks_text(
        {"blocks": answer_message(answer).blocks}
    )


def test_long_quote_is_shortened():
    answer = sample_answer()
    answer.citations[0] = replace(answer.citations[0], quote="wort " * 400)
    sources = answer_message(answer).blocks[-1]["text"]["text"]
    quote_line = sources.splitlines()[-1]
    assert quote_line.endswith("…") and len(quote_line) < 260


def test_notice_is_shown_in_italics():
    msg = answer_message(sample_answer(notice="The chat model timed out; this is the extractive answer."))
    contexts = [b for b in msg.blocks if b["type"] == "context"]
    assert contexts[0]["elements"][0]["text"] == "_The chat model timed out; this is the extractive answer._"


def test_declined_answer_says_so_and_lists_no_sources():
    msg = answer_message(declined_answer())
    text = blocks_text({"blocks": msg.blocks})
    assert DECLINED_TEXT in text and msg.text == DECLINED_TEXT
    assert "Sources" not in text and "[1]" not in text


def test_long_answer_is_split_into_sections_and_keeps_all_text():
    sentences = [f"Satz {i} über die Szene mit <Tags> & Zeichen." for i in range(600)]
    answer = sample_answer(text=" ".join(sentences))
    msg = answer_message(answer)
    _assert_within_limits(msg.blocks)
    sections = [b["text"]["text"] for b in msg.blocks if b["type"] == "section"][:-1]
    assert len(sections) > 1
    rejoined = html.unescape(" ".join(sections))
    assert rejoined.split() == answer.text.split()
    assert all(s.endswith(".") for s in sections)
    assert len(msg.text) <= FALLBACK_LIMIT


def test_huge_answer_is_truncated_to_fifty_blocks_but_keeps_sources():
    answer = sample_answer(text="wort " * 60_000)
    msg = answer_message(answer)
    _assert_within_limits(msg.blocks)
    assert len(msg.blocks) == MAX_BLOCKS
    text = blocks_text({"blocks": msg.blocks})
    assert TRUNCATED_NOTE in text
    assert "*Sources*" in text and "*[1]*" in text


def test_many_citations_fit_the_limits():
    base = sample_answer().citations[0]
    citations = [replace(base, n=i, quote=f"Zitat {i} " + "lang " * 40) for i in range(1, 61)]
    msg = answer_message(sample_answer(citations=citations))
    _assert_within_limits(msg.blocks)
    text = blocks_text({"blocks": msg.blocks})
    assert all(f"*[{i}]*" in text for i in range(1, 61))


def test_split_never_cuts_an_entity():
    text = escape("&" * 4000)
    pieces = split_text(text, 100)
    assert all(re.fullmatch(r"(&amp;)+", p) for p in pieces)
    assert "".join(pieces) == text


def test_apology_is_short_and_escapes_detail():
    assert "Sorry" in apology_message().text
    msg = apology_message("The question is empty <@U1>.")
    assert msg.text == "Sorry, I couldn't answer that: The question is empty &lt;@U1&gt;."


def test_slack_text_to_plain_question():
    text = f"<@{BOT_USER_ID}> Was kostet <https://x.example/a|die Szene> &amp; wer zahlt in <#C1|general>? <!here>"
    assert slack_to_plain(text) == "Was kostet die Szene & wer zahlt in #general?"
    assert slack_to_plain("see <https://x.example/b>") == "see https://x.example/b"


def test_thread_history_roles_order_and_filtering():
    messages = [
        {"ts": "100.1", "user": "U1", "text": f"<@{BOT_USER_ID}> How much faster was it?"},
        {"ts": "100.2", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": "Ten times faster [1]."},
        {"ts": "100.3", "bot_id": "BOTHER", "subtype": "bot_message", "text": "another bot"},
        {"ts": "100.4", "user": "U2", "text": "nice &amp; quick"},
        {"ts": "100.5", "user": "U1", "text": "the current question"},
        {"ts": "100.6", "user": "U1", "text": "a later message"},
    ]
    history = thread_history(messages, before_ts="100.5", bot_user_id=BOT_USER_ID, bot_id=BOT_ID)
    assert history == [
        {"role": "user", "content": "How much faster was it?"},
        {"role": "assistant", "content": "Ten times faster [1]."},
        {"role": "user", "content": "nice & quick"},
    ]
    assert thread_history(messages, before_ts="100.5", bot_user_id=BOT_USER_ID, bot_id=BOT_ID, limit=1) == [
        {"role": "user", "content": "nice & quick"}
    ]


def test_manifest_grants_what_the_bot_uses():
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[2] / "ui" / "slack_manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "im:history", "reactions:write", "channels:history"} <= scopes
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
