"""The chat page with a fake engine: handlers, feedback, API, auth and the missing-gradio error."""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import gradio as gr
import gradio_client
import pytest
from gradio_client.exceptions import AppError, AuthenticationError

from tests.ui_fixtures import FakeAssistant, fake_answer, running_app
from ui.feedback import FeedbackStore
from ui.gradio_app import create_app, is_loopback, parse_auth, warn_if_exposed
from ui.html import render_sources
from ui.page_handlers import UNEXPECTED_ERROR, ChatHandlers


@pytest.fixture
def handlers(tmp_path: Path) -> ChatHandlers:
    path = tmp_path / "feedback.jsonl"
    return ChatHandlers(FakeAssistant(path), FeedbackStore(path))


def _ask(h: ChatHandlers, question: str, turns: list | None = None) -> tuple[list, list, list]:
    """Run add_question then respond; return (every chat yielded, last chat, turns)."""
    box, send, chat, turns = h.add_question(question, turns or [])
    assert box["value"] == "" and box["interactive"] is False and send["interactive"] is False
    assert chat[-1]["role"] == "assistant" and "rag-pending" in chat[-1]["content"]
    steps = list(h.respond(turns))
    chats = [s[0] for s in steps]
    assert isinstance(steps[-1][1], str), "the last step fills the sources panel"
    assert steps[-1][3]["interactive"] is True and steps[-1][4]["interactive"] is True
    return chats, chats[-1], steps[-1][2]


def test_answer_streams_then_links_citations(handlers: ChatHandlers) -> None:
    chats, chat, turns = _ask(handlers, "How much faster was the AI scene?")
    assert len(chats) == 3  # two streamed pieces, then the final answer
    assert "rag-pending" in chats[0][-1]["content"] and "The AI scene" in chats[0][-1]["content"]
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert 'class="cite cite-0-1"' in chat[-1]["content"]


def test_sources_panel_marks_the_cited_span_inside_its_passage(handlers: ChatHandlers) -> None:
    """The panel places <mark> from the citation's file offsets, not by searching for the quote."""
    # The quote occurs twice in the passage; the citation points at the second occurrence.
    quote = "zehnmal schneller"
    text = f"Erst hieß es {quote}, dann: Laut Sarandos sei die Sequenz {quote} produziert worden."
    second = text.rindex(quote)
    answer = fake_answer("q", passage_text=text, quote=quote)
    (c,) = answer.citations
    c = dataclasses.replace(c, char_start=500 + second, char_end=500 + second + len(quote))
    handlers.assistant.answer = dataclasses.replace(answer, citations=[c])
    box, send, chat, turns = handlers.add_question("How much faster was the AI scene?", [])
    panel = list(handlers.respond(turns))[-1][1]
    card = panel[panel.index('data-turn="0" data-n="1"') :]
    marked = re.search(r"<mark[^>]*>(.*?)</mark>", card, re.DOTALL)
    assert marked and html.unescape(marked.group(1)) == quote
    before = html.unescape(re.sub(r"<[^>]+>", "", card[: marked.start()]))
    assert before.endswith("Laut Sarandos sei die Sequenz "), before
    assert "src-file" in card and "003&#95;b27880a03e2c9224.txt" in card and "line 13" in card


def test_follow_up_sends_history(handlers: ChatHandlers) -> None:
    _, _, turns = _ask(handlers, "How much faster was the AI scene?")
    _, chat, turns = _ask(handlers, "And cheaper?", turns)
    assert len(chat) == 4 and "cite-1-1" in chat[-1]["content"]
    assert handlers.assistant.histories[-1] == [
        {"role": "user", "content": "How much faster was the AI scene?"},
        {"role": "assistant", "content": "The AI scene was made ten times faster [1]."},
    ]


def test_question_is_escaped_in_the_chat(handlers: ChatHandlers) -> None:
    _, chat, _ = _ask(handlers, "<img src=x onerror=alert(1)> faster?")
    assert "<img" not in chat[0]["content"] and "&lt;img" in chat[0]["content"]


def test_declined_question_says_the_articles_dont_cover_it(handlers: ChatHandlers) -> None:
    _, chat, turns = _ask(handlers, "What's the weather in Berlin?")
    assert "The articles don&#x27;t cover this question." in chat[-1]["content"]
    assert turns[-1]["answer"]["abstained"] is True


@pytest.mark.parametrize(
    ("question", "shown"),
    [
        ("   ", "The question is empty."),
        ("store down", "The index can&#x27;t be opened."),
        ("crash", UNEXPECTED_ERROR),
    ],
)
def test_errors_are_a_short_message_without_traceback(
    handlers: ChatHandlers, caplog: pytest.LogCaptureFixture, question: str, shown: str
) -> None:
    with caplog.at_level(logging.INFO, logger="rag.ui"):
        _, chat, turns = _ask(handlers, question)
    content = chat[-1]["content"]
    assert "rag-error" in content and shown.replace("'", "&#x27;") in content
    assert "Traceback" not in content and "secret internal detail" not in content
    if question == "crash":
        assert any(r.exc_info for r in caplog.records), "unexpected errors are logged with their traceback"
    assert turns[-1]["error"]


def test_feedback_is_stored_for_the_message_that_was_rated(handlers: ChatHandlers, tmp_path: Path) -> None:
    """Each rating is filed under the turn of the rated message, with its plain text and citations."""
    handlers.assistant.answer = fake_answer("q1", text="Ten times faster [1].", quote="zehnmal schneller")
    _, chat, turns = _ask(handlers, "How much faster was the AI scene?")
    handlers.assistant.answer = fake_answer("q2", text="Much cheaper [1].", quote="deutlich günstiger")
    _, chat, turns = _ask(handlers, "And cheaper?", turns)
    _, chat, turns = _ask(handlers, "crash", turns)
    # Rated out of order: the later answer first, then the earlier one, then the error.
    handlers.like(turns, gr.LikeData(None, {"index": 3, "value": chat[3]["content"], "liked": True}))
    handlers.like(turns, gr.LikeData(None, {"index": 1, "value": chat[1]["content"], "liked": False}))
    handlers.like(turns, gr.LikeData(None, {"index": 5, "value": chat[5]["content"], "liked": False}))
    handlers.like(turns, gr.LikeData(None, {"index": 0, "value": "user message", "liked": True}))
    records = FeedbackStore(tmp_path / "feedback.jsonl").read()
    assert [(r["rating"], r["question"]) for r in records] == [
        ("up", "And cheaper?"),
        ("down", "How much faster was the AI scene?"),
        ("down", "crash"),
    ]
    assert records[0]["answer"] == "Much cheaper [1]."  # the answer's text, not the chat's HTML
    assert [c["quote"] for c in records[0]["citations"]] == ["deutlich günstiger"]
    assert records[1]["answer"] == "Ten times faster [1]."
    assert [c["quote"] for c in records[1]["citations"]] == ["zehnmal schneller"]
    assert records[2]["answer"] == UNEXPECTED_ERROR and records[2]["citations"] == []


def test_feedback_store_appends_jsonl(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "deep" / "feedback.jsonl")
    store.add(rating="up", question="q", answer="a ü", citations=[{"n": 1}])
    store.add(rating="down", question="q2", answer="b")
    lines = (tmp_path / "deep" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["answer"] == "a ü"
    assert [r["question"] for r in store.read()] == ["q", "q2"]


def test_respond_without_a_pending_question_only_unlocks(handlers: ChatHandlers) -> None:
    _, _, turns = _ask(handlers, "How much faster was the AI scene?")
    (step,) = list(handlers.respond(turns))
    assert step[3]["interactive"] is True and len(handlers.assistant.histories) == 1


def test_old_turns_are_dropped_but_markers_still_match_sources(
    handlers: ChatHandlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ui.page_handlers.MAX_TURNS", 2)
    turns: list = []
    for _ in range(3):
        _, chat, turns = _ask(handlers, "How much faster was the AI scene?", turns)
    assert [t["id"] for t in turns] == [1, 2]
    assert "cite-1-1" in chat[1]["content"] and "cite-2-1" in chat[3]["content"]
    panel = render_sources(turns)
    assert 'data-turn="1"' in panel and 'data-turn="2"' in panel and 'data-turn="0"' not in panel


def test_clear_resets_turns_and_sources(handlers: ChatHandlers) -> None:
    turns, html = handlers.clear()
    assert turns == [] and "src-empty" in html


def test_auth_and_host_helpers(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_auth(None) is None
    assert parse_auth("ana:s3:cret") == ("ana", "s3:cret")
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    with caplog.at_level(logging.WARNING, logger="rag.ui"):
        assert warn_if_exposed("0.0.0.0", None)
        assert not warn_if_exposed("0.0.0.0", ("a", "b"))
        assert not warn_if_exposed("127.0.0.1", None)
    assert len([r for r in caplog.records if "without a password" in r.message]) == 1


def test_api_and_auth_through_gradio_client(tmp_path: Path) -> None:
    fake = FakeAssistant(tmp_path / "feedback.jsonl")
    app = create_app(fake)
    with running_app(app, auth=("ana", "secret")) as url:
        with pytest.raises(AuthenticationError, match="credentials were not provided"):
            gradio_client.Client(url, verbose=False)
        with pytest.raises(ValueError, match="Could not login"):
            gradio_client.Client(url, auth=("ana", "wrong"), verbose=False)
        client = gradio_client.Client(url, auth=("ana", "secret"), verbose=False)
        question = "How much faster was the AI scene?"
        answer = client.predict(question, api_name="/ask")
        # The API returns the engine's answer as JSON, whole: text with markers, citations, sources.
        assert answer == json.loads(json.dumps(fake.ask(question).to_dict()))
        declined = client.predict("What's the weather in Berlin?", api_name="/ask")
        assert declined["abstained"] is True and declined["citations"] == []
        with pytest.raises(AppError, match="^The question is empty"):
            client.predict("   ", api_name="/ask")
        with pytest.raises(AppError, match="^The index can't be opened"):
            client.predict("store down", api_name="/ask")
        with pytest.raises(AppError) as info:
            client.predict("crash", api_name="/ask")
        assert str(info.value) == UNEXPECTED_ERROR and "secret internal detail" not in str(info.value)
        assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_bare_package_imports_without_gradio() -> None:
    code = (
        "import sys; sys.modules['gradio'] = None\n"
        "import rag, ui.gradio_app as g\n"
        "from rag.errors import MissingDependencyError\n"
        "try:\n    g.create_app(object())\nexcept MissingDependencyError as e:\n    print(e.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'rag-articles[ui]'" in out.stdout
