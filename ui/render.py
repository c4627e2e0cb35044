"""Plain-text rendering of an Answer, shared by the CLI and logs."""

from __future__ import annotations

from rag.types import Answer


def short_quote(quote: str, limit: int = 160) -> str:
    """One-line quote, cut at a word boundary with an ellipsis when too long."""
    flat = " ".join(quote.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def citation_lines(answer: Answer, limit: int = 160) -> list[str]:
    """``[n] file:lines "quote"`` for each citation."""
    return [f'[{c.n}] {c.file}:{c.lines} "{short_quote(c.quote, limit)}"' for c in answer.citations]
