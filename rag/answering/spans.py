"""Typed answer spans inside a sentence, and their normalised form.

``find`` returns every value of a kind (a number, a date, a name…) with its
offsets; ``normalize`` writes a value so it reads in any language:
``zehnmal`` -> ``10×``, ``18. Juli 2025`` -> ``2025-07-18``,
``3,13 Milliarden Dollar`` -> ``$3.13 billion``.
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass

from ingest.metadata import DATE, MONTHS, iso_date
from rag.answering.followup_words import PREPOSITIONS
from rag.text import STOPWORDS, fold

_NUM_WORDS = {
    "ein": 1, "eine": 1, "one": 1, "zwei": 2, "two": 2, "drei": 3, "three": 3, "vier": 4, "four": 4,
    "fünf": 5, "five": 5, "sechs": 6, "six": 6, "sieben": 7, "seven": 7, "acht": 8, "eight": 8,
    "neun": 9, "nine": 9, "zehn": 10, "ten": 10, "elf": 11, "eleven": 11, "zwölf": 12, "twelve": 12,
    "zwanzig": 20, "twenty": 20, "dreißig": 30, "thirty": 30, "hundert": 100, "hundred": 100,
    "tausend": 1000, "thousand": 1000,
}
_FRACTIONS = {"hälfte": "1/2", "halb": "1/2", "halbiert": "1/2", "drittel": "1/3", "viertel": "1/4", "half": "1/2",
              "third": "1/3", "quarter": "1/4", "doppelt": "2×", "verdoppelt": "2×", "twice": "2×", "double": "2×"}
_SCALE = {"millionen": "million", "million": "million", "mio": "million", "milliarden": "billion",
          "milliarde": "billion", "mrd": "billion", "billion": "billion", "billionen": "trillion", "tausend": "thousand"}
_CURRENCY = {"dollar": "$", "usd": "$", "us-dollar": "$", "$": "$", "euro": "€", "eur": "€", "€": "€"}
_UNIT_TIME = {"sekunden": "seconds", "sekunde": "second", "minuten": "minutes", "minute": "minute",
              "stunden": "hours", "stunde": "hour", "std": "hours", "tage": "days", "tagen": "days", "tag": "day",
              "wochen": "weeks", "woche": "week", "monate": "months", "monaten": "months", "monat": "month",
              "jahre": "years", "jahren": "years", "jahr": "year", "seconds": "seconds", "minutes": "minutes",
              "hours": "hours", "days": "days", "weeks": "weeks", "months": "months", "years": "years"}

_WORDNUM = "|".join(sorted(_NUM_WORDS, key=len, reverse=True))
_NUM = rf"(?:\d+\s?[⁄/]\s?\d+|\d+(?:[.,]\d+)*|(?:{_WORDNUM}))"
NUMBER = re.compile(
    rf"(?<![\w.,])(?P<num>{_NUM})(?P<mult>[‑-]?(?:mal|fach|x|×)(?![a-zäöü]))?"
    rf"(?:\s?(?P<pct>%|prozent|percent|prozentpunkte))?"
    rf"(?:\s(?P<scale>millionen|million|mio\.?|milliarden|milliarde|mrd\.?|billionen|billion|tausend))?"
    rf"(?:\s(?P<cur>us-dollar|dollar|usd|euro|eur|€|\$))?"
    rf"(?:\s?(?P<unit>sekunden|minuten|stunden|std\.?|tagen|tage|wochen|monaten|monate|jahren|jahre|seconds|minutes|hours|days|weeks|months|years)\b)?"
    rf"(?P<tail>[‑-]?(?:monatige[nmrs]?|jährige[nmrs]?|wöchige[nmrs]?|tägige[nmrs]?|stündige[nmrs]?))?"
    rf"(?![\w])",
    re.IGNORECASE,
)
_PREFIX_CUR = re.compile(r"(?P<cur>[$€])\s?(?P<num>\d+(?:[.,]\d+)*)\s?(?P<scale>million|billion|mio|mrd|bn|m)?\b", re.I)
_BARE_SCALE = re.compile(r"(?<![\w.,])(?<!\d )(?:milliarden|millionen|billions|millions)\b", re.I)
"""An amount without its figure: "Netflix hat Milliarden investiert" (billions)."""
_BARE = {"milliarden": "billions", "millionen": "millions", "billions": "billions", "millions": "millions"}
_FRACTION = re.compile(r"\b(?:ein(?:e[nm]?)?\s|one\s|a\s)?(?P<frac>hälfte|drittel|viertel|halbiert|verdoppelt|doppelt|twice|double)\w*\b", re.I)
_DECADE = re.compile(r"\b(?:(?:späten|frühen|late|early)\s)?(?P<y>1[5-9]\d0|20[0-2]0)(?:er|s)(?:\s(?:jahren?|jahre))?\b", re.I)
_SHORT_DECADE = re.compile(r"\b(?:(?:den|the|späten|frühen|late|early)\s)?(?P<yy>[2-9]0)(?:er\s(?:jahren?|jahre)|[’']?s)\b", re.I)
_FEW = re.compile(r"\b(?P<q>einen|einem|einer|ein|eine|einigen|einige|mehreren|mehrere|wenigen|wenige|a|one|a few|few|several)"
                  r"\s(?P<unit>sekunden?|minuten?|stunden?|tagen?|tag|wochen?|monaten?|monat|jahren?|jahr"
                  r"|seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b", re.I)
_FEW_WORDS = {"einigen": "a few", "einige": "a few", "wenigen": "a few", "wenige": "a few", "a few": "a few",
              "few": "a few", "mehreren": "several", "mehrere": "several", "several": "several"}
_YEAR = re.compile(r"(?<![\w/])(?<!\d[.,])(?P<y>1[5-9]\d\d|20\d\d)(?![\w/]|[.,]\d)")
_QUARTER = re.compile(r"\b(?:Q[1-4]|H[12])\s?(?:20\d\d)?\b")
MONTH_WORDS = ("januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember"
               "|january|february|march|may|june|july|october|december")
"""Month names written out, German and English."""
_MONTH_YEAR = re.compile(rf"\b(?P<m>{MONTH_WORDS})\s(?P<y>(?:19|20)\d\d)\b", re.I)
_MONTH_ALONE = re.compile(
    rf"\b(?:im|in|am|seit|ab|bis|since|until|by|from)\s(?P<m>{MONTH_WORDS.replace('|may', '')})\b(?!\s\d)", re.I
)
"""A month without its year: "im Dezember" (only after a preposition, and not "may": also a verb)."""
_RELATIVE = re.compile(r"\b(?:(?:noch|später|früher|later|earlier)\s)?(?:(?:in|im|im laufe|within)\s)?(?:diese[snm]?|nächste[snm]?"
                       r"|kommende[snm]?|vergangene[snm]?|letzte[snm]?|this|next|last|the coming|the past)"
                       r"\s(?P<u>jahr|jahres|monat|monats|quartal|quartals|woche|halbjahr|sommer|herbst|winter|frühjahr"
                       r"|year|month|quarter|week|summer|autumn|fall|winter|spring)\b", re.I)
"""A time said relative to now: "noch in diesem Jahr", "im vergangenen Quartal", "later this year"."""
_CLOCK = re.compile(r"\b(?P<h>[01]?\d|2[0-3])(?:[:.](?P<m>[0-5]\d))?\s?(?:uhr\b|h\b)"
                    r"|\b(?P<h12>1[0-2]|0?[1-9])(?::(?P<m12>[0-5]\d))?\s?(?P<ap>[ap])\.?m\b", re.I)
"""A time of day: "um 18 Uhr", "18:30 Uhr", "6 pm"."""
RESOLUTION = re.compile(r"(?<![\w.,])(\d{3,4}p|[1-9]K)(?![\w])")
"""A video resolution: "1080p", "4K"."""
_CAPWORD = r"[A-ZÄÖÜÉ][\w’'.&-]*"
_NAME = re.compile(rf"(?<![\w])({_CAPWORD}(?: (?:von |van |de |del )?{_CAPWORD}){{0,5}})")
_ORG_HINT = re.compile(r"(?i:\b(studios?|inc|corp|gmbh|ag|labs?|center|centre|university|universität|institut|netflix|guild|union|gewerkschaft|verband|association|council|partei|party"
                       r"|google|openai|deepmind)\b)|\b[A-Z]{2,}\b|[a-z][A-Z]")


_GENERIC_ACRONYMS = frozenset("KI AI GENAI VFX CGI CEO CFO CTO COO USD EUR TV YOY HD UHD PRO FAQ".split())
"""Capitals that name no organisation."""
_COMMON_NOUN_ENDINGS = ("ung", "ungen", "heit", "keit", "schaft", "tion", "tionen", "ionen", "ismus", "ität", "ten",
                        "nisse", "ierung")
_NOT_A_NAME = re.compile(r"(?:liche|lichen|ische|ischen)$|[a-z][A-Z]{2}")
"""An adjective ("Künstliche Intelligenz") or a brand with an acronym inside ("OpenAIs"): no person's name."""
_AGE = re.compile(r"\s+(alt|old)\b")
_PLACE_WORDS = frozenset(fold(w) for w in "in im aus nach über of from at ins".split())
_WHERE = re.compile(r"(?i:\b(?:in|im|ins|aus|nach|bei|beim|from|at|near|nahe|across|throughout)\s(?:(?P<det>der|den|dem|des|die)\s|the\s)?)$")
"""What precedes a place named in a sentence."""
_NAMED_NOUN = re.compile(r"\b(?!(?:KI|AI|VFX|CGI|TV)\b)[A-ZÄÖÜ]{2,}\b")
"""After a German article a noun is a place only when it reads as a name: "den USA", "der DACH-Region"."""
_SPEECH = frozenset(fold(w) for w in """betonte betont sagte sagt erklärte erklärt meinte meint so laut verriet verrät
    warnte warnt schrieb said says told stressed explained added wrote warned""".split())
"""Words after which a lone surname is the speaker: "…, betonte Sarandos"."""


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    text: str
    normalized: str


@functools.lru_cache(maxsize=100_000)
def find(text: str, kind: str) -> tuple[Span, ...]:
    return tuple(_find(text, kind))


def _find(text: str, kind: str) -> list[Span]:
    """Every value of ``kind`` in ``text``, in order (kinds as in ``question.KINDS``); none inside a link."""
    links = [(m.start(), m.end()) for m in _LINK.finditer(text)]
    return [s for s in _kind(text, kind) if not any(a <= s.start < b for a, b in links)]


_LINK = re.compile(r"https?://\S+|www\.\S+|\b[\w.-]+\.(?:de|com|net|org|ai|io)/\S*")
"""A web address: its digits ("/2025/10/22/") are no values."""


def _kind(text: str, kind: str) -> list[Span]:
    if kind == "date":
        return _dates(text)
    if kind == "duration":
        return [s for s in _numbers(text) if s.kind == "duration"]
    if kind == "number":
        return [s for s in _numbers(text) if s.kind != "year"]
    if kind in ("person", "organisation", "place"):
        return _names(text, kind)
    return []


def normalize(value: str, kind: str) -> str:
    found = find(value, kind)
    return found[0].normalized if found else value


def _numbers(text: str) -> list[Span]:
    out: list[Span] = []
    # A day or month inside a date ("30. April 2025") is not a number of its own.
    taken: list[tuple[int, int]] = [(m.start(), m.end()) for m in DATE.finditer(text)]
    for m in _PREFIX_CUR.finditer(text):
        scale = {"mio": "million", "m": "million", "mrd": "billion", "bn": "billion"}.get((m.group("scale") or "").lower(),
                                                                                    (m.group("scale") or "").lower())
        norm = f"{m.group('cur')}{_plain(m.group('num'))}{' ' + scale if scale else ''}"
        out.append(Span("number", m.start(), m.end(), m.group(0), norm))
        taken.append((m.start(), m.end()))
    for m in NUMBER.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        raw = m.group("num")
        low = raw.lower()
        if low in ("ein", "eine", "one") and not (m.group("mult") or m.group("scale") or m.group("pct")):
            continue
        if _names_version(text, m):
            continue
        value = str(_NUM_WORDS[low]) if low in _NUM_WORDS else _plain(raw)
        if re.fullmatch(r"1[5-9]\d\d|20\d\d", raw) and not any(m.group(g) for g in ("mult", "pct", "scale", "cur", "unit", "tail")):
            out.append(Span("year", m.start(), m.end(), m.group(0), raw))
            continue
        kind = "number"
        if m.group("mult"):
            norm = f"{value}×"
        elif m.group("pct"):
            norm = f"{value}%" if "punkt" not in m.group("pct").lower() else f"{value} percentage points"
        elif m.group("unit") and not m.group("cur"):
            # "zwei Minuten", "95 Mrd Std" (95 billion hours); "25 Jahre alt" is an age, a count of years
            kind = "number" if _AGE.match(text, m.end()) else "duration"
            scale = _SCALE.get((m.group("scale") or "").lower().rstrip("."), "")
            norm = f"{value}{' ' + scale if scale else ''} {_UNIT_TIME.get(m.group('unit').lower().rstrip('.'), m.group('unit'))}"
        elif m.group("cur") or m.group("scale"):
            scale = _SCALE.get((m.group("scale") or "").lower().rstrip("."), "")
            cur = _CURRENCY.get((m.group("cur") or "").lower(), "")
            norm = f"{cur}{value}{' ' + scale if scale else ''}"
        elif m.group("tail"):
            kind = "duration"
            unit = {"mon": "months", "jäh": "years", "wöc": "weeks", "täg": "days", "stü": "hours"}
            key = m.group("tail").lower().lstrip("‑-")[:3]
            norm = f"{value} {unit.get(key, m.group('tail'))}"
        else:
            norm = value
        out.append(Span(kind, m.start(), m.end(), m.group(0), norm))
        if kind == "duration":
            out.append(Span("number", m.start(), m.end(), m.group(0), norm))
    for m in _FEW.finditer(text):
        if any(s <= m.start() < e or m.start() <= s < m.end() for s, e in taken) or any(
            x.start <= m.start("unit") < x.end for x in out
        ):
            continue
        unit = _UNIT_TIME.get(m.group("unit").lower(), m.group("unit").lower())
        amount = _FEW_WORDS.get(m.group("q").lower())
        norm = f"{amount} {unit if unit.endswith('s') else unit + 's'}" if amount else f"1 {unit.rstrip('s')}"
        out.append(Span("duration", m.start(), m.end(), m.group(0), norm))
    for m in _BARE_SCALE.finditer(text):
        if not any(x.start <= m.start() < x.end for x in out):
            out.append(Span("number", m.start(), m.end(), m.group(0), _BARE[m.group(0).lower()]))
    for m in RESOLUTION.finditer(text):
        out.append(Span("number", m.start(), m.end(), m.group(0), m.group(0)))
    for m in _FRACTION.finditer(text):
        out.append(Span("number", m.start(), m.end(), m.group(0), _FRACTIONS[m.group("frac").lower().rstrip("e")
                                                                              if m.group("frac").lower() not in _FRACTIONS
                                                                              else m.group("frac").lower()]))
    return sorted(out, key=lambda s: s.start)


_LEADS = frozenset(fold(w) for w in """rund etwa fast nur knapp mehr über unter ca circa insgesamt bereits schon
    gerade around about nearly almost over under only just some roughly""".split())
"""Capitalised words that lead a figure at a sentence's start ("Über 50 Filme") without naming it."""


def _names_version(text: str, m: re.Match) -> bool:
    """A bare small number right after a name is part of it: "Veo 3", "Staffel 2", not a count."""
    if any(m.group(g) for g in ("mult", "pct", "scale", "cur", "unit", "tail")) or not re.fullmatch(r"\d{1,2}", m.group("num")):
        return False
    before = text[: m.start()].split()[-1:]
    word = before[0] if before else ""
    return bool(re.fullmatch(r"[A-ZÄÖÜ][\w-]*", word)) and fold(word) not in STOPWORDS | PREPOSITIONS | _LEADS


def _plain(raw: str) -> str:
    """``3,13`` -> ``3.13``; ``62.000`` -> ``62,000``; ``1⁄3`` -> ``1/3``."""
    raw = raw.replace(" ", "").replace("⁄", "/")
    if "/" in raw:
        return raw
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", raw):
        return raw.replace(".", ",")
    if re.fullmatch(r"\d+,\d+", raw):
        return raw.replace(",", ".")
    return raw


def _dates(text: str) -> list[Span]:
    out: list[Span] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, norm: str) -> None:
        if not any(s < end and start < e for s, e in taken):
            out.append(Span("date", start, end, text[start:end], norm))
            taken.append((start, end))

    for m in DATE.finditer(text):
        add(m.start(), m.end(), iso_date(m.group(0)))
    for m in _MONTH_YEAR.finditer(text):
        add(m.start(), m.end(), f"{m.group('y')}-{MONTHS[m.group('m').lower()]:02d}")
    for m in _QUARTER.finditer(text):
        add(m.start(), m.end(), m.group(0).upper().replace(" ", " "))
    for m in _MONTH_ALONE.finditer(text):
        add(m.start("m"), m.end("m"), calendar.month_name[MONTHS[m.group("m").lower()]])
    for m in _RELATIVE.finditer(text):
        add(m.start(), m.end(), " ".join(m.group(0).split()))
    for m in _CLOCK.finditer(text):
        if m.group("h") is not None:
            hour, minute = int(m.group("h")), int(m.group("m") or 0)
        else:
            hour, minute = int(m.group("h12")) % 12 + (12 if m.group("ap").lower() == "p" else 0), int(m.group("m12") or 0)
        add(m.start(), m.end(), f"{hour:02d}:{minute:02d}")
    for m in _DECADE.finditer(text):
        add(m.start(), m.end(), f"{m.group('y')}s")
    for m in _SHORT_DECADE.finditer(text):
        add(m.start("yy"), m.end(), f"19{m.group('yy')}s")
    for m in _YEAR.finditer(text):
        add(m.start(), m.end(), m.group("y"))
    return sorted(out, key=lambda s: s.start)


def _names(text: str, kind: str) -> list[Span]:
    out = []
    for m in _NAME.finditer(text):
        name = m.group(1).rstrip(".’'-")
        start = m.start(1)
        if kind == "person":
            # A person is the run's tail of plain capitalised words: "Netflix-Co-CEO Ted Sarandos".
            words = name.split()
            tail: list[str] = []
            for w in reversed(words):
                if "-" in w or _ORG_HINT.search(w) or fold(w) in STOPWORDS | PREPOSITIONS or any(c.isdigit() for c in w):
                    break
                tail.insert(0, w)
            tail = tail[-3:]
            while tail and len(tail[0]) <= 2:
                tail = tail[1:]  # "ihren Ex Ben Affleck"
            if len(tail) > 1 and fold(tail[0]) in _SPEECH:
                tail = tail[1:]  # "Laut Sarandos" at a sentence's start
            lead = words[-len(tail) - 1] if 0 < len(tail) < len(words) else " ".join(text[:start].split()[-1:])
            said_by = len(tail) == 1 and fold(lead) in _SPEECH
            if (len(tail) < 2 and not said_by) or any(fold(w).endswith(_COMMON_NOUN_ENDINGS) or _NOT_A_NAME.search(w)
                                                      for w in tail):
                continue  # "Befragten Veo", "Algorithmen Handlungsvariationen", "Künstliche Intelligenz", "OpenAIs Sora"
            before = text[:start].split()[-1:]
            if before and fold(before[0]) in _PLACE_WORDS and len(tail) == len(words):
                continue  # "in Buenos Aires", "University of Southern California": a place
            offset = name.rindex(tail[0], 0, len(name) - len(tail[-1]) + 1) if len(tail) > 1 else name.rindex(tail[0])
            end = start + len(name)
            start += offset
            out.append(Span(kind, start, end, text[start:end], " ".join(tail)))
            continue
        at_start = start == 0 or text[:start].rstrip()[-1:] in ".!?:\n\"„“"
        if at_start and len(name.split()) == 1:
            continue
        if kind == "organisation" and not _ORG_HINT.search(
            " ".join(w for w in re.split(r"[\s-]+", name) if w.upper().strip(".:,;") not in _GENERIC_ACRONYMS)
        ):
            continue  # "KI", "VFX", "CEO Ted", "KI-Schutzmaßnahmen": no organisation
        if kind == "place" and (lead := re.match(r"(?i:(?:in|im|ins|aus|nach|bei|beim|from|at|near|nahe) )", name)):
            name, start = name[lead.end():], start + lead.end()  # "Beim Earnings Call" at a sentence's start
        where = _WHERE.search(text[max(0, start - 12):start]) if kind == "place" else None
        if kind == "place" and (not where or (where.group("det") and not _NAMED_NOUN.search(name))):
            continue  # "in Buenos Aires", "aus den USA"; not "bei dem KI-Software", nor a German noun elsewhere
        out.append(Span(kind, start, start + len(name), name, name))
    return out
