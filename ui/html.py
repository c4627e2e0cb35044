"""HTML for the chat page: answers with clickable [n] markers and the sources panel.

Every piece of article text, question or error passes through ``escape_text``
before it reaches the page, so an article holding ``<script>``, an ``onerror``
attribute or a Markdown link is shown literally and never runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Beyond html.escape's &<>"': characters that Markdown, LaTeX or Gradio's HTML
# templates (``${...}``, ``{{...}}``) could give meaning to. One pass, so the
# entities themselves are never escaped again.
_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    | {ch: f"&#{ord(ch)};" for ch in "[]()*_`\\~|#!${}"}
)
_MARKER_RE = re.compile(r"\[(\d{1,3})\]")

DECLINED_LABEL = "The articles don't cover this question."
SOURCES_EMPTY = "Citations appear here. Click a [n] marker in an answer to open the passage it quotes."


def escape_text(text: str) -> str:
    """Escape ``text`` so that the browser shows it literally.

    Args:
        text: Any untrusted text (article passage, question, error message).

    Returns:
        HTML with no tags, no Markdown or template syntax, and ``<br>`` for newlines.
    """
    return text.translate(_ENTITIES).replace("\r\n", "\n").replace("\n", "<br>")


def _lines(c: Mapping[str, Any]) -> str:
    start, end = c.get("line_start"), c.get("line_end")
    return f"line {start}" if start == end else f"lines {start}–{end}"


def _cite_link(turn: int, c: Mapping[str, Any], label: str) -> str:
    title = escape_text(f"{c['file']}, {_lines(c)}")
    return f'<a class="cite cite-{turn}-{int(c["n"])}" role="button" tabindex="0" title="{title}">{label}</a>'


def render_streaming(text: str) -> str:
    """HTML for an answer that is still arriving (markers not yet linked)."""
    return f'<div class="rag-answer rag-pending">{escape_text(text)}<span class="rag-cursor">▍</span></div>'


def render_answer(answer: Mapping[str, Any], turn: int) -> str:
    """HTML for a finished answer: text with linked markers, notice and a source line.

    Args:
        answer: ``Answer.to_dict()`` of the answer.
        turn: Id of this turn in the session; ties its markers to its sources.
    """
    citations = {int(c["n"]): c for c in answer.get("citations", [])}
    parts: list[str] = []
    if answer.get("abstained"):
        parts.append(f'<div class="rag-declined">{escape_text(DECLINED_LABEL)}</div>')
    text = answer.get("text", "")
    body: list[str] = []
    pos = 0
    for m in _MARKER_RE.finditer(text):
        body.append(escape_text(text[pos : m.start()]))
        n = int(m.group(1))
        body.append(_cite_link(turn, citations[n], f"[{n}]") if n in citations else escape_text(m.group(0)))
        pos = m.end()
    body.append(escape_text(text[pos:]))
    if not (answer.get("abstained") and text.strip() == DECLINED_LABEL):
        parts.append(f'<div class="rag-text">{"".join(body)}</div>')
    if answer.get("notice"):
        parts.append(f'<div class="rag-notice">{escape_text(str(answer["notice"]))}</div>')
    if citations:
        links = " ".join(
            _cite_link(turn, c, f"[{n}] {escape_text(c['file'])} · {escape_text(_lines(c))}")
            for n, c in sorted(citations.items())
        )
        parts.append(f'<div class="rag-cites">{links}</div>')
    return f'<div class="rag-answer" data-turn="{turn}">{"".join(parts)}</div>'


def render_error(message: str) -> str:
    """HTML for a short error shown in the chat instead of an answer."""
    return f'<div class="rag-error">⚠️ {escape_text(message)}</div>'


def _passage_for(answer: Mapping[str, Any], c: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for p in answer.get("sources", []):
        if p.get("id") == c.get("passage_id"):
            return p
    for p in answer.get("sources", []):
        if (
            p.get("file") == c.get("file")
            and p["char_start"] <= c["char_start"]
            and c["char_end"] <= p["char_end"]
        ):
            return p
    return None


def highlight_passage(passage_text: str, quote: str, offset: int | None) -> str:
    """Escape ``passage_text`` and wrap ``quote`` (at ``offset`` if it is there) in ``<mark>``.

    Args:
        passage_text: The passage the quote was taken from.
        quote: The verbatim span to highlight.
        offset: Where the quote starts in the passage, if known.

    Returns:
        HTML of the whole passage with one highlighted span; only the quote when
        it can't be found in the passage.
    """
    start = offset if offset is not None and passage_text[offset : offset + len(quote)] == quote else -1
    if start < 0:
        start = passage_text.find(quote) if quote else -1
    if start < 0:
        return f"<mark>{escape_text(quote)}</mark>"
    end = start + len(quote)
    return (
        escape_text(passage_text[:start])
        + f"<mark>{escape_text(quote)}</mark>"
        + escape_text(passage_text[end:])
    )


def _source_card(turn: int, answer: Mapping[str, Any], c: Mapping[str, Any]) -> str:
    passage = _passage_for(answer, c)
    if passage is None:
        body = highlight_passage(c.get("quote", ""), c.get("quote", ""), 0)
    else:
        body = highlight_passage(passage["text"], c.get("quote", ""), c["char_start"] - passage["char_start"])
    n = int(c["n"])
    return (
        f'<details class="src-card" id="src-{turn}-{n}" data-turn="{turn}" data-n="{n}">'
        f'<summary><span class="src-n">[{n}]</span> <span class="src-file">{escape_text(c["file"])}</span> '
        f'<span class="src-lines">{escape_text(_lines(c))}</span></summary>'
        f'<div class="src-passage">{body}</div></details>'
    )


def render_sources(turns: Sequence[Mapping[str, Any]]) -> str:
    """HTML of the sources panel: one section per answered turn, the latest shown.

    Args:
        turns: Session turns, each ``{"id": int, "question": str, "answer": Answer dict or None}``
            (``id`` defaults to the position in the list).
    """
    sections: list[str] = []
    answered = [(t.get("id", i), t) for i, t in enumerate(turns) if t.get("answer")]
    for pos, (i, turn) in enumerate(answered):
        answer = turn["answer"]
        hidden = "" if pos == len(answered) - 1 else " hidden"
        head = f'<div class="src-question">Sources for: {escape_text(turn.get("question", ""))}</div>'
        cards = [_source_card(i, answer, c) for c in answer.get("citations", [])]
        if not cards:
            cards = ['<p class="src-none">No passage was cited: the articles don\'t cover this question.</p>']
        sections.append(f'<section class="src-turn" data-turn="{i}"{hidden}>{head}{"".join(cards)}</section>')
    if not sections:
        sections.append(f'<p class="src-empty">{escape_text(SOURCES_EMPTY)}</p>')
    return f'<div id="rag-sources">{"".join(sections)}</div>'
