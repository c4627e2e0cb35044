"""Rendering of answers and sources for the chat page: escaping, markers, highlights."""

from __future__ import annotations

import html
import re

from tests.ui_fixtures import PASSAGE_TEXT, QUOTE, fake_answer
from ui.html import (
    DECLINED_LABEL,
    escape_text,
    highlight_passage,
    render_answer,
    render_error,
    render_sources,
    render_streaming,
)

HOSTILE = (
    '<script>window.pwned=1</script> <img src=x onerror="window.pwned=2"> '
    "[click me](javascript:alert(1)) ${1+1} {{value}} $$x$$ **bold** http://evil.example"
)


def _tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][\w-]*)", html)}


def test_escape_text_leaves_no_markup_or_syntax() -> None:
    out = escape_text(HOSTILE + "\nline two")
    assert _tags(out) == {"br"}
    for raw in ("<script", "<img", "](", "${", "{{", "$$", "**"):
        assert raw not in out
    assert html.unescape(out.replace("<br>", "\n")) == HOSTILE + "\nline two"
    assert html.unescape(escape_text("&#35; & it's")) == "&#35; & it's"


def test_render_answer_links_known_markers_only() -> None:
    answer = fake_answer("q", text="Ten times faster [1], see also [7].").to_dict()
    out = render_answer(answer, turn=3)
    assert out.count('class="cite cite-3-1"') == 2  # in the text and in the source line
    assert "[7]" not in out and "&#91;7&#93;" in out
    assert "003_b27880a03e2c9224.txt · line 13" in html.unescape(out)


def test_render_answer_escapes_hostile_text_and_notice() -> None:
    answer = fake_answer("q", text=HOSTILE + " [1]").to_dict()
    answer["notice"] = "<b>LLM</b> unavailable"
    out = render_answer(answer, turn=0)
    assert _tags(out) <= {"div", "a", "span"}
    assert "&lt;b&gt;LLM&lt;/b&gt;" in out


def test_declined_answer_says_so_plainly() -> None:
    answer = {"text": "Dazu steht nichts in den Artikeln.", "abstained": True, "citations": []}
    out = render_answer(answer, turn=0)
    assert DECLINED_LABEL in html.unescape(out)
    assert "Dazu steht nichts" in out
    only_label = render_answer({"text": DECLINED_LABEL, "abstained": True, "citations": []}, turn=0)
    assert only_label.count("cover this question") == 1


def test_streaming_and_error_are_escaped() -> None:
    assert "&lt;script&gt;" in render_streaming("<script>")
    out = render_error("<img src=x onerror=alert(1)>")
    assert "<img" not in out and "⚠️" in out


def test_highlight_uses_offset_then_search_then_quote_only() -> None:
    offset = PASSAGE_TEXT.index(QUOTE)
    assert f"<mark>{escape_text(QUOTE)}</mark>" in highlight_passage(PASSAGE_TEXT, QUOTE, offset)
    wrong = highlight_passage(PASSAGE_TEXT, QUOTE, 3)
    assert wrong.count("<mark>") == 1 and f"<mark>{escape_text(QUOTE)}</mark>" in wrong
    assert highlight_passage("abc", "zzz", None) == "<mark>zzz</mark>"
    hostile = highlight_passage("a <b>x</b> b", "<b>x</b>", 2)
    assert hostile == "a <mark>&lt;b&gt;x&lt;/b&gt;</mark> b"


def test_sources_panel_shows_latest_turn_and_keeps_older_ones() -> None:
    turns = [
        {"question": "first?", "answer": fake_answer("first?").to_dict()},
        {"question": "broken", "answer": None, "error": "x"},
        {"question": "<i>third</i>", "answer": fake_answer("third").to_dict()},
    ]
    out = render_sources(turns)
    assert '<section class="src-turn" data-turn="0" hidden>' in out
    assert '<section class="src-turn" data-turn="2">' in out
    assert 'data-turn="1"' not in out
    assert 'id="src-2-1"' in out and "<mark>" in out
    assert "&lt;i&gt;third&lt;/i&gt;" in out


def test_sources_panel_when_empty_or_declined() -> None:
    assert "src-empty" in render_sources([])
    declined = [{"question": "weather?", "answer": {"text": "no", "abstained": True, "citations": []}}]
    assert "don't cover" in html.unescape(render_sources(declined))
