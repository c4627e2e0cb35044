"""Streaming one draft from the chat model: its pieces, its finish reason, its timeout."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.generation.failures import IncompleteReplyError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel


def elapsed_ms(t: float) -> float:
    """Milliseconds since the ``time.perf_counter()`` reading ``t``, to one decimal."""
    return round((time.perf_counter() - t) * 1000, 1)


def piece_text(chunk: Any) -> str:
    """The text of one streamed chunk (a message chunk, or a plain string)."""
    text = getattr(chunk, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(chunk, "content", chunk)
    return content if isinstance(content, str) else ""


def stream_draft(
    model: BaseChatModel,
    messages: list[Any],
    timeout: float,
    timings: dict[str, float],
    first: str,
    shown: list[bool],
    *,
    require_finish: bool = False,
) -> Iterator[str]:
    """Stream one draft; yields its pieces and returns ``(draft, finish_reason)``.

    Args:
        model: The chat model.
        messages: The prompt.
        timeout: Seconds the whole draft may take.
        timings: Gets ``first`` (ms to the first piece).
        first: The timing's name, e.g. ``"llm_first_token"``.
        shown: ``shown[0]`` becomes True once a piece reached the reader.
        require_finish: The provider always ends a complete reply with a reason.

    Raises:
        TimeoutError: The draft took longer than ``timeout``.
        IncompleteReplyError: The stream ended without an end-of-reply signal.
        Exception: Whatever the client raised.
    """
    parts: list[str] = []
    finish = None
    t = time.perf_counter()
    for chunk in model.stream(messages):
        piece = piece_text(chunk)
        if piece:
            if not parts:
                timings[first] = elapsed_ms(t)
            parts.append(piece)
            shown[0] = True
            yield piece
        meta = getattr(chunk, "response_metadata", None) or {}
        finish = (
            meta.get("finish_reason")
            or meta.get("done_reason")
            or ("stop" if meta.get("done") else None)
            or finish
        )
        if time.perf_counter() - t > timeout:
            raise TimeoutError
    if finish is None and require_finish:
        raise IncompleteReplyError
    # Reasoning models may think aloud first; only the answer after it is checked.
    return re.sub(r"<think>.*?(</think>|$)", "", "".join(parts), flags=re.DOTALL), finish


def drop_unfinished(draft: str) -> str:
    """``draft`` up to its last complete sentence (for replies cut by the token limit)."""
    ends = list(re.finditer(r"[.!?…][\"'”“»)]*(?:\s*\[[^\]]{1,20}\])*", draft))
    return draft[: ends[-1].end()] if ends else ""
