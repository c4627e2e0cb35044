"""Helpers shared by the chat page tests: a fake engine, a live server, a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rag.errors import InvalidQuestionError, RagError
from rag.types import Answer, Citation, Passage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

PASSAGE_TEXT = (
    "Die betreffende Szene zeigt den Einsturz eines Gebäudes in Buenos Aires. Laut Netflix-Co-CEO "
    "Ted Sarandos sei die Sequenz mithilfe von KI zehnmal schneller und deutlich günstiger produziert "
    "worden als mit herkömmlichen visuellen Effekten."
)
QUOTE = "mithilfe von KI zehnmal schneller"


@dataclass
class FakeSettings:
    feedback_path: Path


def fake_answer(
    question: str,
    *,
    text: str | None = None,
    passage_text: str = PASSAGE_TEXT,
    quote: str = QUOTE,
    file: str = "003_b27880a03e2c9224.txt",
) -> Answer:
    """An Answer shaped like the engine's, citing ``quote`` inside ``passage_text``."""
    start = 500
    q = passage_text.index(quote)
    passage = Passage(
        id="p1",
        file=file,
        text=passage_text,
        char_start=start,
        char_end=start + len(passage_text),
        line_start=13,
        line_end=13,
        score=0.8,
    )
    citation = Citation(
        n=1,
        file=file,
        line_start=13,
        line_end=13,
        char_start=start + q,
        char_end=start + q + len(quote),
        quote=quote,
        score=0.8,
        passage_id="p1",
    )
    return Answer(
        question=question,
        text=text or "The AI scene was made ten times faster [1].",
        citations=[citation],
        sources=[passage],
    )


class FakeAssistant:
    """Streams a canned answer; some questions trigger the error paths."""

    def __init__(self, feedback_path: Path, answer: Answer | None = None) -> None:
        self.settings = FakeSettings(feedback_path)
        self.answer = answer
        self.histories: list[Any] = []

    def check_question(self, question: str) -> str:
        if not question.strip():
            msg = "The question is empty."
            raise InvalidQuestionError(msg)
        return question

    def stream(self, question: str, *, history: Any = None, k: int | None = None) -> Iterator[str | Answer]:
        self.histories.append(history)
        self.check_question(question)
        if "crash" in question:
            msg = "secret internal detail"
            raise RuntimeError(msg)
        if "store down" in question:
            msg = "The index can't be opened."
            raise RagError(msg)
        if "weather" in question:
            yield Answer(question=question, text="The articles don't cover this question.", abstained=True)
            return
        answer = self.answer or fake_answer(question)
        yield "The AI scene "
        yield "was made ten times faster [1]."
        yield answer

    def ask(self, question: str, *, history: Any = None, k: int | None = None) -> Answer:
        *_, last = self.stream(question, history=history)
        return last


@contextmanager
def running_app(app: Any, auth: tuple[str, str] | None = None) -> Iterator[str]:
    """Serve a Blocks app on a free loopback port; yield its URL."""
    from ui.gradio_app import serve

    url = serve(app, host="127.0.0.1", port=None, auth=auth, block=False, quiet=True)
    try:
        yield url.rstrip("/")
    finally:
        app.close()


def ensure_chromium() -> str:
    """Path of Chromium; fail the test, saying how to install it, when it is missing.

    ``scripts/setup dev`` installs it (Debian's ``chromium`` package) when run as root.
    """
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    pytest.fail(
        f"{CHROMIUM} is missing, and the browser tests need it. Install Debian's chromium: "
        "run `scripts/setup dev` as root, or `sudo apt-get install -y chromium`.",
        pytrace=False,
    )


@contextmanager
def browser_page() -> Iterator[Any]:
    """A Playwright page in headless Chromium."""
    from playwright import sync_api

    executable = ensure_chromium()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            yield page
        finally:
            browser.close()
