"""Follow-ups made standalone by the chat model ("And how much cheaper?" -> a full question).

When the model's reply is unusable, the follow-up is resolved offline instead
(``rag.answering.followup``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.answering.followup import resolve
from rag.generation.prompts import rewrite_messages

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger("rag.generation.answerer")

History = Sequence[dict[str, str]]

MAX_REWRITE_CHARS = 500


def clean_rewrite(text: str, question: str) -> str | None:
    """The standalone question from a rewrite reply, or None if it is unusable.

    Strips labels (``"Standalone question:"``), quotes and anything after the
    first line.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    out = re.sub(
        r"^(?:standalone\s+question|rewritten\s+question|question|eigenständige\s+frage|frage)\s*:\s*",
        "",
        lines[0],
        flags=re.IGNORECASE,
    )
    out = out.strip().strip("\"'„“”«»`").strip()
    if not re.search(r"\w", out) or len(out) > max(MAX_REWRITE_CHARS, 4 * len(question)):
        return None
    return out


def rewrite_question(model: BaseChatModel, question: str, history: History) -> str:
    """Turn a follow-up ("And how much cheaper?") into a standalone question.

    Args:
        model: The chat model.
        question: The latest user message.
        history: Earlier turns; with no earlier user turn, ``question`` is returned as is.

    Returns:
        The standalone question; when the reply is unusable, the offline
        resolution (``rag.answering.followup.resolve``).

    Raises:
        Exception: Whatever the model raised (the caller falls back).
    """
    if not any(t.get("role") == "user" and t.get("content") for t in history):
        return question
    reply = model.invoke(rewrite_messages(question, history))
    cleaned = clean_rewrite(getattr(reply, "text", "") or "", question)
    if cleaned is None:
        log.info("Unusable rewrite of %r; resolving it offline.", question)
        return resolve(question, list(history))
    return cleaned
