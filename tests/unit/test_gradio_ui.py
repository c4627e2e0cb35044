"""The chat page with a fake engine: handlers, feedback, API, auth and the missing-gradio error."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from tests.ui_fixtures import FakeAssistant, running_app
from ui.feedback import FeedbackStore
from ui.gradio_app import (
    UNEXPECTED_ERROR,
    ChatHandlers,
    create_app,
    is_loopback,
    parse_auth,
    warn_if_exposed,
)
from ui.html import render_sources


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
    assert turns[0]["answer"]["citations"][0]["file"] == "003_b27880a03e2c9224.txt"


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


def test_feedback_is_stored_with_question_answer_and_citations(
    handlers: ChatHandlers, tmp_path: Path
) -> None:
    _, chat, turns = _ask(handlers, "How much faster was the AI scene?")
    _, chat, turns = _ask(handlers, "crash", turns)
    handlers.like(turns, gr.LikeData(None, {"index": 1, "value": chat[1]["content"], "liked": True}))
    handlers.like(turns, gr.LikeData(None, {"index": 3, "value": chat[3]["content"], "liked": False}))
    handlers.like(turns, gr.LikeData(None, {"index": 0, "value": "user message", "liked": True}))
    records = FeedbackStore(tmp_path / "feedback.jsonl").read()
    assert [r["rating"] for r in records] == ["up", "down"]
    first = records[0]
    assert first["question"] == "How much faster was the AI scene?"
    assert first["answer"] == "The AI scene was made ten times faster [1]."
    assert first["citations"][0]["quote"] == "mithilfe von KI zehnmal schneller"
    assert records[1]["answer"] == UNEXPECTED_ERROR and records[1]["citations"] == []


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
    monkeypatch.setattr("ui.gradio_app.MAX_TURNS", 2)
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
    client_mod = pytest.importorskip("gradio_client")
    app = create_app(FakeAssistant(tmp_path / "feedback.jsonl"))
    with running_app(app, auth=("ana", "secret")) as url:
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            client_mod.Client(url, verbose=False)
        client = client_mod.Client(url, auth=("ana", "secret"), verbose=False)
        answer = client.predict("How much faster was the AI scene?", api_name="/ask")
        assert answer["citations"][0]["file"] == "003_b27880a03e2c9224.txt"
        with pytest.raises(Exception, match="The question is empty"):
            client.predict("   ", api_name="/ask")
        with pytest.raises(Exception) as info:
            client.predict("crash", api_name="/ask")
        assert "secret internal detail" not in str(info.value)
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
