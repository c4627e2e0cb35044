"""The role or event a question asks about, and whether a sentence states it.

"Who is Netflix's chief financial officer?" is not answered by "Ted Sarandos, Co-CEO von
Netflix": the sentence names a person, but in another role. Nor is "Wann wurde Oesterheld
geboren?" by "wurde 1977 verhaftet": a year, of another event. A small bilingual lexicon of
roles and the acts that define them (direct, found, head, write, play, draw …) and of dated
events (birth, death, founding, seat) says what the question asks; a sentence answers only if it
states that role or event, in either language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import fold


@dataclass(frozen=True)
class Role:
    name: str
    asked: re.Pattern
    """How a question asks for it, in English or German."""
    stated: re.Pattern
    """How a sentence states it (word starts, folded)."""


def _role(name: str, asked: str, stated: str) -> Role:
    return Role(name, re.compile(rf"\b(?:{asked})\b"), re.compile(rf"\b(?:{stated})"))


ROLES = (
    _role("CFO", r"cfo|chief financial officer|finanzchef\w*|finanzvorst\w*",
          r"cfo|chief financial|finanzchef|finanzvorst"),
    _role("director", r"director|directed|directs|regisseur\w*|regie",
          r"regisseur|regie|director|directed|inszen"),
    _role("founder", r"founders?|founded|gr[uü]nder\w*|gegr[uü]ndet|gr[uü]ndete\w*",
          r"grunder|gegrundet|grundete|founder|founded|grundung"),
    _role("head", r"heads?|leads|led|runs|leitet\w*|leiter\w*|geleitet|chef|chefin",
          r"leiter|leitet|geleitet|leitung|head|chef|lead|direktor"),
    _role("author", r"author|wrote|written|writer|autor\w*|schrieb|geschrieben|verfasst\w*",
          r"autor|author|schrieb|geschrieben|verfass|writer|wrote|written"),
    _role("actor", r"actor|actress|plays|played|starred|stars|schauspieler\w*|spielt\w*|gespielt",
          r"schauspiel|actor|actress|spielt|gespielt|rolle|role|star|hauptdarst"),
    _role("journalist", r"journalists?|reporters?|journalist\w*|reporter\w*|korrespondent\w*",
          r"journalist|reporter|korrespondent|redakt"),
    _role("producer", r"producer|produced|produzent\w*|produziert\w*",
          r"produzent|producer|produced|produzier|produktion"),
    _role("artist", r"drew|drawn|illustrat\w*|zeichner\w*|zeichnete|gezeichnet",
          r"zeichn|illustr|drew|drawn"),
    _role("creator", r"created|creator|invented|inventor|erfand|erfinder\w*|sch[oö]pfer\w*|erschaffen|geschaffen|schuf",
          r"schopfer|erschaff|geschaffen|schuf|creator|created|erfind|erfand|invent"),
    _role("spokesperson", r"spokes\w*|sprecher\w*", r"sprecher|spokes"),
    _role("owner", r"owns?|owner|owned|besitz\w*|eigent[uü]mer\w*|geh[oö]rt",
          r"besitz|eigentum|owner|owns|owned|gehort"),
    _role("composer", r"composed|composer|komponist\w*|komponiert\w*", r"kompon|composer|composed|musik|music"),
)
EVENTS = (
    _role("born", r"born|birth|geboren|geburt\w*", r"geboren|geburt|born|birth"),
    _role("died", r"died|dies|death|did\b.{1,60}\bdie|starb|gestorben|tod|todes\w*",
          r"starb|gestorben|tod\b|todes|died|death|dead\b|ermordet|getotet|killed|murder"),
    _role("founded", r"founded|founding|established|gegr[uü]ndet|gr[uü]ndung\w*",
          r"gegrundet|grundete|grundung|founded|founding|established"),
    _role("married", r"married|marry|wedding|verheiratet|heiratete\w*|hochzeit", r"heirat|hochzeit|married|wedding"),
    _role("seat", r"headquarter\w*|based in|sitz|hauptsitz|ans[aä]ssig", r"sitz|headquarter|based in|ansassig"),
)
MEASURES = (
    _role("revenue", r"revenue\w*|sales|turnover|umsatz\w*|erl[oö]s\w*|einnahmen", r"umsatz|revenue|erlos|einnahm|sales|turnover"),
    _role("profit", r"profits?|net income|gewinn\w*|[uü]berschuss|nettogewinn\w*",
          r"gewinn|profit|net income|uberschuss|ergebnis|earnings"),
    _role("margin", r"margins?|marge\w*", r"marge|margin"),
    _role("share price", r"share price|stock price|stock|shares|aktienkurs\w*|aktie\w*|b[oö]rsenwert", r"aktie|share|stock|kurs\b|borse"),
    _role("spending", r"spend\w*|spent|invest\w*|ausgaben|ausgegeben|gesteckt|investi\w*",
          r"invest|ausgab|ausgegeb|spend|spent|steck|budget|kosten|cost"),
)
"""What a figure measures: a profit asked is not answered by a revenue."""
ASKED = {"person": ROLES + EVENTS[2:3], "date": EVENTS, "place": EVENTS, "number": MEASURES}
"""Which lexicon a question's answer type reads: who did it, when or where it happened."""


def asked_role(question: str, kind: str) -> Role | None:
    """The role (for "who") or event (for "when", "where") a question asks about, if the lexicon knows it."""
    text = fold(question)
    return next((r for r in ASKED.get(kind, ()) if r.asked.search(text)), None)


def states_role(role: Role, text: str) -> bool:
    return bool(role.stated.search(fold(text)))
