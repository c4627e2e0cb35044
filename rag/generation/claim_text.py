"""Claims and passage sentences as tokens the support check compares.

``view`` folds a text and cuts it into tokens: words (folded for string
matching, with umlauts for word vectors) and numbers (digits, number words in
English and German, months, fractions), each with its position and clause.
``names_in`` finds the names a supporting sentence must contain, ``name_in``
looks for one, and ``aligned`` finds where a claim word is matched in a unit:
same word or stem, a compound's head or tail, or a translation by word vector.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.answering.question import language
from rag.text import STOPWORDS, fold, normalize, stem


_NUMBER_WORDS = {
    w: int(v)
    for w, v in (
        pair.split(":")
        for pair in """two:2 three:3 four:4 five:5 six:6 seven:7 eight:8 nine:9 ten:10 eleven:11 twelve:12
        fifteen:15 twenty:20 thirty:30 forty:40 fifty:50 hundred:100 thousand:1000 dozen:12 twice:2 double:2
        zwei:2 drei:3 vier:4 funf:5 sechs:6 sieben:7 acht:8 neun:9 zehn:10 elf:11 zwolf:12 funfzehn:15
        zwanzig:20 dreissig:30 vierzig:40 funfzig:50 hundert:100 tausend:1000 doppelt:2 zweimal:2""".split()
    )
}
_NUMBER_TAILS = tuple(
    "fach mal fold x monatig monatige monatigen jahrig jahrige jahrigen tagig tagige tagigen wochig wochige "
    "stundig stundige".split()
)
_MONTHS = {
    m: i for i, m in enumerate("januar februar marz april mai juni juli august september oktober".split(), 1)
}
_MONTHS.update(
    {"november": 11, "dezember": 12, "january": 1, "february": 2, "march": 3, "june": 6, "july": 7}
)
_MONTHS.update({"october": 10, "december": 12})  # "may" is left out: it is mostly a verb
# Words that say how a claim is sourced or hedged, not what it claims.
GENERIC = (
    frozenset(
        fold(w)
        for w in """
    according article articles passage passages text source sources mention mentions mentioned state states
    stated say says said report reports reported note notes noted describe describes described explain
    explains explained indicate indicates indicated highlight highlights highlighted refer refers
    about around approximately roughly some several various specific particular certain overall total
    given provided based context information detail details example examples including include includes
    important key main notable significant especially particularly really just only well even still
    however therefore thus while which who whom whose that this these those there here also its it's
    been being has have had was were will would can could may might must should one all alle allen
    laut artikel text quelle heisst erwahnt genannt beschrieben berichtet etwa rund ungefahr einige
    mehrere verschiedene bestimmte insgesamt besonders vor allem jedoch allerdings dabei damit dazu
    bereits schon sowie sodass wobei welche welcher welches dessen deren
    """.split()
    )
    | STOPWORDS
)
_NAME_STOP = frozenset(
    """ai ki the a an in on at and but it its this that these according however also yes no
    der die das ein eine laut und aber auch ja nein he she they we mit im am es passage article artikel text
    """.split()
)
GERMAN_NOUN = re.compile(
    r"(ung|heit|keit|schaft|tät|tion|ik|ismus|ment|nis|tum|ling|er|el|en|e|ei|ur|chen|ität|"
    r"age|enz|anz|ie|ssen|tz|chte|ten|ten|st|rt|nd|eg|kt|ft)$"
)
_CLAUSE = re.compile(r"[,;:()\[\]–—!?]|\s-\s|(?<!\d)\.(?=\s|$)")
_CONJUNCTIONS = frozenset("und and sowie but aber sondern while whereas wahrend wobei jedoch doch".split())
_TOKEN = re.compile(r"\d+\s?[⁄/]\s?\d+|\d+(?:[.,\u202f\u00a0]\d+)*|[^\W\d_]+")
_ABBREVIATIONS = {
    "mrd": "milliarden",
    "mio": "millionen",
    "std": "stunden",
    "bn": "billion",
    "tsd": "tausend",
}
_FRACTION_WORDS = {
    "half": 0.5,
    "halfte": 0.5,
    "third": 1 / 3,
    "thirds": 2 / 3,
    "drittel": 1 / 3,
    "quarter": 0.25,
    "viertel": 0.25,
}


@dataclass(frozen=True)
class Token:
    word: str  # folded, for string matching
    form: str  # lower case with umlauts, for word vectors ("herkömmlicher")
    pos: int
    clause: int
    values: frozenset[float] = frozenset()  # a number's possible values


@dataclass
class View:
    """A text (claim or unit) as the judge sees it."""

    text: str
    folded: str
    tokens: list[Token]
    vector: np.ndarray | None = None
    pieces: list[View] = field(default_factory=list)  # the sentences of a multi-sentence unit

    @property
    def numbers(self) -> list[Token]:
        return [t for t in self.tokens if t.values]

    @property
    def words(self) -> list[Token]:
        return [t for t in self.tokens if not t.values]


def view(text: str) -> View:
    """``text`` folded and cut into tokens (words and numbers) with their positions and clauses."""
    folded, tokens = _tokens(text)
    return View(text, folded, list(tokens))


@functools.lru_cache(maxsize=20_000)
def _tokens(text: str) -> tuple[str, tuple[Token, ...]]:
    lowered = normalize(text).replace("%", " prozent ").replace("percent", "prozent").replace("‘", "'")
    tokens: list[Token] = []
    clause = 0
    last = 0
    for m in _TOKEN.finditer(lowered):
        between = lowered[last : m.start()]
        if between.startswith(".") and last and lowered[last - 1].isdigit():
            between = between[1:]  # "30. April": an ordinal's dot ends no clause
        clause += len(_CLAUSE.findall(between))
        clause += fold(m.group(0)) in _CONJUNCTIONS
        last = m.end()
        form = _ABBREVIATIONS.get(m.group(0), m.group(0))
        word = fold(form)
        values = _values(word)
        if (
            word in _FRACTION_WORDS
            and tokens
            and tokens[-1].word in ("a", "one", "ein", "eine", "einem", "einer")
        ):
            values = {round(_FRACTION_WORDS[word], 4)}
        tokens.append(Token(word, form, len(tokens), clause, frozenset(values)))
    return fold(text).replace("‘", "'"), tuple(tokens)


def _values(token: str) -> set[float]:
    values: set[float] = set()
    fraction = re.fullmatch(r"(\d+)\s?[⁄/]\s?(\d+)", token)
    if fraction and int(fraction.group(2)):
        return {round(int(fraction.group(1)) / int(fraction.group(2)), 4)}
    if token[0].isdigit():
        plain = re.sub(r"[.,\u202f\u00a0]", "", token)
        if plain.isdigit():
            values.add(float(plain))
        if len(re.findall(r"[.,]", token)) == 1:
            values.add(float(token.replace(",", ".")))
        return values
    value = _NUMBER_WORDS.get(token)
    if value is None:
        for tail in _NUMBER_TAILS:
            head = token[: -len(tail)]
            if token.endswith(tail) and head in _NUMBER_WORDS:
                value = _NUMBER_WORDS[head]
                break
    if value is None and token in _MONTHS:
        value = 1000 + _MONTHS[token]  # months compare across languages, never equal a plain number
    return {float(value)} if value is not None else values


def number_values(text: str) -> list[set[float]]:
    """Each number in ``text`` as the set of values it may stand for.

    ``"11,08"`` may be 11.08 or 1108, ``"1.000"`` 1.0 or 1000; number words in
    English and German count too (``"ten times"``, ``"zehnmal"``). "One"/"ein"
    and ordinals are left out: they are too often not numbers.
    """
    return [set(t.values) for t in view(text).numbers if not any(v > 1000 and v < 1013 for v in t.values)]


def names_in(sentence: str) -> list[str]:
    """Names a supporting unit must contain: capitalised words and acronyms.

    The first word counts only when it is an acronym or has an inner capital.
    In German every noun is capitalised, so there a single capitalised word
    counts only if it doesn't end like a German noun, or stands in a run of
    capitalised words ("Ted Sarandos").
    """
    return list(_names(sentence))


@functools.lru_cache(maxsize=20_000)
def _names(sentence: str) -> tuple[str, ...]:
    german = language(sentence) == "de"
    words = re.findall(r"[\w][\w'’\-]*", sentence)
    # German capitalises every noun: there a noun-like word is a name only in a run with a name-like one.
    runs = set()
    for m in re.finditer(r"(?<![\w.!?] )(?:[A-ZÄÖÜ][\w'’\-]*)(?: [A-ZÄÖÜ][\w'’\-]*)+", sentence):
        run = m.group(0).split()
        if not all(GERMAN_NOUN.search(fold(w)) for w in run):
            runs.update(run)
    names: list[str] = []
    for i, word in enumerate(words):
        core = word.strip("-'’")
        if core.endswith(("'s", "’s")):
            core = core[:-2]
        if len(core) < 2 or not core[0].isupper() or core.lower() in _NAME_STOP or core.isdigit():
            continue
        odd = core.isupper() and len(core) >= 2 or any(c.isupper() or c.isdigit() for c in core[1:])
        if len(core) < 3 and not odd:
            continue
        if i == 0 and not odd:
            continue
        if german and not odd and GERMAN_NOUN.search(fold(core)) and core not in runs:
            continue
        if core not in names:
            names.append(core)
    return tuple(names)


def _spelling(text: str) -> str:
    # English and German spell shared names differently: California/Kalifornien, Photo/Foto.
    text = re.sub(r"ci(?=[aeiou])", "zi", text)
    return text.replace("ph", "f").replace("th", "t").replace("c", "k").replace("y", "i").replace("'", "")


def name_in(name: str, folded_text: str) -> bool:
    """``name`` occurs in ``folded_text``, allowing inflection and English/German spelling."""
    low = fold(name).replace("‘", "'")
    if low in _MONTHS:
        return any(t.word in _MONTHS and _MONTHS[t.word] == _MONTHS[low] for t in view(folded_text).tokens)
    if re.fullmatch(r"[A-ZÄÖÜ]{2,5}", name) and _acronym_in(name, folded_text):
        return True
    for part in (p for p in re.split(r"[\s\-]+", low) if p):
        part = part[: max(4, min(len(part) - 1, 6))] if len(part) > 4 else part
        spellings = {part, _spelling(part), {"ai": "ki", "ki": "ai"}.get(part, part)}
        if not any(
            re.search(rf"(?<!\w){re.escape(x)}", folded_text)
            or re.search(rf"(?<!\w){re.escape(_spelling(x))}", _spelling(folded_text))
            for x in spellings
        ):
            return False
    return True


def _acronym_in(acronym: str, folded_text: str) -> bool:
    """ "USC" in "university of southern california": the initials of a run of words."""
    words = [
        w
        for w in re.findall(r"[^\W\d_]+", folded_text)
        if w not in ("of", "for", "the", "and", "der", "von", "fur")
    ]
    target = fold(acronym)
    return any("".join(w[0] for w in words[i : i + len(target)]) == target for i in range(len(words)))


WordSim = Callable[[str, str], float]


def content_words(v: View, names: list[str]) -> list[Token]:
    """The claim's relation words: not stopwords, not generic, not part of a name, not numbers."""
    name_words = {fold(p) for n in names for p in re.split(r"[\s\-]+", n)}
    return [
        t
        for t in v.words
        if t.word not in GENERIC
        and t.word not in name_words
        and len(t.word) > 2
        and t.word not in _MONTHS
        and t.word not in VALUE_WORDS
    ]


VALUE_WORDS = frozenset(
    fold(w)
    for w in """prozent percent prozentpunkte billion billionen milliarden milliarde mrd
    million millionen mio thousand tausend dollar dollars usd euro eur times mal fach fold""".split()
)
_MULTIPLIER = frozenset({"times", "fold", "mal", "fach"})
# Words that name a half or a quarter ("first half" ~ "H1"); they date a claim, they don't measure.
_PERIOD = {
    "h": {"half", "halfte", "halbjahr", "first", "second", "erste", "ersten", "zweite", "zweiten"},
    "q": {
        "quarter",
        "quartal",
        "quartals",
        "first",
        "second",
        "third",
        "fourth",
        "erste",
        "ersten",
        "zweite",
        "zweiten",
        "dritte",
        "dritten",
        "vierte",
        "vierten",
    },
}
PERIOD_WORDS = frozenset().union(*_PERIOD.values())

EARLIER = frozenset(
    "before previous previously former formerly original originally initial initially earlier "
    "vorher zuvor fruher ursprunglich ursprunglichen bisherige bisherigen vorherige vorherigen".split()
)
"""Words that move a claim to an earlier state: the unit must say so too."""
RANKING = frozenset(
    "biggest largest greatest smallest best worst most least highest lowest "
    "grosste grossten kleinste kleinsten beste besten schlechteste meisten wenigsten hochste niedrigste".split()
)
"""Words that rank one thing above the rest ("the biggest studio"): the unit must say so too."""
_DURATIONS = {
    "months": ("monat",),
    "month": ("monat",),
    "years": ("jahr",),
    "year": ("jahr",),
    "days": ("tag",),
    "day": ("tag",),
    "weeks": ("woch",),
    "week": ("woch",),
    "hours": ("stund",),
    "minutes": ("minut",),
    "seconds": ("sekund",),
}


def _compound_of(word: str, compound: str) -> bool:
    """``word`` is the head or the tail of ``compound``: "video" of "videospiel", "effects" of "spezialeffekte"."""
    if len(word) < 4 or len(compound) < len(word) + 3:
        return False
    a, b = _spelling(word), _spelling(compound)
    stem_ = a[: max(4, len(a) - 1)]
    i = b.rfind(stem_)
    return b.startswith(stem_) or (i > 0 and len(b) - i - len(stem_) <= 3)


def aligned(
    token: Token, unit: View, sim: WordSim, parts: dict[str, list[str]], threshold: float
) -> list[int]:
    """Positions of unit tokens that match ``token``: same word or stem, compound part, or translation."""
    out = []
    word, form = token.word, token.form
    st = stem(word)
    for t in unit.tokens:
        w = t.word
        if w in ("h", "q") and t.pos + 1 < len(unit.tokens) and unit.tokens[t.pos + 1].values:
            if word in _PERIOD.get(w, ()):
                out.append(t.pos)  # "first half" ~ "H1", "quarter" ~ "Q3"
            continue
        if t.values:
            if word in _MULTIPLIER and w.endswith(("mal", "fach", "x")):
                out.append(t.pos)
            elif word in _DURATIONS and any(d in w for d in _DURATIONS[word]):
                out.append(t.pos)  # "ten months" ~ "zehnmonatige"
            continue
        if w == word or stem(w) == st or _compound_of(word, w):
            out.append(t.pos)
        elif sim(form, t.form) >= threshold or any(sim(form, p) >= threshold for p in parts.get(t.form, ())):
            out.append(t.pos)
    return out


@functools.lru_cache(maxsize=50_000)
def compound_parts(form: str) -> tuple[str, ...]:
    """Candidate parts of a long (German) compound: heads and tails of 4+ letters.

    ``"umsatzwachstum"`` -> ``("umsatz", "wachstum", …)``; a linking ``s`` is dropped from heads.
    Word vectors then tell which part, if any, is a word.
    """
    if len(form) < 9 or not form.isalpha():
        return ()
    out: list[str] = []
    for i in range(4, len(form) - 3):
        head, tail = form[:i], form[i:]
        if len(head) >= 5 and head.endswith("s"):
            head = head[:-1]
        out += [head, tail]
    return tuple(dict.fromkeys(p for p in out if len(p) >= 4))
