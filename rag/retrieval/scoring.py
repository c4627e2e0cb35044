"""How well one sentence matches a question, for ranking passages by their best sentence.

Whether a sentence answers (what to quote, when to decline) is the evidence
judge's decision (``rag.answering.judge``); this score is one of its features.
"""

from __future__ import annotations

import functools
import re

MIN_WORDS = 5
LEXICAL_WEIGHT = 0.25

_NUMERIC_Q = re.compile(
    r"\b(how (much|many|long|large|big|high|fast|often|old)|what (share|percentage|proportion|fraction|number|amount)"
    r"|by how much|wie ?viele?[nr]?|wie (lange|hoch|groß|oft|schnell|alt)|welche[rnms]? anteil|wieviel|anzahl)\b",
    re.I,
)
_WHEN_Q = re.compile(r"\b(when|what year|which year|since when|wann|welchem jahr|seit wann)\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn\w*|elf|zwölf|hundert|tausend|hälfte|drittel|viertel"
    r"|doppelt\w*|halbiert|million\w*|milliard\w*)\b",
    re.I,
)
_DATE = re.compile(
    r"\b(1[5-9]\d\d|20\d\d)(er)?\b|\b(januar|februar|märz|april|mai|juni|juli|august|september|oktober"
    r"|november|dezember)\b",
    re.I,
)
_SOURCE_LINE = re.compile(
    r"https?://|www\.|\.(de|net|com|org|ai)\b\s+[–-]"
    r"|^(veröffentlicht|published|autor|author|quelle|source|bild|foto|photo|credit)\b[^.]{0,40}:",
    re.I,
)


def answer_score(question: str, text: str, similarity: float, lexical: float) -> float:
    """How well a sentence answers: meaning and word overlap, fitting the
    question's type (a number, a date), minus headings, questions and links."""
    numeric_q, when_q = _question_traits(question)
    number, date, heading, asks, source = _text_traits(text.strip())
    score = similarity + LEXICAL_WEIGHT * lexical
    if numeric_q and number:
        score += 0.08
    if when_q and date:
        score += 0.10
    if heading:
        score -= 0.12
    if asks:
        score -= 0.15
    if source:
        score -= 0.10
    return score


@functools.lru_cache(maxsize=1024)
def _question_traits(question: str) -> tuple[bool, bool]:
    return bool(_NUMERIC_Q.search(question)), bool(_WHEN_Q.search(question))


@functools.lru_cache(maxsize=50_000)
def _text_traits(text: str) -> tuple[bool, bool, bool, bool, bool]:
    """What a sentence is, whatever the question: cached, since the same sentences come back."""
    return (bool(_NUMBER.search(text)), bool(_DATE.search(text)), is_heading(text), text.endswith("?"),
            is_source_line(text))


def is_source_line(text: str) -> bool:
    """A link, a "Source:"/"Author:" label or an "outlet.de – title" line."""
    return bool(_SOURCE_LINE.search(text.strip()))


@functools.lru_cache(maxsize=50_000)
def is_heading(text: str) -> bool:
    """A title, caption or byline: short, no closing punctuation and no figures."""
    words = len(text.split())
    if words < MIN_WORDS and not re.search(r"\d", text):
        return True
    if text.startswith("|") or re.search(r"\d", text):
        return False
    return words < 12 and not re.search(r"[.!:;\"“”»)]$", text)
