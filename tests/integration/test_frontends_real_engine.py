"""The chat page's and the Slack bot's follow-ups, streaming and store errors with the real engine.

The unit tests of ``ui`` use fake engines. Here the engine is the real ``Assistant``
(Chroma, USE embeddings, the bundled articles); where a chat model is involved it is
the real ``ChatOpenAI`` client talking to the scripted OpenAI-compatible server on
loopback (``tests/openai_stub.py``).
"""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Assistant, Settings
from tests.openai_stub import OpenAIStub, cite_where
from tests.slack_fixtures import CHANNEL, blocks_text, mention, running_bot
from ui.feedback import FeedbackStore
from ui.page_handlers import ChatHandlers

pytestmark = pytest.mark.slow

QUESTION = "How much faster was the AI scene?"
FOLLOW_UP = "And where does the building stand?"
REWRITTEN = "In which city does the collapsing building in the AI scene stand?"
FASTER = ["zehnmal schneller", "10-mal kürzerer"]
FIRST_DRAFT = "The AI scene was made ten times faster than with conventional effects [{n}]."
SECOND_DRAFT = "The collapsing building stands in Buenos Aires [{n}]."
TEN_TIMES = re.compile(r"zehnmal|10\W?mal", re.IGNORECASE)


def _streaming(body: dict[str, Any]) -> bool:
    return bool(body.get("stream"))


def _plain(body: dict[str, Any]) -> bool:
    return not body.get("stream")


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as s:
        yield s


@pytest.fixture
def llm_bot(engine: Any, stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    """The shared real engine's index and corpus, answering through the scripted server."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    stub.reset()
    return Assistant(engine.settings, llm="openai:scripted-model", llm_base_url=stub.url, llm_timeout=20)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _rewrite_prompt(stub: OpenAIStub) -> str:
    (rewrite,) = [r for r in stub.chat_requests if not r.stream]
    return rewrite.messages[-1]["content"]


# -- the chat page -------------------------------------------------------------------


def test_page_streams_tokens_then_the_verified_answer(llm_bot: Assistant, stub: OpenAIStub, tmp_path: Path) -> None:
    stub.push(cite_where(FASTER, FIRST_DRAFT), chunk_size=4, when=_streaming)
    handlers = ChatHandlers(llm_bot, FeedbackStore(tmp_path / "feedback.jsonl"))
    turns = handlers.add_question(QUESTION, [])[-1]
    steps = list(handlers.respond(turns))

    # One update per streamed piece of 4 characters, each showing the model's draft so far.
    streamed = [_text(step[0][-1]["content"]) for step in steps[:-1]]
    assert all("rag-pending" in step[0][-1]["content"] for step in steps[:-1])
    before_marker = FIRST_DRAFT.index("[")
    assert len(streamed) > before_marker // 4
    for i, shown in enumerate(streamed[: before_marker // 4]):
        assert FIRST_DRAFT[: 4 * (i + 1)] in shown, (i, shown)

    chat, panel, turns = steps[-1][:3]
    answer = turns[-1]["answer"]
    assert answer["mode"] == "generative", answer["notice"]
    assert "rag-pending" not in chat[-1]["content"] and "cite-0-1" in chat[-1]["content"]
    cited = answer["citations"][0]
    assert TEN_TIMES.search(cited["quote"]), cited
    card = panel[panel.index('data-turn="0" data-n="1"') :]
    assert cited["quote"] in _text(card[: card.index("</mark>")])


def test_page_follow_up_sends_the_earlier_turn_to_the_model(
    llm_bot: Assistant, stub: OpenAIStub, tmp_path: Path
) -> None:
    handlers = ChatHandlers(llm_bot, FeedbackStore(tmp_path / "feedback.jsonl"))
    stub.push(cite_where(FASTER, FIRST_DRAFT), when=_streaming)
    turns = handlers.add_question(QUESTION, [])[-1]
    turns = list(handlers.respond(turns))[-1][2]
    first = turns[-1]["answer"]
    assert first["mode"] == "generative", first["notice"]

    stub.reset()
    stub.push(REWRITTEN, when=_plain)
    stub.push(cite_where("Buenos Aires", SECOND_DRAFT), when=_streaming)
    turns = handlers.add_question(FOLLOW_UP, turns)[-1]
    chat, _, turns = list(handlers.respond(turns))[-1][:3]

    prompt = _rewrite_prompt(stub)
    assert QUESTION in prompt and FOLLOW_UP in prompt
    assert "ten times faster than with conventional effects" in prompt  # the page's first answer
    (final,) = [r for r in stub.chat_requests if r.stream]
    assert REWRITTEN in final.messages[-1]["content"]
    answer = turns[-1]["answer"]
    assert answer["question"] == FOLLOW_UP and answer["mode"] == "generative", answer["notice"]
    assert len(chat) == 4 and "cite-1-1" in chat[-1]["content"]
    assert "Buenos Aires" in answer["citations"][0]["quote"], answer["citations"]
    quote = answer["citations"][0]
    text = (Path(llm_bot.settings.articles_dir) / quote["file"]).read_text(encoding="utf-8")
    assert text[quote["char_start"] : quote["char_end"]] == quote["quote"]


def test_page_shows_an_unreachable_store_as_a_message(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    bot = Assistant(Settings.from_env(env={"RAG_CHROMA_URL": url}, home=tmp_path / "home"))
    handlers = ChatHandlers(bot, FeedbackStore(tmp_path / "feedback.jsonl"))
    turns = handlers.add_question(QUESTION, [])[-1]
    chat, panel, turns = list(handlers.respond(turns))[-1][:3]
    content = chat[-1]["content"]
    assert "rag-error" in content and "Traceback" not in content
    assert f"Can't reach the Chroma server at {url}" in _text(content), _text(content)
    assert turns[-1]["error"].startswith(f"Can't reach the Chroma server at {url}")
    assert turns[-1]["answer"] is None and "src-card" not in panel


# -- Slack ---------------------------------------------------------------------------------


def test_slack_thread_follow_up_reaches_the_model_with_the_thread(llm_bot: Assistant, stub: OpenAIStub) -> None:
    stub.push(cite_where(FASTER, FIRST_DRAFT), when=_streaming)
    with running_bot(llm_bot) as bot:
        first = mention(QUESTION)
        bot.api.threads[(CHANNEL, first["ts"])] = [{**first}]
        assert bot.send(first) == 200
        (reply,) = bot.api.wait_for("chat.postMessage")
        assert reply["thread_ts"] == first["ts"] and "[1]" in reply["text"], reply["text"]

        stub.reset()
        stub.push(REWRITTEN, when=_plain)
        stub.push(cite_where("Buenos Aires", SECOND_DRAFT), when=_streaming)
        follow_up = mention(FOLLOW_UP, thread_ts=first["ts"])
        bot.api.threads[(CHANNEL, first["ts"])].append({**follow_up})
        assert bot.send(follow_up) == 200
        second = bot.api.wait_for("chat.postMessage", 2)[1]
        bot.settle()

    assert second["thread_ts"] == first["ts"]
    assert [c["ts"] for c in bot.api.calls_to("conversations.replies")] == [first["ts"]]
    prompt = _rewrite_prompt(stub)
    assert QUESTION in prompt and FOLLOW_UP in prompt
    assert "ten times faster" in prompt  # the bot's own reply, read back from the thread
    (final,) = [r for r in stub.chat_requests if r.stream]
    assert REWRITTEN in final.messages[-1]["content"]
    said = second["text"] + "\n" + blocks_text(second)
    assert said.startswith("The collapsing building stands in Buenos Aires. [1]"), said
    sources = said[said.index("*Sources*") :]
    assert "Buenos Aires" in sources, said  # the cited quote states it
