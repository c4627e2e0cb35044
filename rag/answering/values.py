"""Values of the asked type in a sentence: the figure, date, duration or name a typed question
asks for, of the unit it asks for ("how many" counts, "what share" a percentage), at the grain
it asks for (a day for "An welchem Tag …?"), and not already in the question."""

from __future__ import annotations

import re

from rag.answering import spans
from rag.answering.question import QuestionAnalysis
from rag.text import fold

_MEASURE = re.compile(r"\b(how much|wie ?viel)\b(?! (more|less|mehr|weniger)\b)", re.I)
"""An amount of something uncounted, in any unit."""
_PERIOD = re.compile(r"\b(time ?frame|period|zeitraum)\b", re.I)
"""Asked for a period, a span of dates ("2024 bis 2032") or of time ("die nächsten drei Jahre") answers."""


def typed_values(q: QuestionAnalysis, text: str) -> list[spans.Span]:
    """Values of the asked type in ``text`` that the question doesn't already hold.

    A number must be of the unit asked for: a share for "what share", an amount for
    "how much revenue", a plain count for "how many" (not the percentage beside it).
    """
    if not q.typed:
        return []
    asked = _squeezed(q.text)
    kinds = ("date", "duration") if q.kind == "date" and _PERIOD.search(q.text) else (q.kind,)
    found = {(v.start, v.end): v for kind in kinds for v in spans.find(text, kind)
             if _squeezed(v.text) not in asked and _squeezed(v.normalized) not in asked
             and (_fits(q, v) or _counts_asked(q, text, v))}
    return sorted(found.values(), key=lambda v: v.start)


def _counts_asked(q: QuestionAnalysis, text: str, span: spans.Span) -> bool:
    """"Millionen von Abonnenten" does count the subscribers of "Wie viele Abonnenten …?"."""
    if q.kind != "number" or q.units or _unit(span) != "amount":
        return False
    of = _OF.match(text, span.end)
    return bool(of) and fold(of.group(1))[:5] in {w[:5] for w in q.focus if len(w) > 3}


_OF = re.compile(r"\s+(?:von|of)\s+([\w-]+)")


def _squeezed(text: str) -> str:
    """Folded, without spaces: "67 %" in a question is the "67%" of a sentence."""
    return re.sub(r"\s+", "", fold(text))


def _unit(span: spans.Span) -> str:
    value = span.normalized
    if span.kind == "duration" or spans.find(span.text, "duration"):
        return "time"
    if value.endswith(("%", "percentage points")) or re.fullmatch(r"\d+/\d+", value):
        return "percent"  # a share: "16%", "1/3", "die Hälfte"
    if value.startswith(("$", "€")):
        return "money"
    if value in ("billions", "millions"):
        return "amount"  # "Milliarden" without a figure
    if spans.RESOLUTION.fullmatch(value):
        return "resolution"
    return "multiplier" if value.endswith("×") else "count"


_GRAIN = (
    (re.compile(r"\b(what time of day|at what time|um wie ?viel uhr|zu welcher uhrzeit|uhrzeit)\b", re.I), re.compile(r"\d\d:\d\d")),
    (re.compile(r"\b(on )?(what|which) (day|date)\b|\b(an )?welche[mn]? (tag|datum)\b", re.I), re.compile(r"\d{4}-\d\d-\d\d")),
    (re.compile(r"\b(in )?(what|which) month\b|\b(in )?welche[mn]? monat\b", re.I),
     re.compile(r"\d{4}-\d\d|^[A-Z][a-z]+$")),
)
"""Asked for a day, a month or a time of day, a date that gives less doesn't answer ("2023" for "An welchem Tag …?")."""


def _fits(q: QuestionAnalysis, span: spans.Span) -> bool:
    if q.kind == "date" and span.kind == "date":
        grain = next((value for asked, value in _GRAIN if asked.search(q.text)), None)
        return grain is None or bool(grain.search(span.normalized))
    if q.kind != "number":
        return True
    asked = set(q.units)
    if "score" in asked:
        asked |= {"percent", "count"}  # "96% on Rotten Tomatoes", "8.1 points"
    if "money" in asked and re.fullmatch(r"\d+/\d+", span.normalized):
        return True  # "die Kosten halbiert": a share of an amount
    if "comparison" in asked:
        asked |= {"percent", "multiplier"}  # "zehn Prozent besser", "zehnmal schneller"
    if _unit(span) == "amount":  # "Milliarden investiert"; "Millionen von Abonnenten" is no count of data points
        return "money" in asked or (not asked and bool(_MEASURE.search(q.text)))
    if not asked:  # "how many" counts; "how much experience" may be measured in anything
        return _unit(span) == "count" or bool(_MEASURE.search(q.text))
    return _unit(span) in asked
