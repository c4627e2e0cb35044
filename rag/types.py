"""The objects every front-end renders: passages, citations and answers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from collections.abc import Iterable
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A chunk of an article as stored in the index.

    Offsets are character offsets into the decoded file text; lines are 1-based
    and inclusive.
    """

    id: str
    file: str
    text: str
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    score: float = 0.0
    title: str = ""
    """The article's title, outlet and date as ingest found them (``ingest.metadata``); may be empty."""
    outlet: str = ""
    published: str = ""
    """ISO date (``2025-07-18``) or empty."""
    author: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        return source_label(self.title, self.outlet, self.published, self.file)


@dataclass(frozen=True)
class Citation:
    """One `[n]` marker in an answer, resolved to a verbatim span of a file."""

    n: int
    file: str
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    quote: str
    score: float
    passage_id: str = ""
    title: str = ""
    outlet: str = ""
    published: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}

    @property
    def label(self) -> str:
        """How people see the source: ``Title — Outlet, 2025-07-18``, or the file name."""
        return source_label(self.title, self.outlet, self.published, self.file)

    @property
    def lines(self) -> str:
        """Line range as shown to people, e.g. ``"12"`` or ``"12-14"``."""
        if self.line_start == self.line_end:
            return str(self.line_start)
        return f"{self.line_start}-{self.line_end}"


@dataclass
class Answer:
    """A cited answer.

    Attributes:
        question: The question as asked.
        text: The answer; every ``[n]`` in it matches one citation.
        citations: Resolved citations, numbered from 1.
        sources: The retrieved passages the answer was chosen from.
        abstained: True when the articles don't cover the question.
        mode: ``"extractive"`` or ``"generative"``.
        notice: A one-line note for the user (e.g. an LLM fallback), or None.
        span: The answer itself inside the first quote (typed questions), or None.
        resolved_question: The follow-up as understood, standalone; None if unchanged.
        quote_language: Language of the quotes when it differs from the question's.
        timings_ms: Where the time went, for benchmarks and logs.
        check: Generative mode only: what the citation check did, e.g. ``{"kept": 2,
            "removed": 1, "fallback": None, "language_retry": False}``; ``fallback`` names why
            the extractive answer was served instead (``"timeout"``, ``"unsupported"`` …).
        evidence: The evidence judge on the best sentence: ``{"verdict": "answers", "probability":
            0.93, "reasons": [...]}``; None when nothing was judged.
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    sources: list[Passage] = field(default_factory=list)
    abstained: bool = False
    mode: str = "extractive"
    notice: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    span: AnswerSpan | None = None
    resolved_question: str | None = None
    """The question as it was understood (a follow-up made standalone); None if unchanged."""
    quote_language: str | None = None
    """``"de"``/``"en"``: the language of the quoted text, when it differs from the question's."""
    check: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "notice": self.notice,
            "span": self.span.to_dict() if self.span else None,
            "resolved_question": self.resolved_question,
            "quote_language": self.quote_language,
            "citations": [c.to_dict() for c in self.citations],
            "sources": [p.to_dict() for p in self.sources],
            "timings_ms": self.timings_ms,
            "check": self.check,
            "evidence": self.evidence,
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


@dataclass(frozen=True)
class AnswerSpan:
    """The answer itself inside the first quote, for typed questions.

    ``text`` is verbatim (``zehnmal``); ``normalized`` reads in any language
    (``10×``); offsets are file offsets inside citation ``n``.
    """

    text: str
    normalized: str
    kind: str
    n: int
    char_start: int
    char_end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_label(title: str, outlet: str, published: str, file: str) -> str:
    extra = ", ".join(x for x in (outlet, published) if x)
    if not title:
        return f"{file} ({extra})" if extra else file
    return f"{title} — {extra}" if extra else title


def final_answer(events: Iterable[str | Answer]) -> Answer:
    """The ``Answer`` that ends a stream of text pieces (see ``Assistant.stream``)."""
    answer = None
    for event in events:
        if isinstance(event, Answer):
            answer = event
    if answer is None:
        msg = "the answer stream ended without an Answer"
        raise RuntimeError(msg)
    return answer
