"""What makes the front-ends trustworthy to read: titled sources, the answer first, the quotes'
language, "?" answered with a request for a question, and colours that keep 4.5:1."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest

from rag.errors import InvalidQuestionError
from rag.types import Answer, AnswerSpan
from tests.ui_fixtures import PASSAGE_TEXT, QUOTE, fake_answer
from ui.html import answer_text, render_answer, render_sources

TITLE = "Netflix integriert GenAI erstmals in eigene Produktionen"


def titled_answer(**changes) -> Answer:
    """``fake_answer`` with its source titled, its answer span and German quotes for an English question."""
    text = "10× — Die Sequenz war mithilfe von KI zehnmal schneller [1]."
    answer = fake_answer("How much faster was the AI scene?", text=text)
    c = replace(answer.citations[0], title=TITLE, outlet="TechCrunch", published="2025-07-18")
    p = replace(answer.sources[0], title=c.title, outlet=c.outlet, published=c.published)
    at = c.char_start + QUOTE.index("zehnmal")
    span = AnswerSpan(text="zehnmal", normalized="10×", kind="number", n=1, char_start=at, char_end=at + 7)
    values = {"citations": [c], "sources": [p], "span": span, "quote_language": "de"} | changes
    return replace(answer, **values)


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# -- the page ---------------------------------------------------------------------------


def test_source_line_names_the_article_then_file_and_lines() -> None:
    out = render_answer(titled_answer().to_dict(), turn=2)
    cites = out[out.index('class="rag-cites"') :]
    title = re.search(r'<span class="cite-title">(.*?)</span> <span class="cite-loc">', cites).group(1)
    assert _plain(title) == f"{TITLE} — TechCrunch, 2025-07-18"
    loc = re.search(r'<span class="cite-loc">(.*?)</span>', cites).group(1)
    assert _plain(loc) == "003_b27880a03e2c9224.txt · line 13"
    assert cites.index("cite-title") < cites.index("cite-loc")
    assert '<span class="src-meta">— TechCrunch, 2025-07-18</span>' in cites  # kept on one line
    tooltip = f'title="{TITLE} — TechCrunch, 2025-07-18 · 003_b27880a03e2c9224.txt, line 13"'
    assert tooltip in html.unescape(out)


def test_without_a_title_the_file_name_stands_alone() -> None:
    out = render_answer(fake_answer("q").to_dict(), turn=0)
    assert "cite-title" not in out
    assert "[1] 003_b27880a03e2c9224.txt · line 13" in _plain(out)
    panel = render_sources([{"question": "q", "answer": fake_answer("q").to_dict()}])
    assert "src-title" not in panel and "src-file" in panel


def test_the_answer_span_comes_first_and_is_not_repeated() -> None:
    out = render_answer(titled_answer().to_dict(), turn=0)
    span = re.search(r'<div class="rag-span">(.*?)</div>', out).group(1)
    assert _plain(span) == "10× [1]" and "cite-0-1" in span
    text = re.search(r'<div class="rag-text">(.*?)</div>', out).group(1)
    assert _plain(text).startswith("Die Sequenz war") and "10×" not in _plain(text)
    assert out.index("rag-span") < out.index("rag-text")
    assert answer_text({"text": "10× — x [1]", "span": None}) == "10× — x [1]"  # no span: untouched


def test_quote_language_is_one_muted_line() -> None:
    out = render_answer(titled_answer().to_dict(), turn=0)
    assert out.count("Quoted from the German original") == 1
    assert out.index("rag-text") < out.index("rag-lang") < out.index("rag-cites")
    assert "rag-lang" not in render_answer(titled_answer(quote_language=None).to_dict(), turn=0)
    declined = {"text": "Not covered.", "abstained": True, "citations": [], "quote_language": "de"}
    assert "rag-lang" not in render_answer(declined, turn=0)


def test_understood_as_shows_a_rewritten_follow_up_only() -> None:
    rewritten = titled_answer(resolved_question="How much cheaper was the AI scene?")
    out = render_answer(rewritten.to_dict(), turn=0)
    assert "Understood as: How much cheaper was the AI scene?" in _plain(out)
    same = titled_answer(resolved_question="How much faster was the AI scene?").to_dict()
    assert "Understood as" not in render_answer(same, turn=0)
    hostile = render_answer(titled_answer(resolved_question="<img src=x onerror=alert(1)>").to_dict(), turn=0)
    assert "<img" not in hostile


def test_sources_panel_titles_the_card_and_bolds_the_answer_inside_the_quote() -> None:
    panel = render_sources([{"question": "q", "answer": titled_answer().to_dict()}])
    summary = re.search(r"<summary>(.*?)</summary>", panel).group(1)
    assert _plain(summary) == f"[1] {TITLE} — TechCrunch, 2025-07-18 003_b27880a03e2c9224.txt line 13"
    assert summary.index("src-title") < summary.index("src-file")
    mark = re.search(r"<mark>(.*?)</mark>", panel).group(1)
    assert _plain(mark) == QUOTE
    assert '<strong class="src-answer">zehnmal</strong>' in mark
    # A span that doesn't match its citation's text is not bolded (the quote still is highlighted).
    bad = titled_answer().to_dict()
    bad["span"]["char_start"] += 1
    assert "src-answer" not in render_sources([{"question": "q", "answer": bad}])
    assert PASSAGE_TEXT.split(QUOTE)[0].strip()[-10:] in _plain(panel)


def test_question_without_words_gets_a_request_for_a_question_and_no_citation(tmp_path: Path) -> None:
    from tests.ui_fixtures import FakeAssistant
    from ui.feedback import FeedbackStore
    from ui.page_handlers import ChatHandlers

    class NoWords(FakeAssistant):
        def stream(self, question, *, history=None, k=None):
            if not any(ch.isalnum() for ch in question):
                raise InvalidQuestionError("That has no words in it. Type a question about the articles.")
            yield from super().stream(question, history=history, k=k)

    h = ChatHandlers(NoWords(tmp_path / "f.jsonl"), FeedbackStore(tmp_path / "f.jsonl"))
    turns = h.add_question("?", [])[-1]
    chat, sources, turns, box, send = list(h.respond(turns))[-1]
    reply = chat[-1]["content"]
    assert "rag-hint" in reply and "no words" in reply and "⚠️" not in reply
    assert "cite" not in reply and "[1]" not in reply
    assert "src-card" not in sources and box["interactive"] and send["interactive"]


def _resolve(theme, name: str, dark: bool) -> str:
    value = getattr(theme, f"{name}_dark" if dark and hasattr(theme, f"{name}_dark") else name)
    while isinstance(value, str) and value.startswith("*"):
        ref = value[1:]
        value = getattr(theme, f"{ref}_dark" if dark and hasattr(theme, f"{ref}_dark") else ref)
    return value


def _contrast(a: str, b: str) -> float:
    def lum(hex_: str) -> float:
        hex_ = {"white": "#ffffff", "black": "#000000"}.get(hex_, hex_)
        rgb = [int(hex_.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    x, y = sorted((lum(a), lum(b)), reverse=True)
    return (x + 0.05) / (y + 0.05)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_theme_colours_keep_4_5_to_1(dark: bool) -> None:
    from ui.page_style import page_theme

    theme = page_theme()
    c = lambda name: _resolve(theme, name, dark)  # noqa: E731
    pairs = {
        "text on the accent tint (the dark highlight)": ("body_text_color", "color_accent_soft"),
        "subdued text": ("body_text_color_subdued", "background_fill_primary"),
        "subdued on a block": ("body_text_color_subdued", "block_background_fill"),
        "placeholder": ("input_placeholder_color", "input_background_fill"),
        "citation link": ("link_text_color", "background_fill_primary"),
        "citation link on a message": ("link_text_color", "background_fill_secondary"),
        "hovered citation": ("link_text_color_hover", "color_accent_soft"),
    }
    for what, (fg, bg) in pairs.items():
        assert _contrast(c(fg), c(bg)) >= 4.5, (what, c(fg), c(bg))
    assert _contrast(c("button_primary_text_color"), c("button_primary_background_fill")) >= 4.5
    if not dark:  # the light page tints the quote with primary-200
        assert _contrast(c("body_text_color"), theme.primary_200) >= 4.5


# -- Slack -------------------------------------------------------------------------------


def test_slack_sources_are_titled_and_the_answer_comes_first() -> None:
    from tests.slack_fixtures import blocks_text
    from ui.slack_format import answer_message, citation_mrkdwn

    answer = titled_answer(resolved_question="How much faster was the AI building-collapse scene?")
    head = citation_mrkdwn(answer.citations[0]).splitlines()
    assert head[0] == f"*[1]* *{TITLE}* — TechCrunch, 2025-07-18"
    assert head[1] == "003_b27880a03e2c9224.txt, line 13"
    assert head[2].startswith(">mithilfe von KI")
    msg = answer_message(answer)
    texts = [blocks_text({"blocks": [b]}) for b in msg.blocks]
    assert texts[0] == "Understood as: How much faster was the AI building-collapse scene?"
    assert texts[1] == "*10×* [1]"
    assert texts[2] == "Die Sequenz war mithilfe von KI zehnmal schneller [1]."
    assert "Quoted from the German original" in texts
    assert texts[-1].startswith("*Sources*\n*[1]* *Netflix integriert")


def test_slack_question_without_words_is_one_line() -> None:
    from ui.slack_format import question_message

    msg = question_message("That has no words in it. <Type> a question.")
    assert msg.text == "That has no words in it. &lt;Type&gt; a question." and len(msg.blocks) == 1


# -- the command line -----------------------------------------------------------------------


def test_cli_citation_line_names_the_article_then_file_lines_and_quote() -> None:
    from ui.cli import citation_lines

    assert citation_lines(titled_answer()) == [
        f'[1] {TITLE} — TechCrunch, 2025-07-18 · 003_b27880a03e2c9224.txt:13 "{QUOTE}"'
    ]
    assert citation_lines(fake_answer("q")) == [f'[1] 003_b27880a03e2c9224.txt:13 "{QUOTE}"']
    dimmed = citation_lines(titled_answer(), dim=True)[0]
    assert dimmed.count("\033[2m003_b27880a03e2c9224.txt:13\033[0m") == 1


def test_cli_question_without_words_asks_for_a_question(tmp_path, monkeypatch, capsys) -> None:
    from ui.cli import main

    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    assert main(["ask", "?"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "[1]" not in err
    assert err.strip().startswith("error: ") and "question" in err and len(err.strip().splitlines()) == 1
