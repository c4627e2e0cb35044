"""Answer -> Slack message (mrkdwn + Block Kit), and Slack text -> question/history.

Pure functions with no Slack SDK import, so they can be tested without a server.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ui.render import short_quote
from rag.types import Answer, Citation
from ui.html import answer_text, language_name, span_value

SECTION_LIMIT = 3000
"""Slack's limit on the text of one section block."""
CONTEXT_LIMIT = 2000
MAX_BLOCKS = 50
"""Slack's limit on blocks in one message."""
FALLBACK_LIMIT = 3000
"""Length of the plain ``text`` sent with the blocks (notifications, history)."""
QUOTE_LIMIT = 200

DECLINED_TEXT = "The articles don't cover this question, so I can't answer it from them."
APOLOGY_TEXT = "Sorry, something went wrong while answering. Please try again in a moment."
TRUNCATED_NOTE = "_The answer was shortened to fit in one Slack message._"

Block = dict[str, Any]


@dataclass
class SlackMessage:
    """What ``chat.postMessage`` needs: fallback ``text`` plus ``blocks``."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so text can't form mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Escape ``text`` and turn Markdown ``**bold**`` into Slack's ``*bold*``."""
    return re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"*\1*", escape(text))


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split escaped mrkdwn into pieces of at most ``limit`` characters.

    Cuts at a paragraph break if possible, else a line break, a sentence end or
    a space, and never inside an ``&amp;``-style entity.
    """
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(sep, 0, limit)
            if cut > limit // 3:
                cut += len(sep.rstrip()) if sep == ". " else 0
                break
            cut = -1
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", max(0, cut - 5), cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return split_text(text, limit - 2)[0] + " …"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _truncate(text, CONTEXT_LIMIT)}]}


def _bold(text: str) -> str:
    """``*text*`` for Slack; asterisks inside would end the bold early, so they become ``∗``."""
    return f"*{escape(text.replace('*', '∗'))}*"


def citation_mrkdwn(citation: Citation, quote_limit: int = QUOTE_LIMIT) -> str:
    """The source by name, then its file and lines, then a short block quote.

    ``*[n]* *Title* — Outlet, 2025-07-18`` over ``file, lines 12-14``; without a
    title, ``*[n]* file, lines 12-14``.
    """
    label = "line" if citation.line_start == citation.line_end else "lines"
    where = f"{escape(citation.file)}, {label} {citation.lines}"
    if citation.title:
        extra = ", ".join(x for x in (citation.outlet, citation.published) if x)
        head = f"*[{citation.n}]* {_bold(citation.title)}" + (f" — {escape(extra)}" if extra else "")
        head = f"{head}\n{where}"
    else:
        head = f"*[{citation.n}]* {where}"
    quote = short_quote(citation.quote, quote_limit)
    return f"{head}\n>{escape(quote)}" if quote else head


def question_message(detail: str) -> SlackMessage:
    """The reply to something that isn't a question ("?", empty, too long): one line asking for one."""
    text = _truncate(escape(detail), SECTION_LIMIT)
    return SlackMessage(text=text, blocks=[_section(text)])


def _quoted_from(answer: Answer) -> str | None:
    if not answer.quote_language or not answer.citations:
        return None
    return f"Quoted from the {language_name(answer.quote_language)} original"


def sources_blocks(citations: Iterable[Citation]) -> list[Block]:
    """The *Sources* section, packed into as few sections as the limits allow."""
    items = [_truncate(citation_mrkdwn(c), SECTION_LIMIT) for c in citations]
    if not items:
        return []
    blocks: list[Block] = []
    current = "*Sources*"
    for item in items:
        if len(current) + 1 + len(item) > SECTION_LIMIT:
            blocks.append(_section(current))
            current = item
        else:
            current = f"{current}\n{item}"
    blocks.append(_section(current))
    return blocks


def answer_message(answer: Answer) -> SlackMessage:
    """Render an ``Answer`` as a Slack message within Slack's size limits.

    A declined answer says the articles don't cover the question and lists no
    sources. Otherwise the answer itself (``*10×*``, when the engine found it)
    comes first, then the answer text with its ``[n]`` markers, a muted line
    when the quotes are in another language than the question, the notice in
    italics, then the *Sources*. A follow-up that was rewritten starts with
    "Understood as: …".
    """
    head = []
    resolved = (answer.resolved_question or "").strip()
    if resolved and resolved != answer.question.strip():
        head.append(_context(f"Understood as: {escape(resolved)}"))
    notice = [_context(f"_{escape(answer.notice)}_")] if answer.notice else []
    if answer.abstained:
        blocks = [*head, _section(DECLINED_TEXT), *notice]
        return SlackMessage(text=DECLINED_TEXT, blocks=blocks)

    shown = {"text": answer.text, "span": answer.span.to_dict() if answer.span else None}
    value = span_value(shown)
    if value:
        head.append(_section(f"{_bold(value)} [{answer.span.n}]"))
    body = to_mrkdwn(answer_text(shown)) or "_(empty answer)_"
    origin = _quoted_from(answer)
    tail = ([_context(origin)] if origin else []) + notice
    meta = len(tail)
    tail += sources_blocks(answer.citations)
    if tail and answer.citations:
        tail.insert(meta, {"type": "divider"})
    if len(tail) > MAX_BLOCKS - 2 - len(head):
        tail = tail[: MAX_BLOCKS - 2 - len(head)] + [_context(TRUNCATED_NOTE)]
    body_blocks = head + [_section(piece) for piece in split_text(body)]
    room = MAX_BLOCKS - len(tail)
    if len(body_blocks) > room:
        body_blocks = body_blocks[: room - 1] + [_context(TRUNCATED_NOTE)]
    return SlackMessage(text=_truncate(body, FALLBACK_LIMIT), blocks=body_blocks + tail)


def apology_message(detail: str | None = None) -> SlackMessage:
    """A short apology; ``detail`` is a user-facing reason (never a traceback)."""
    text = APOLOGY_TEXT if not detail else f"Sorry, I couldn't answer that: {escape(detail)}"
    text = _truncate(text, SECTION_LIMIT)
    return SlackMessage(text=text, blocks=[_section(text)])


_USER_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!([^>|]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")


def slack_to_plain(text: str) -> str:
    """Turn Slack message text into plain text: drop user mentions, unwrap links."""
    text = _USER_MENTION.sub(" ", text)
    text = _SPECIAL.sub(lambda m: m.group(2) or "", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(html.unescape(text).split())


def thread_history(
    messages: Iterable[Mapping[str, Any]],
    *,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None,
    limit: int = 20,
) -> list[dict[str, str]]:
    """Earlier messages of a thread as engine history, oldest first.

    The bot's own messages become ``assistant`` turns; other bots' messages are
    left out; everyone else's become ``user`` turns.
    """
    turns: list[dict[str, str]] = []
    for msg in messages:
        ts = str(msg.get("ts", ""))
        if not ts or float(ts) >= float(before_ts):
            continue
        own = (bot_user_id and msg.get("user") == bot_user_id) or (bot_id and msg.get("bot_id") == bot_id)
        if not own and (msg.get("bot_id") or msg.get("subtype") == "bot_message"):
            continue
        content = slack_to_plain(str(msg.get("text") or ""))
        if content:
            turns.append({"role": "assistant" if own else "user", "content": content})
    return turns[-limit:]
