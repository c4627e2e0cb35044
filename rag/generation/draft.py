"""What a generative answer's draft is: its language, and what the citation check did with it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rag.answering.question import language
from rag.generation.claims import strip_markers

if TYPE_CHECKING:
    from rag.generation.citation_check import CheckResult


def draft_language(text: str) -> str | None:
    """``"de"``/``"en"`` for a draft long enough to tell, else None (a bare name or number)."""
    body = strip_markers(text)
    if len(re.findall(r"[^\W\d_]{2,}", body)) < 5:
        return None
    return language(body)


def language_notice(got: str | None, wanted: str) -> str | None:
    """A one-line note when the answer came in another language than the question's."""
    if got is None or got == wanted:
        return None
    names = {"de": ("German", "Deutsch"), "en": ("English", "Englisch")}
    if wanted == "de":
        return f"Das Sprachmodell hat auf {names[got][1]} geantwortet, nicht auf Deutsch."
    return f"The language model answered in {names[got][0]}, not in English."


def check_info(
    result: CheckResult | None, fallback: str | None, retried: bool, *, declined: bool = False
) -> dict[str, Any]:
    """``Answer.check``: claims kept and removed, why the quotes were served (if so), declines, retries."""
    return {
        "kept": len(result.kept) if result else 0,
        "removed": len(result.removed) if result else 0,
        "fallback": fallback,
        "declined": declined,
        "language_retry": retried,
    }
