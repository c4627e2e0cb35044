"""HTML for the chat page: answers with clickable [n] markers and the sources panel.

Every piece of article text, question or error passes through ``escape_text``
before it reaches the page, so an article holding ``<script>``, an ``onerror``
attribute or a Markdown link is shown literally and never runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rag.types import source_label

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
LANGUAGES = {"de": "German", "en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch"}


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


def source_name(c: Mapping[str, Any]) -> str:
    """How a reader sees a source: ``Title — Outlet, 2025-07-18``, or the file name without a title."""
    return source_label(
        str(c.get("title") or ""),
        str(c.get("outlet") or ""),
        str(c.get("published") or ""),
        str(c.get("file", "")),
    )


def _titled(c: Mapping[str, Any]) -> bool:
    return bool(c.get("title"))


def _name_html(c: Mapping[str, Any]) -> str:
    """The title, then ``— Outlet, date`` kept on one line (a date never breaks at its hyphens)."""
    extra = ", ".join(str(x) for x in (c.get("outlet"), c.get("published")) if x)
    meta = f' <span class="src-meta">— {escape_text(extra)}</span>' if extra else ""
    return f"{escape_text(str(c.get('title') or ''))}{meta}"


def _cite_link(turn: int, c: Mapping[str, Any], label: str) -> str:
    where = f"{c['file']}, {_lines(c)}"
    title = escape_text(f"{source_name(c)} · {where}" if _titled(c) else where)
    return f'<a class="cite cite-{turn}-{int(c["n"])}" role="button" tabindex="0" title="{title}">{label}</a>'


def _source_entry(turn: int, c: Mapping[str, Any]) -> str:
    """One entry of an answer's source line: the article's name, then its file and lines, smaller."""
    n = int(c["n"])
    loc = f'<span class="cite-loc">{escape_text(c["file"])} · {escape_text(_lines(c))}</span>'
    if _titled(c):
        label = f'<span class="cite-n">[{n}]</span> <span class="cite-title">{_name_html(c)}</span> {loc}'
    else:
        label = f'<span class="cite-n">[{n}]</span> {loc}'
    return _cite_link(turn, c, label)


def language_name(code: str) -> str:
    """``"de"`` -> ``"German"``; unknown codes are shown as they are."""
    return LANGUAGES.get(code.lower(), code)


def quoted_from(answer: Mapping[str, Any]) -> str | None:
    """"Quoted from the German original" when the quotes' language differs from the question's, else None."""
    language = answer.get("quote_language")
    if not language or answer.get("abstained") or not answer.get("citations"):
        return None
    return f"Quoted from the {language_name(str(language))} original"


def span_value(answer: Mapping[str, Any]) -> str | None:
    """The answer itself (``10×``) when the engine found it inside a quote, else None."""
    span = answer.get("span")
    if not span or answer.get("abstained"):
        return None
    value = str(span.get("normalized") or span.get("text") or "").strip()
    return value or None


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
    resolved = str(answer.get("resolved_question") or "").strip()
    if resolved and resolved != str(answer.get("question") or "").strip():
        understood = escape_text(resolved)
        parts.append(f'<div class="rag-understood">Understood as: {understood}</div>')
    value = span_value(answer)
    if value:
        n = int(answer["span"].get("n") or 0)
        link = f" {_cite_link(turn, citations[n], f'[{n}]')}" if n in citations else ""
        value_html = f'<span class="rag-span-value">{escape_text(value)}</span>'
        parts.append(f'<div class="rag-span">{value_html}{link}</div>')
    if answer.get("abstained"):
        parts.append(f'<div class="rag-declined">{escape_text(DECLINED_LABEL)}</div>')
    text = answer_text(answer)
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
    origin = quoted_from(answer)
    if origin:
        parts.append(f'<div class="rag-lang">{escape_text(origin)}</div>')
    if answer.get("notice"):
        parts.append(f'<div class="rag-notice">{escape_text(str(answer["notice"]))}</div>')
    if citations:
        links = "".join(
            f'<div class="rag-cite">{_source_entry(turn, c)}</div>' for _, c in sorted(citations.items())
        )
        parts.append(f'<div class="rag-cites">{links}</div>')
    return f'<div class="rag-answer" data-turn="{turn}">{"".join(parts)}</div>'


def render_error(message: str) -> str:
    """HTML for a short error shown in the chat instead of an answer."""
    return f'<div class="rag-error">⚠️ {escape_text(message)}</div>'


def render_hint(message: str) -> str:
    """HTML for a question the engine can't take (empty, no words, too long): one line asking for a question.

    Still a ``rag-error`` (nothing was answered), but shown as plain text, without the warning sign.
    """
    return f'<div class="rag-error rag-hint">{escape_text(message)}</div>'


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


def _marked(quote: str, answer: tuple[int, int] | None) -> str:
    if answer is not None and 0 <= answer[0] < answer[1] <= len(quote):
        a, b = answer
        inner = (
            escape_text(quote[:a])
            + f'<strong class="src-answer">{escape_text(quote[a:b])}</strong>'
            + escape_text(quote[b:])
        )
    else:
        inner = escape_text(quote)
    return f"<mark>{inner}</mark>"


def highlight_passage(
    passage_text: str, quote: str, offset: int | None, answer: tuple[int, int] | None = None
) -> str:
    """Escape ``passage_text`` and wrap ``quote`` (at ``offset`` if it is there) in ``<mark>``.

    Args:
        passage_text: The passage the quote was taken from.
        quote: The verbatim span to highlight.
        offset: Where the quote starts in the passage, if known.
        answer: The answer itself inside the quote (``zehnmal``), as offsets into
            ``quote``; it is set in bold inside the highlight.

    Returns:
        HTML of the whole passage with one highlighted span; only the quote when
        it can't be found in the passage.
    """
    start = offset if offset is not None and passage_text[offset : offset + len(quote)] == quote else -1
    if start < 0:
        start = passage_text.find(quote) if quote else -1
    if start < 0:
        return _marked(quote, answer)
    end = start + len(quote)
    return escape_text(passage_text[:start]) + _marked(quote, answer) + escape_text(passage_text[end:])


def _answer_in_quote(answer: Mapping[str, Any], c: Mapping[str, Any]) -> tuple[int, int] | None:
    span = answer.get("span")
    if not span or int(span.get("n") or 0) != int(c["n"]):
        return None
    a, b = int(span["char_start"]) - int(c["char_start"]), int(span["char_end"]) - int(c["char_start"])
    quote = c.get("quote", "")
    if not (0 <= a < b <= len(quote)) or (span.get("text") and quote[a:b] != span["text"]):
        return None
    return a, b


def answer_text(answer: Mapping[str, Any]) -> str:
    """The answer's text without a leading ``"10× — "`` when the span is shown on its own line."""
    text = str(answer.get("text", ""))
    value = span_value(answer)
    if value:
        for sep in (" — ", " – ", ": ", " - "):
            if text.startswith(value + sep):
                return text[len(value) + len(sep) :]
    return text


def _source_card(turn: int, answer: Mapping[str, Any], c: Mapping[str, Any]) -> str:
    passage = _passage_for(answer, c)
    if passage is None:
        body = highlight_passage(c.get("quote", ""), c.get("quote", ""), 0, _answer_in_quote(answer, c))
    else:
        offset = c["char_start"] - passage["char_start"]
        body = highlight_passage(passage["text"], c.get("quote", ""), offset, _answer_in_quote(answer, c))
    n = int(c["n"])
    loc = (
        f'<span class="src-loc"><span class="src-file">{escape_text(c["file"])}</span> '
        f'<span class="src-lines">{escape_text(_lines(c))}</span></span>'
    )
    name = f'<span class="src-title">{_name_html(c)}</span> ' if _titled(c) else ""
    return (
        f'<details class="src-card" id="src-{turn}-{n}" data-turn="{turn}" data-n="{n}">'
        f'<summary><span class="src-n">[{n}]</span> {name}{loc}</summary>'
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
