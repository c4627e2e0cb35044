"""What a reader sees on the chat page, measured in headless Chromium with the real engine.

One session walks through the page as a new reader would: every example in
order (the follow-up after the question it follows), "?" and a cited answer
whose passage is opened in the sources panel. In the page itself the test
computes the contrast of the highlighted quote (and of every other text) in
the light and the dark colour scheme, which element has focus after each
answer, and the source's title. It saves ``artifacts/page-light.png``,
``artifacts/page-dark.png`` and the figures in ``artifacts/page-trust.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Assistant, Settings
from tests.ui_fixtures import ARTIFACTS, browser_page, running_app
from ui.gradio_app import EXAMPLES, create_app
from ui.html import DECLINED_LABEL

pytestmark = pytest.mark.slow

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"
MIN_CONTRAST = 4.5
# What a right answer to each example says, in the order the page lists them:
# English, German, a follow-up to the German one, and one the articles don't cover.
EXPECTED: list[tuple[str, str | None]] = [
    ("answer", r"zehn\s?mal|\b10\s?[-\u2010-\u2015]?\s?mal\b|10\s?×|ten times"),
    ("answer", r"\b1977\b"),
    ("answer", r"Töchter|daughters"),
    ("declined", None),
]
FINISHED = "#rag-chat .rag-answer:not(.rag-pending), #rag-chat .rag-error"
FOCUSED_JS = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return 'body';
  const owner = a.closest('[id]');
  return a.tagName.toLowerCase() + (owner ? ' in #' + owner.id : '');
}"""

# Contrast (WCAG 2 relative luminance) of every visible text under a selector, computed in
# the page: colours are read through a canvas (any CSS colour syntax), the background is
# the stack of ancestor backgrounds down to the first opaque one (gradients count with
# each of their colours), and ancestors' opacity fades the text. Placeholders are included.
CONTRAST_JS = r"""
(selector) => {
  const cv = document.createElement('canvas'); cv.width = cv.height = 1;
  const ctx = cv.getContext('2d', {willReadFrequently: true});
  const rgba = (c) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = 'rgba(0,0,0,0)'; ctx.fillStyle = c; ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data; return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const colours = (img) => img.match(/(rgba?|hsla?|oklch|oklab|lab|lch|color)\([^()]*\)|#[0-9a-f]{3,8}\b/gi) || [];
  const backgrounds = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      const img = s.backgroundImage && s.backgroundImage !== 'none' ? colours(s.backgroundImage).map(rgba) : [];
      if (img.length) { layers.push(img); if (img.every((c) => c[3] >= 0.99)) break; }
      const c = rgba(s.backgroundColor);
      if (c[3] > 0) { layers.push([c]); if (c[3] >= 0.99) break; }
    }
    let bases = [over(rgba(getComputedStyle(document.documentElement).backgroundColor), [255, 255, 255, 1])];
    for (let i = layers.length - 1; i >= 0; i--) bases = bases.flatMap((b) => layers[i].map((c) => over(c, b)));
    return bases;
  };
  const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };
  const visible = (el) => {
    const s = getComputedStyle(el), r = el.getBoundingClientRect();
    return el.getClientRects().length > 0 && s.visibility !== 'hidden' && r.width >= 1 && r.height >= 1
      && !el.closest('[hidden], [aria-hidden="true"]');
  };
  const hex = (c) => '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  const measure = (el, text, colour) => {
    const fg = rgba(colour); fg[3] *= opacity(el);
    let worst = Infinity, bg = null;
    for (const b of backgrounds(el)) { const r = ratio(over(fg, b), b); if (r < worst) { worst = r; bg = b; } }
    const cls = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    return {text: text.slice(0, 80), ratio: Math.round(worst * 100) / 100, fg: hex(over(fg, bg)), bg: hex(bg),
            element: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls,
            inactive: !!el.closest(':disabled, [aria-disabled="true"]')};
  };
  const out = [];
  for (const scope of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement, text = n.nodeValue.trim();
      if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName) || !visible(el)) continue;
      out.push(measure(el, text, getComputedStyle(el).color));
    }
    for (const el of scope.querySelectorAll('textarea[placeholder], input[placeholder]')) {
      if (visible(el) && !el.value) out.push(measure(el, '(placeholder) ' + el.placeholder, getComputedStyle(el, '::placeholder').color));
    }
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real Assistant over the bundled articles, served on a free loopback port."""
    home = tmp_path_factory.mktemp("rag-home")
    settings = Settings.from_env(env={}, home=home, articles_dir=ARTICLES)
    bot = Assistant(settings)
    bot.ingest(ARTICLES)
    with running_app(create_app(bot, settings)) as url:
        yield {"url": url, "bot": bot}


def _finished(page: Any) -> int:
    return page.locator(FINISHED).count()


def _submit_and_wait(page: Any) -> Any:
    """Press Enter in the question box; wait for the reply and for focus to come back to the box.

    Returns:
        ``(reply locator, focused element after the answer)``.
    """
    before = _finished(page)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelectorAll({json.dumps(FINISHED)}).length > {before}", timeout=60_000
    )
    try:  # the caret comes back once the box is enabled again
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.matches('#rag-question textarea')",
            timeout=20_000,
        )
    except Exception:  # noqa: BLE001 - reported by the assertion below, with what has focus instead
        pass
    return page.locator(FINISHED).last, page.evaluate(FOCUSED_JS)


def _turn_of(reply: Any) -> str | None:
    marker = reply.locator("a.cite").first
    if not marker.count():
        return None
    return re.search(r"cite-(\d+)-\d+", marker.get_attribute("class") or "").group(1)


def _quotes(page: Any, turn: str) -> list[str]:
    """The highlighted quotes of ``turn`` in the sources panel, once the panel shows them."""
    marks = f'#rag-sources .src-turn[data-turn="{turn}"] mark'
    page.wait_for_function(
        "(sel) => { const m = [...document.querySelectorAll(sel)];"
        " return m.length > 0 && m.every((e) => e.textContent.trim()); }",
        arg=marks,
        timeout=10_000,
    )
    return page.locator(marks).all_text_contents()


def _contrast(page: Any, selector: str) -> list[dict[str, Any]]:
    return page.evaluate(CONTRAST_JS, selector)


def test_a_reader_can_trust_and_read_the_page(live: dict[str, Any]) -> None:
    assert len(EXAMPLES) == len(EXPECTED), "every example needs an expected answer here"
    ARTIFACTS.mkdir(exist_ok=True)
    report: dict[str, Any] = {"examples": [], "focus": [], "contrast": {}}
    try:
        _walk_through(live, report)
    finally:
        figures = json.dumps(report, ensure_ascii=False, indent=2)
        (ARTIFACTS / "page-trust.json").write_text(figures, encoding="utf-8")


def _walk_through(live: dict[str, Any], report: dict[str, Any]) -> None:
    with browser_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.emulate_media(color_scheme="light")
        page.goto(live["url"])
        box = page.locator("#rag-question textarea")
        box.wait_for(timeout=30_000)

        # Every example, clicked as a reader would, in order: each gives a right, cited answer
        # that says something on its own (or, for the last, says the articles don't cover it).
        first_turn = None
        for example, (kind, pattern) in zip(EXAMPLES, EXPECTED, strict=True):
            page.locator("#rag-examples").get_by_text(example, exact=True).click()
            page.wait_for_function(
                "(q) => { const b = document.querySelector('#rag-question textarea');"
                " return b && b.value === q && document.activeElement === b; }",
                arg=example,
                timeout=20_000,
            )
            reply, focused = _submit_and_wait(page)
            report["focus"].append({"after": example, "focused": focused})
            assert focused == "textarea in #rag-question", f"after {example!r} the focus is on {focused}"
            text = reply.inner_text()
            turn = _turn_of(reply)
            quotes = _quotes(page, turn) if turn is not None else []
            report["examples"].append({"question": example, "answer": text, "quotes": quotes})
            assert "Traceback" not in text and "went wrong" not in text, text
            if kind == "declined":
                assert DECLINED_LABEL in text and turn is None, f"{example!r} should be declined: {text}"
                continue
            assert turn is not None, f"{example!r} got no cited answer: {text}"
            assert DECLINED_LABEL not in text, f"{example!r} was declined"
            assert re.search(pattern, text, re.IGNORECASE), f"{example!r} is answered wrongly: {text}"
            assert quotes, f"{example!r}: the sources panel has no highlighted quote"
            for quote in quotes:  # a quote that ends in ":" introduces something it doesn't show
                assert not quote.rstrip().endswith(":"), f"{example!r}: the quote says nothing alone: {quote}"
            first_turn = first_turn if first_turn is not None else turn

        # A question with no words gets one line asking for a question, and no citation.
        box.fill("?")
        reply, focused = _submit_and_wait(page)
        report["question_mark"] = {"reply": reply.inner_text(), "focused": focused}
        assert reply.locator("a.cite").count() == 0 and "[1]" not in reply.inner_text()
        assert "question" in reply.inner_text().lower(), reply.inner_text()
        assert focused == "textarea in #rag-question", f"after '?' the focus is on {focused}"

        # The first answer's source is named by its article's title; file and lines follow, smaller.
        expected = live["bot"].ask(EXAMPLES[0]).citations[0]
        assert expected.title, f"ingest stored no title for {expected.file}"
        answer = page.locator(f"#rag-chat .rag-answer:has(a.cite-{first_turn}-1)").first
        line_title = answer.locator(".rag-cites .cite-title").first.inner_text()
        line_loc = answer.locator(".rag-cites .cite-loc").first.inner_text()
        assert line_title.startswith(expected.title), (line_title, expected.title)
        assert expected.file in line_loc and re.search(r"lines? \d+", line_loc), line_loc
        size = "e => parseFloat(getComputedStyle(e).fontSize)"
        title_size = answer.locator(".rag-cites .cite-title").first.evaluate(size)
        loc_size = answer.locator(".rag-cites .cite-loc").first.evaluate(size)
        assert loc_size < title_size, (loc_size, title_size)

        answer.locator(".rag-text a.cite").first.click()
        card = page.locator("#rag-sources .src-card.active")
        card.locator("mark").wait_for(timeout=20_000)
        panel_title = card.locator(".src-title").inner_text()
        assert panel_title.startswith(expected.title), (panel_title, expected.title)
        assert expected.file in card.locator(".src-file").inner_text()
        report["source"] = {
            "title": expected.label, "line": line_title, "panel": panel_title, "file": expected.file,
        }

        # Contrast of the highlighted quote, and of every other text, in both colour schemes.
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_function(
                "(dark) => document.body.classList.contains('dark') === dark",
                arg=scheme == "dark",
                timeout=20_000,
            )
            page.wait_for_timeout(300)  # let transitions settle
            page.mouse.move(0, 0)
            marks = _contrast(page, "#rag-sources .src-card.active mark")
            texts = [t for t in _contrast(page, "body") if not t["inactive"]]
            low = [t for t in texts if t["ratio"] < MIN_CONTRAST]
            report["contrast"][scheme] = {
                "highlight": min(m["ratio"] for m in marks),
                "highlight_colours": [marks[0]["fg"], marks[0]["bg"]],
                "lowest_text": min(texts, key=lambda t: t["ratio"]),
                "texts_checked": len(texts),
                "below_4_5": low,
            }
            answer.scroll_into_view_if_needed()  # the first answer: span, titled sources, language line
            page.screenshot(path=str(ARTIFACTS / f"page-{scheme}.png"), full_page=True)
            assert marks and min(m["ratio"] for m in marks) >= MIN_CONTRAST, (scheme, marks)
            assert not low, f"{scheme}: texts below {MIN_CONTRAST}:1: {low}"
        assert not errors, errors


def test_the_engine_answers_alike_when_the_page_asks_it_concurrently(live: dict[str, Any]) -> None:
    """The page lets ``ENGINE_CONCURRENCY`` questions run at once: each must get the answer it gets alone."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.load_ui import QUESTIONS
    from ui.gradio_app import ENGINE_CONCURRENCY

    bot = live["bot"]
    questions = [*QUESTIONS, *EXAMPLES, "?"] * 3

    def answer(question: str) -> tuple[str, tuple[tuple[str, int, int], ...]] | str:
        try:
            a = bot.ask(question)
        except Exception as e:  # noqa: BLE001 - compared like an answer
            return f"{type(e).__name__}: {e}"
        return a.text, tuple((c.file, c.char_start, c.char_end) for c in a.citations)

    alone = {q: answer(q) for q in dict.fromkeys(questions)}
    with ThreadPoolExecutor(max_workers=ENGINE_CONCURRENCY) as pool:
        together = list(pool.map(answer, questions))
    assert [alone[q] for q in questions] == together
