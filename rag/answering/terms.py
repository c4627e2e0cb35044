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

    @classmethod
    def of(cls, text: str) -> Words:
        return _words(text)


@functools.lru_cache(maxsize=100_000)
def _words(text: str) -> Words:
    tokens = _TOKEN.findall(fold(text).replace("-", " ").replace("\u2011", " "))
    whole = _TOKEN.findall(fold(text).replace("\u2011", "-"))
    words = frozenset(tokens) | frozenset(w for w in whole)
    return Words(words, frozenset(stem(w) for w in words))


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
    """``part`` begins or ends a longer word, or a word is a part of ``part``."""
    if len(part) < MIN_PART:
        return False
    for w in words.words:
        if len(w) > len(part) + 2 and (w.startswith(part) or w.endswith(part)):
            return True
        if len(w) >= MIN_PART + 1 and len(part) > len(w) + 2 and (part.startswith(w) or part.endswith(w)) and not w.isdigit():
            return True
    return False
