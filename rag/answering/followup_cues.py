"""What a question says and what in it leans on an earlier turn.

``read`` collects a question's language, names, content words, years and
quarters; ``references`` finds the referring words nothing in the question
stands for; ``is_fragment``, ``noun_phrase`` and ``only_time`` tell a bare
aspect, a short noun phrase or a lone time from a question of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.followup_words import (
    AMBIGUOUS_PRONOUNS,
    ASPECTS,
    AT_END_ONLY,
    AUX,
    DA_WORDS,
    DEMONSTRATIVES,
    DETERMINERS,
    DUMMY_IT_VERBS,
    EXPLETIVE_ES,
    EXPLETIVE_IT,
    LEAD,
    PERSON_PRONOUNS,
    PLURAL_PRONOUNS,
    PREPOSITIONS,
    THING_PRONOUNS,
    TIME_WORD,
    WH,
    WORD,
)
from rag.answering.question import analyze, identifies
from rag.text import STOPWORDS, fold


@dataclass(frozen=True)
class Reading:
    """What ``resolve`` needs to know about one question."""

    text: str
    tokens: tuple[str, ...]
    lang: str
    names: tuple[str, ...]
    """Names that identify something (``Ted Sarandos``, ``CVL Economics``, ``TechCrunch``)."""
    all_names: tuple[str, ...]
    content: tuple[str, ...]
    """Folded content words that are neither question words nor aspects."""
    years: tuple[str, ...]
    quarters: tuple[str, ...]


def read(text: str) -> Reading:
    a = analyze(text)
    tokens = tuple(WORD.findall(text))
    all_names = _joined_names(text, [_full_name(text, n) for n in a.names])
    names = tuple(n for n in all_names if identifies(text, n, a.lang))
    folded_names = {w for n in names for w in fold(n).replace("-", " ").split()}
    content = tuple(
        w for w in a.focus
        if w not in ASPECTS | WH | PREPOSITIONS and w not in AUX and pronoun_kind(w, ()) is None
    )
    content = tuple(dict.fromkeys([*content, *(w for w in folded_names if w not in STOPWORDS)]))
    return Reading(text, tokens, a.lang, names, all_names, content, a.years, a.quarters)


def _full_name(text: str, name: str) -> str:
    """``name`` grown to whole words as they stand in ``text`` ("Héctor Germ" -> "Héctor Germán")."""
    i = text.find(name)
    if i < 0:
        return name
    end = i + len(name)
    while end < len(text) and (text[end].isalnum() or text[end] in "-’'"):
        end += 1
    return re.sub(r"['’]s?$", "", text[i:end])


def _joined_names(text: str, names: list[str]) -> tuple[str, ...]:
    """Names that stand next to each other in ``text`` joined ("Héctor Germán" + "Oesterheld")."""
    out: list[str] = []
    plain = re.compile(r"[A-ZÄÖÜ][^\sA-Z]*(?:\s+[A-ZÄÖÜ][^\sA-Z]*)*")
    for name in dict.fromkeys(names):
        adjacent = out and re.search(rf"{re.escape(out[-1])}\s+{re.escape(name)}", text)
        if adjacent and plain.fullmatch(out[-1]) and plain.fullmatch(name):
            out[-1] = f"{out[-1]} {name}"
        else:
            out.append(name)
    return tuple(out)


def pronoun_kind(word: str, words: Sequence[str], i: int | None = None) -> str | None:
    """``"person"``, ``"plural"``, ``"thing"`` or ``"any"`` for a referring word, else None."""
    w = fold(word)
    if w == "sein" and i is not None and i == len(words) - 1:
        return None  # "Was könnte das sein?": the verb
    if w in PERSON_PRONOUNS:
        return "person"
    if w in PLURAL_PRONOUNS:
        return "plural"
    if w in THING_PRONOUNS:
        return "thing"
    if w in AMBIGUOUS_PRONOUNS:
        return "any"
    if w in DEMONSTRATIVES or w in DA_WORDS:
        return "thing"
    if w in AT_END_ONLY and i is not None and i == len(words) - 1:
        return "thing"
    if w == "das" and i is not None:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        after = words[i + 2] if i + 2 < len(words) else ""
        if not nxt or (nxt[:1].islower() and not after[:1].isupper()):
            return "thing"
    return None


def references(q: Reading, previous: str = "") -> list[tuple[int, str, str]]:
    """Referring words nothing in the question stands for: ``(position, word, kind)``.

    A name said before the pronoun in the same question is what it stands for
    ("What does Eyeline Studios describe as its mission?"); in German, so is a
    noun before a possessive ("Welche Farbe hat ein Eisbär unter seinem Fell?").
    When the question names something new, only a personal pronoun, a plural one that
    isn't possessive (they, them, er, ihnen ...) or a "da"-word (danach, dort) still
    points back ("How many of them in California?"): "How much did it cost to make the
    Sora clip?" uses "it" for what follows, "their production budgets" the studios named.
    """
    words = [t for t in q.tokens if re.match(r"\w", t)]
    new_names = [n for n in q.names if fold(n) not in fold(previous)]
    out = []
    for i, w in enumerate(words):
        kind = pronoun_kind(w, words, i)
        if kind is None:
            continue
        lw = w.lower()
        if lw == "her" and q.lang == "de":
            continue  # "Wie lange ist es her?"
        if lw == "es" and EXPLETIVE_ES.search(q.text):
            continue
        if lw == "it" and EXPLETIVE_IT.search(q.text):
            continue
        dummy = lw == "it" and i + 1 < len(words) and words[i + 1].lower() in DUMMY_IT_VERBS
        if dummy and "to" in (x.lower() for x in words[i + 2 :]):
            continue
        if w[:1].isupper() and i > 0 and lw in ("sie", "ihr", "ihre", "ihren", "ihrem", "ihrer", "ihnen"):
            continue  # the polite "Sie"
        earlier = " ".join(words[:i])
        # "… is it?", "… war es?": the subject, asked about last, is what was spoken of before
        closing = i == len(words) - 1 and i > 0 and words[i - 1].lower() in AUX
        if fold(w) not in DA_WORDS and not closing and any(n in earlier for n in q.names):
            continue
        if q.lang == "de" and possessive(w) and any(n in earlier for n in q.all_names):
            continue
        # a "da"-word with two new names and no "and" ("Ist das Thema X laut Y damit erledigt?") says "thereby"
        da = fold(w) in DA_WORDS and (len(new_names) < 2 or bool(LEAD.match(q.text)))
        back = kind == "person" or (kind == "plural" and not possessive(w)) or da or closing
        if new_names and not back:
            continue
        out.append((i, w, kind))
    return out


def possessive(word: str) -> bool:
    w = fold(word)
    return w in ("his", "her", "hers", "its", "their", "theirs", "dessen", "deren") or (
        w.startswith(("sein", "ihr")) and w not in ("ihr",)
    )


def _is_bare(q: Reading) -> bool:
    """Only question words and maybe an aspect: "When?", "Over what period?", "Und die Kosten?"."""
    if q.names or q.years or q.quarters or re.search(r"\d", q.text):
        return False
    return not q.content


def is_fragment(q: Reading) -> bool:
    """A question without a verb or a subject of its own: "Und wann?", "How much cheaper?", "And in 2024?"."""
    words = [t for t in q.tokens if re.match(r"\w", t)]
    if not words or any(w.lower() in AUX for w in words):
        return False
    if _is_bare(q):
        return True
    if q.names or len(words) > 4:
        return False
    starts = fold(words[0])
    asks = starts in WH or (starts in PREPOSITIONS and len(words) > 1 and fold(words[1]) in WH)
    return (asks and len(q.content) <= 1) or only_time(q.text)


def noun_phrase(words: Sequence[str]) -> bool:
    """ "Its profit?", "Und die Kosten?": a few words with no question word and no verb we know of."""
    return 0 < len(words) <= 4 and not any(fold(w) in WH or w.lower() in AUX for w in words) and bool(
        pronoun_kind(words[0], words, 0) or fold(words[0]) in DETERMINERS
    )


def only_time(text: str) -> bool:
    """ "In 2024?", "Und im dritten Quartal?": only a time to ask the same about."""
    a = analyze(text)
    if not (a.years or a.quarters):
        return False
    rest = [w for w in a.focus if w not in PREPOSITIONS | ASPECTS and not re.fullmatch(r"\d+|[qh][1-4]", w)]
    rest = [w for w in rest if not TIME_WORD.fullmatch(w)]
    return not rest and not [n for n in a.names if not TIME_WORD.fullmatch(fold(n))]
