"""The chat page with the real engine: in headless Chromium and through gradio_client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client.exceptions import AppError
from playwright.sync_api import expect

from rag import Assistant, Settings
from tests.ui_fixtures import ARTIFACTS, browser_page, running_app
from ui.gradio_app import EXAMPLES, create_app

pytestmark = pytest.mark.slow

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"
QUESTION = "How much faster was the AI scene?"
# "ten times" as the articles write it: zehnmal, 10-mal (any dash), 10x, ten times.
TEN_TIMES = re.compile(
    r"zehn\s?mal|zehnfach|\b10\s?[-\u2010-\u2015]?\s?(?:mal|fach|x)\b|ten times", re.IGNORECASE
)


def states_ten_times(file: str) -> bool:
    return bool(TEN_TIMES.search((ARTICLES / file).read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real Assistant over the bundled articles, served on a free loopback port."""
    # The checks below ("the cited file states the figure") mean something only if some files don't.
    files = sorted(p.name for p in ARTICLES.glob("*.txt"))
    assert 0 < len([f for f in files if states_ten_times(f)]) < len(files)
    home = tmp_path_factory.mktemp("rag-home")
    settings = Settings.from_env(env={}, home=home, articles_dir=ARTICLES)
    bot = Assistant(settings)
    bot.ingest(ARTICLES)
    with running_app(create_app(bot, settings)) as url:
        yield {"url": url, "settings": settings}


def test_example_question_in_the_browser(live: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live["url"])
        for example in EXAMPLES[:2]:
            expect(page.get_by_text(example, exact=True).first).to_be_visible(timeout=30_000)

        page.locator("#rag-question textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector("#rag-chat .rag-text a.cite", timeout=60_000)
        answer = page.locator("#rag-chat .rag-answer").last
        assert "Traceback" not in answer.inner_text()

        marker = answer.locator(".rag-text a.cite").first
        turn, n = re.search(r"cite-(\d+)-(\d+)", marker.get_attribute("class") or "").groups()
        marker = page.locator(f"#rag-chat .rag-text a.cite-{turn}-{n}").first  # pinned: later answers follow
        card = page.locator(f'#rag-sources .src-card[data-turn="{turn}"][data-n="{n}"]')
        cited_file = card.locator(".src-file").inner_text()
        assert states_ten_times(cited_file), f"{cited_file} doesn't state the ten-times figure"
        assert re.search(r"lines? \d+", card.locator(".src-lines").inner_text())
        quotes = page.locator(f'#rag-sources .src-turn[data-turn="{turn}"] mark').all_text_contents()
        assert any(TEN_TIMES.search(q) for q in quotes), f"no cited quote states the figure: {quotes}"

        marker.click()
        mark = page.locator("#rag-sources .src-card.active mark")
        expect(mark).to_be_visible(timeout=5_000)
        quote = mark.inner_text()
        assert quote and " ".join(quote.split()) in " ".join(
            (ARTICLES / cited_file).read_text("utf-8").split()
        )
        page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)

        # 👍 on the answer lands in the feedback file with the question, answer and citations.
        page.get_by_role("button", name="Like", exact=True).last.click()
        feedback = live["settings"].feedback_path
        for _ in range(50):
            if feedback.exists() and feedback.read_text(encoding="utf-8").strip():
                break
            page.wait_for_timeout(100)
        record = json.loads(feedback.read_text(encoding="utf-8").splitlines()[-1])
        assert record["rating"] == "up" and record["question"] == QUESTION
        assert record["citations"] and record["citations"][0]["file"] == cited_file

        # A question the articles don't cover is declined in plain words.
        page.locator("#rag-question textarea").fill("What is the capital of France?")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelectorAll('#rag-chat .rag-answer:not(.rag-pending)').length >= 2",
            timeout=60_000,
        )
        assert (
            "The articles don't cover this question."
            in page.locator("#rag-chat .rag-answer").last.inner_text()
        )

        # Clicking the first answer's marker again brings its sources back.
        marker.click()
        expect(page.locator(f'#rag-sources .src-turn[data-turn="{turn}"]')).to_be_visible()
        expect(page.locator("#rag-sources .src-card.active mark")).to_be_visible()
        assert not errors, errors


def test_api_through_gradio_client(live: dict[str, Any]) -> None:
    from gradio_client import Client

    client = Client(live["url"], verbose=False)
    answer = client.predict(QUESTION, api_name="/ask")
    assert not answer["abstained"] and answer["citations"]
    assert states_ten_times(answer["citations"][0]["file"])
    assert re.search(r"\[\d+\]", answer["text"])

    german = client.predict(EXAMPLES[1], api_name="/ask")
    assert german["citations"] and states_ten_times(german["citations"][0]["file"])

    declined = client.predict("What is the capital of France?", api_name="/ask")
    assert declined["abstained"] and not declined["citations"]

    with pytest.raises(AppError, match="^The question is empty"):
        client.predict("  ", api_name="/ask")
