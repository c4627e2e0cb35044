"""Does a candidate sentence mention a question's term, in any language?

A term matches by its exact form, its Snowball stem, a part of a German
compound ("Einsturz" in "Gebäudeeinsturz-Sequenz"), or a cross-lingual
neighbour from the lexicon ("arrested" -> "verhaftet"), which counts as
much as the lexicon is sure of it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.text import fold, stem

MIN_PART = 4
COMPOUND_STRENGTH = 0.85
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Words:
    """A text's folded words and their stems, for matching."""

    words: frozenset[str]
    stems: frozenset[str]
    parts: frozenset[str]
    """Beginnings and ends (``MIN_PART``+ letters) of the longer words: compound parts."""

    @classmethod
    def of(cls, text: str) -> Words:
        return _words(text)


@functools.lru_cache(maxsize=100_000)
def _words(text: str) -> Words:
    tokens = _TOKEN.findall(fold(text).replace("-", " ").replace("\u2011", " "))
    whole = _TOKEN.findall(fold(text).replace("\u2011", "-"))
    words = frozenset(tokens) | frozenset(w for w in whole)
    parts = set()
    for w in words:
        for n in range(MIN_PART, len(w) - 2):
            parts.add(w[:n])
            parts.add(w[-n:])
    return Words(words, frozenset(stem(w) for w in words), frozenset(parts))


def match(term: str, words: Words, translations: tuple[tuple[str, float], ...] = ()) -> float:
    """How surely ``words`` contain ``term`` (a folded word), 0..1."""
    if term in words.words:
        return 1.0
    s = stem(term)
    if s in words.stems:
        return 1.0
    best = COMPOUND_STRENGTH if _in_compound(s, words) else 0.0
    for alt, sure in translations:
        if sure <= best:
            continue
        if alt in words.stems or (len(alt) >= MIN_PART and _in_compound(alt, words)):
            best = sure
    return best


def _in_compound(part: str, words: Words) -> bool:
    """``part`` begins or ends a longer word, or a word begins or ends ``part``."""
    if len(part) < MIN_PART:
        return False
    if part in words.parts:
        return True
    for n in range(MIN_PART + 1, len(part) - 2):
        if part[:n] in words.words or part[-n:] in words.words:
            return True
    return False
