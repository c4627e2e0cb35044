"""A hostile article must be shown as text in the real browser: nothing runs, nothing is injected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from rag import Assistant, Settings
from tests.ui_fixtures import ARTIFACTS, browser_page, running_app
from ui.gradio_app import create_app

pytestmark = pytest.mark.slow

SCRIPT = "<script>window.__pwned = 'script'; document.title = 'PWNED';</script>"
IMG = "<img src=x onerror=\"window.__pwned = 'img'; document.body.dataset.pwned = '1'\">"
LINK = "[Klick hier](javascript:window.__pwned='link') [Quelle](http://evil.example/steal)"
TEMPLATE = "${window.__pwned='template'} {{value}}"
HOSTILE_ARTICLE = f"""Der Drachenhort von Fafnir

Der Drache Fafnir bewacht in seiner Höhle genau zweiundvierzig Goldmünzen {SCRIPT} und einen Ring {IMG} aus Rheingold {LINK} {TEMPLATE}.
Niemand hat die Goldmünzen des Drachen Fafnir je gezählt, außer dem Zwerg Regin.
"""
QUESTION = "Wie viele Goldmünzen bewacht der Drache Fafnir?"
HOSTILE_QUESTION = f"{QUESTION} <img src=y onerror=\"window.__pwned='question'\"> <b>fett</b>"

PROBE = """() => ({
  pwned: window.__pwned ?? null,
  title: document.title,
  bodyFlag: document.body.dataset.pwned ?? null,
  imgs: Array.from(document.querySelectorAll('img')).filter((i) => /^(x|y)$/.test(i.getAttribute('src') || '')).length,
  onerror: document.querySelectorAll('[onerror]').length,
  jsLinks: document.querySelectorAll('a[href^="javascript"], a[href*="evil.example"]').length,
  scripts: Array.from(document.scripts).filter((s) => s.textContent.includes('__pwned')).length,
  bold: Array.from(document.querySelectorAll('#rag-chat b')).filter((b) => b.textContent === 'fett').length,
})"""


@pytest.fixture(scope="module")
def hostile_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile-articles")
    (folder / "drache.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    settings = Settings.from_env(env={}, home=tmp_path_factory.mktemp("rag-home"), articles_dir=folder)
    bot = Assistant(settings)
    bot.ingest(folder)
    answer = bot.ask(QUESTION)
    assert answer.citations and "<script>" in "".join(p.text for p in answer.sources), answer
    with running_app(create_app(bot, settings)) as url:
        yield url


def test_hostile_article_is_shown_literally(hostile_ui: str) -> None:
    with browser_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(hostile_ui)
        page.locator("#rag-question textarea").fill(HOSTILE_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector("#rag-chat .rag-text a.cite", timeout=60_000)
        page.locator("#rag-chat .rag-text a.cite").first.click()
        expect(page.locator("#rag-sources .src-card.active mark")).to_be_visible()
        # Give any injected handler its chance: wait until every image has loaded or failed (an
        # injected onerror is queued by then), then let one more task run.
        page.wait_for_function("() => Array.from(document.images).every((i) => i.complete)")
        page.evaluate("() => new Promise((done) => setTimeout(done, 0))")

        probe: dict[str, Any] = page.evaluate(PROBE)
        assert probe == {
            "pwned": None,
            "title": "Ask the articles",
            "bodyFlag": None,
            "imgs": 0,
            "onerror": 0,
            "jsLinks": 0,
            "scripts": 0,
            "bold": 0,
        }
        assert not dialogs

        chat_text = page.locator("#rag-chat").inner_text()
        assert "<b>fett</b>" in chat_text and "onerror=\"window.__pwned='question'\"" in chat_text
        panel_text = page.locator("#rag-sources").inner_text()
        for literal in (SCRIPT, IMG, LINK, TEMPLATE):
            assert literal in panel_text, literal
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-hostile.png"), full_page=True)
