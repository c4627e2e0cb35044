"""What a question asks for, in English or German.

``analyze`` gives the expected answer type, the focus terms (the words an
answer must be about) and the constraints (years, quarters, names, numbers,
units, comparatives) an answering sentence has to meet.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.answering.followup_words import ASPECTS, DETERMINERS, NOUN_SUFFIXES, PREPOSITIONS
from rag.text import STOPWORDS, fold

KINDS = ("person", "organisation", "place", "date", "number", "duration", "reason", "yesno", "list", "description")

_GERMAN_HINTS = re.compile(
    r"[äöüß]|\b(der|die|das|und|ist|wie|wann|wer|was|welche[rsnm]?|warum|nicht|wurde|ein|eine|hat|sind|gibt|vom|zum)\b",
    re.I,
)
_ENGLISH_HINTS = re.compile(r"\b(the|and|is|how|when|who|what|which|why|did|does|was|were|of|a|an|has|are)\b", re.I)

# Ordered: the first rule that matches decides. Each is (kind, pattern).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        ("duration", r"\b(how long|for how long|wie lange?|wie viele[nr]? (jahre|jahren|monate|monaten|wochen|tage|tagen|stunden|minuten|sekunden)"
                     r"|what(?: is| was)? the (?:\w+ ){0,2}(?:length|duration)|welche[rn]? (?:\w+ )?(?:länge|dauer))\b"),
        ("date", r"\b(when|what years?|which years?|what date|which date|(what|which) (is|was|are|were) the ([\w-]+ )?dates?|since when|in what years?|what month|which month"
                 r"|wann|seit wann|in welchem jahr|welche[ms]? jahr|an welchem tag|welche[ms]? datum|in welchem monat"
                 r"|which decade|welche[ms]? jahrzehnt|(what|which) (time ?frame|period|quarter)|(in|über|for) welche[mn] (zeitraum|quartal)"
                 r"|welche[rn]? zeitraum|welches quartal)\b"),
        ("organisation", r"\b(which|what) ([\w-]+ )?(company|companies|studio|studios|firm|organi[sz]ation|outlet|publication|site"
                         r"|website|newspaper|magazine|platform|streamer|service|union|guild|network|department|university|lab"
                         r"|start-?ups?|party)\b"
                         r"|\bwelche[srnm]? ([\w-]+ )?(unternehmen|firma|firmen|studio|studios|organisation|medium|zeitung|magazin"
                         r"|plattform|dienst|streamingdienst|gewerkschaft|abteilung|universität|website|seite|quelle|start-?ups?"
                         r"|partei)\b"
                         r"|\b(wer|who) (berichtet|reported|published|veröffentlichte)\b"),
        ("place", r"(^(and |und )?(where|wo|wohin|woher)\b)|\b(in which (\w+ )?(city|country|place|region|state)|which (\w+ )?(city|country|region|state)|what city"
                  r"|in which (\w+ )?(district|neighbou?rhood)|in welche[rmn]? (stadt|land|ort|region|stadtteil|stadtviertel|viertel|bezirk)"
                  r"|welche[rsn]? (stadt|land|ort|region|stadtteil|stadtviertel|viertel|bezirk))\b"),
        ("person", r"\b(who|whom|whose|which ([\w-]+ )?(person|director|actor|author|writer|executive|ceo|journalist|reporter|expert)"
                   r"|wer|wen|wem|wessen|welche[rsmn]? (person|regisseur|regisseurin|autor|autorin|schauspieler|manager|chef"
                   r"|journalist|experte|expertin))\b"),
        ("number", r"\b(how (much|many|big|large|high|fast|often|old|far|expensive|cheap)|what (\w+ )?(share|percentage|proportion"
                   r"|fraction|number|amount|rating|resolution|score|rate|growth|revenue|profit|price|cost|budget|sum|margin)"
                   r"|by how much|by what (factor|percentage)|how much (more|less|faster|cheaper)"
                   r"|wie ?viele?[nr]?|wieviel|um wie ?viel|wie (hoch|groß|oft|schnell|alt|teuer|weit)|welche[rnms]? (anteil"
                   r"|prozentsatz|zahl|betrag|bewertung|auflösung|umsatz|gewinn|preis|summe|wachstum)|anzahl)\b"),
        ("reason", r"\b(why|for what reason|what (was|is) the reason|how come|warum|weshalb|wieso|aus welchem grund)\b"),
        ("list", r"\b(which|what) (\w+ ){0,3}(jobs|tools|models|benefits|advantages|risks|concerns|projects|films|series"
                 r"|technologies|alternatives|examples|areas|companies|platforms|studios|people|applications|uses"
                 r"|challenges|limitations|features|reasons)\b|\b(list|name (the|all|some|two|three))\b"
                 r"|\bwelche (\w+ ){0,3}(berufe|jobs|tools|modelle|vorteile|risiken|bedenken|projekte|filme|serien"
                 r"|technologien|alternativen|beispiele|bereiche|unternehmen|plattformen|studios|anwendungen"
                 r"|herausforderungen|grenzen|gründe|funktionen)\b|\bnenne\b"),
        ("yesno", r"^(is|are|was(?= (the|a|an|it|he|she|there|this|that|these|those|his|her|its|their|any\w*|some\w*|no)\b)|were|does|do|did|has|have|had|can|could|will|would|should|ist|sind|war|waren|hat|haben"
                  r"|hatte|wird|werden|wurde|kann|können|gibt|gab|soll)\b"
                  # a German question led by any verb: "Produziert irgendein Studio …?"
                  r"|^[a-zäöü]+(t|en)\s+(irgend\w*|es|er|sie|man|ein|eine|einen|der|die|das|den|dem|jemand|netflix)\b"),
    )
)

# "When AI writes plots, do writers still …?": a leading clause, whose "when" or "wenn" asks
# for no date; the main clause after its comma says what is asked.
_LEADING_CLAUSE = re.compile(
    r"^(when|if|while|after|before|once|wenn|falls|als|während|nachdem|bevor|sobald)\b[^,?]+,\s*(?=\w)"
)

# Words that say what kind of thing is asked, not what it is about.
_QUESTION_WORDS = frozenset(
    fold(w)
    for w in """
    who whom whose what which when where why how whats according say says said tell told mention mentioned
    mentions article articles text report reports reported state stated describe described call called name
    named give given list lists please exactly kind type sort example
    wer wen wem wessen welche welcher welches welchen welchem wann wo wohin woher warum weshalb wieso wie laut
    sagt sagte sagen nennt nannte nennen artikel bericht berichtet beschreibt beschrieben erwähnt genau art
    heißt heisst gibt gab bitte
    year years jahr jahre much many number share percentage amount long
    make made makes use used using take took put bring brought come came get got think thinks thought
    something anything thing things way today also still once other else each own really actually
    macht machte gemacht nutzt genutzt etwas dinge ding heute konkret eigentlich wirklich
    """.split()
)

# Words that only say "about the article itself"; a byline or date line answers them.
_META_CUES = frozenset(
    fold(w)
    for w in """
    wrote written write writer author authored published publish publication posted dated date outlet site website
    newspaper magazine medium source appeared appear original
    schrieb geschrieben verfasst verfasste autor autorin veroffentlicht erschienen publiziert datiert datum quelle
    zeitung magazin medium originalquelle
    """.split()
)
CARRIED = re.compile(r"\s*\([^()]*\)(?=\W*$)")
"""What a follow-up carries from the turn before, in parentheses at its end."""
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)(?:er)?s?\b")
_QUARTER = re.compile(r"\b(?:q([1-4])|([1-4])(?:st|nd|rd|th)? quarter|([1-4])\.\s?quartal|(first|second|third|fourth|erste[nm]?|zweite[nm]?|dritte[nm]?|vierte[nm]?) (?:quarter|quartal))\b", re.I)
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "erste": "1", "zweite": "2", "dritte": "3", "vierte": "4"}
_HALF = re.compile(r"\b(h[12]|first half|second half|erste[nm]? hälfte|zweite[nm]? hälfte|(erste|zweite)s? halbjahr)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_NAME = re.compile(r"(?<![\w])([A-ZÄÖÜ][\w’'-]*[A-Z][\w’'-]*|[A-ZÄÖÜ]{2,}\w*|[A-ZÄÖÜ][a-zäöüßé’'-]+(?:\s+[A-ZÄÖÜ][a-zäöüßé’'-]+)*)")
_UNITS = {
    "percent": r"percent|percentage|prozent|%|anteil|share|rate\b|wachstumsrate|quote\b|margin|marge",
    "money": r"dollar|usd|euro|eur|\$|€|money|geld|revenue|umsatz|profit|gewinn|cost|kosten|kostet|kostete|budget|price|preis|charge|betrag|spend|spent|ausgeben|ausgegeben|gesteckt",
    "time": r"seconds?|minutes?|hours?|days?|weeks?|months?|years?|sekunden|minuten|stunden|tage[n]?|wochen|monate[n]?|jahre[n]?",
    "multiplier": r"times|mal|fach|faster|schneller|cheaper|günstiger|factor|faktor|how often|wie oft|wie häufig",
    "comparison": r"faster|schneller|cheaper|günstiger|billiger|better|besser|worse|schlechter|effizienter|more efficient",
    "resolution": r"resolution|auflösung",
    "score": r"rating|ratings|score|bewertung|punkte|points",
}
_COMPARATIVE = re.compile(r"\b(\w+er than|more|less|fewer|faster|cheaper|better|worse|compared|mehr|weniger|schneller"
                          r"|günstiger|billiger|besser|schlechter|als|verglichen|gegenüber)\b", re.I)
_MANNER = re.compile(r"(how|wie)\s+(do|does|did|can|could|will|would|should|is|are|was|were|[a-zäöü]+(t|en))\b")
"""'How do … bring costs down?': asks in what way, not for a figure ("how much" is not matched: no verb)."""
_ASKS_AUTHOR = re.compile(r"\b(who|wer|wie heißt|wie hieß|wie lautet|what is|what's|was ist|nenne|name)(\s+\S+){0,4}?\s+(author|autor\w*|verfasser\w*)\b"
                          r"|\b(which|welche[rmn]?)\s+(author|autor\w*)|\b(who|wer)\b.{0,60}\b(wrote|authored|written|geschrieben|schrieb|verfasst)")
"""The author is what is asked ("Wie heißt der Autor …?"), not the subject ("hält der Autor … für fragwürdig?")."""
_COMPARE = re.compile(r"\b(compare[sd]?|comparison|vergleich\w*)\b")
"""How one thing compares with another: a description, not one number."""
_META = (
    ("sources", re.compile(r"\b(sources|quellen|quellenangaben?|references|links)\b", re.I)),
    ("credit", re.compile(r"\b((photo|image|picture|foto|bild)\w*\b.{0,40}\b(credit\w*|zugeschrieben|stammt|von wem|"
                          r"whose|who took|taken by)|(credit\w*|wem)\b.{0,40}\b(photo|image|picture|foto|bild)\w*)", re.I)),
    ("title", re.compile(r"\b(headline|title|titel|überschrift|schlagzeile)\b(?! (?:role|rolle|song|track))", re.I)),
    ("author", re.compile(r"\b(who (wrote|authored|is the author)|author|written by|autor|autorin|verfasst|wer hat .{0,40}geschrieben|wer schrieb)\b", re.I)),
    ("outlet", re.compile(r"\b(outlet|publication(?! date)|which (site|website|newspaper|magazine|medium)|welche[sm]? (medium|zeitung|magazin|website)|quelle des artikels|original source|originalquelle)\b", re.I)),
    ("date", re.compile(r"\b(published|publication date|posted|dated|veröffentlicht|erschien(en)?|publiziert|datiert|c[oa]me out|herauskam)\b", re.I)),
)


@dataclass(frozen=True)
class QuestionAnalysis:
    """The parts of a question an answer is judged against.

    Attributes:
        text: The question.
        lang: ``"en"`` or ``"de"``.
        kind: The expected answer type, one of ``KINDS``.
        focus: Content words (folded) the answer must be about, in order.
        years, quarters, numbers: Constraints written as digits (``"2025"``, ``"q3"``, ``"59"``).
        names: Capitalised names in the question (``"Sora"``, ``"Ted Sarandos"``).
        units: Unit families asked about (``"percent"``, ``"money"``, ``"time"``, ``"multiplier"``,
            ``"comparison"``, ``"resolution"``, ``"score"``).
        comparative: The question compares (``faster``, ``mehr als``).
        about: ``"sources"``, ``"credit"`` (of its picture), ``"title"``, ``"author"``, ``"date"`` or
            ``"outlet"`` when it asks about an article itself.
    """

    text: str
    lang: str
    kind: str
    focus: tuple[str, ...]
    years: tuple[str, ...] = ()
    quarters: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    comparative: bool = False
    about: str | None = None

    @property
    def typed(self) -> bool:
        """The answer is a value (name, date, number, place) rather than a description."""
        return self.kind in ("person", "organisation", "place", "date", "number", "duration")


def language(text: str) -> str:
    """``"de"`` or ``"en"``, by a count of telltale words; English when unsure."""
    return "de" if len(_GERMAN_HINTS.findall(text)) > len(_ENGLISH_HINTS.findall(text)) else "en"


@functools.lru_cache(maxsize=1024)
def analyze(question: str) -> QuestionAnalysis:
    text = " ".join(question.split())
    lowered = text.lower()
    about = next((name for name, pattern in _META if pattern.search(lowered)), None)
    clause = _LEADING_CLAUSE.match(lowered)
    main = lowered[clause.end():] if clause else lowered
    kind = next((k for k, pattern in _RULES if pattern.search(main)), "description")
    if about == "author" and kind in ("description", "organisation") and _ASKS_AUTHOR.search(lowered):
        kind = "person"
    elif about == "date" and kind in ("description", "yesno"):
        kind = "date"
    elif about == "outlet" and kind in ("description", "person"):
        kind = "organisation"
    own = CARRIED.sub("", lowered)  # without what a follow-up carried: "(kostete der … Film)"
    if (kind == "description" and {"percent", "money", "multiplier"} & set(_units(own)) and not _COMPARE.search(lowered)
            and not _MANNER.match(main)):
        kind = "number"
    quarters = periods(text)
    years = [m.group(1) for m in _YEAR.finditer(text)]
    numbers = [n for n in _NUMBER.findall(text) if n not in years and not re.fullmatch(r"[1-4]", n)]
    names = _names(text)
    lang = language(text)
    units = _units(lowered)
    cues = _META_CUES if about else frozenset()
    focus = tuple(dict.fromkeys(
        w for w in _words(text) if w not in _QUESTION_WORDS and w not in cues and not _is_constraint(w, years, quarters)
    ))
    return QuestionAnalysis(
        text=text,
        lang=lang,
        kind=kind,
        focus=focus,
        years=tuple(dict.fromkeys(years)),
        quarters=tuple(dict.fromkeys(quarters)),
        numbers=tuple(dict.fromkeys(numbers)),
        names=names,
        units=units,
        comparative=bool(_COMPARATIVE.search(lowered)),
        about=about,
    )


@functools.lru_cache(maxsize=50_000)
def periods(text: str) -> tuple[str, ...]:
    """The quarters and halves of a year that ``text`` names: ``("q3",)`` for "im dritten Quartal"."""
    out = []
    for m in _QUARTER.finditer(text):
        digit = m.group(1) or m.group(2) or m.group(3) or _ORDINALS.get(re.sub(r"[nm]$", "", (m.group(4) or "").lower()), "")
        if digit:
            out.append(f"q{digit}")
    out += [f"h{'1' if fold(m.group(0))[:1] in 'hfe' and not re.search('second|zweite|h2', m.group(0), re.I) else '2'}"
            for m in _HALF.finditer(text)]
    return tuple(dict.fromkeys(out))


def _units(lowered: str) -> tuple[str, ...]:
    # "searches per day", "pro Jahr": a rate, not a time asked for
    lowered = re.sub(rf"\b(per|pro|je|each|every|a|jede[nmrs]?)\s+({_UNITS['time']})\b", " ", lowered)
    lowered = re.sub(r"\bsecond(?=\s+[a-z])", " ", lowered)  # "the second quarter": an ordinal, not a time
    lowered = re.sub(r"\b(yearly|annual\w*|jährlich\w*|monthly|monatlich\w*|daily|täglich\w*)\b", " ", lowered)
    units = tuple(u for u, pattern in _UNITS.items() if re.search(rf"(?<!\w)({pattern})", lowered))
    # "What share of the hours …?", "… of the revenue": a share of them, not hours or money
    return tuple(u for u in units if u not in ("time", "money")) if "percent" in units else units


def _words(text: str) -> list[str]:
    out = []
    for tok in re.findall(r"\w+", re.sub(r"['’]s\b", "", fold(text)).replace("-", " ")):
        if tok in STOPWORDS or (len(tok) < 2 and not tok.isdigit()) or tok.isdigit():
            continue
        out.append(tok)
    return out


def _is_constraint(word: str, years: list[str], quarters: list[str]) -> bool:
    return word in years or word in quarters or bool(re.fullmatch(r"[qh][1-4]", word))


def _names(text: str) -> tuple[str, ...]:
    """Capitalised words that aren't the question's first word or a question word."""
    out = []
    for m in _NAME.finditer(text):
        name = re.sub(r"['’]s$", "", m.group(0))
        words = name.split()
        if m.start() == 0 or text[: m.start()].rstrip().endswith((".", "?", "!", ":")):
            words = words[1:]  # the first word of a sentence is capitalised anyway
        words = [w for w in words if fold(w) not in _QUESTION_WORDS and fold(w) not in STOPWORDS]
        if words and not re.fullmatch(r"[qh][1-4]", words[0], re.I):
            out.append(" ".join(words))
    return tuple(dict.fromkeys(out))


@functools.lru_cache(maxsize=4096)
def identifies(text: str, name: str, lang: str) -> bool:
    """A name of something (not a German common noun, capitalised as all nouns are)."""
    if lang != "de":
        return True
    if fold(name) in ASPECTS:
        return False  # "Um wie viel Prozent …": what is asked, not what it is about
    if " " in name or re.search(r"\d|.[A-ZÄÖÜ]", name) or name.isupper():
        return True
    if re.search(rf"[„“\"»«‚‘]\s*{re.escape(name)}", text):
        return True
    before = [fold(w.strip("„“\"(")) for w in text[: text.find(name)].split()]
    j = len(before) - 1
    while j > 0 and j >= len(before) - 2 and before[j].islower() and not _determiner(before[j]):
        j -= 1  # adjectives: "der größere Roll-out", "in welcher Stadt"
    if before and (_determiner(before[j]) or (j < len(before) - 1 and before[j] in PREPOSITIONS)):
        return False  # "der größere Roll-out", "mit modernsten Mitteln"
    return not fold(name).endswith(NOUN_SUFFIXES)


def _determiner(folded: str) -> bool:
    return folded in DETERMINERS or folded.startswith("welch")
