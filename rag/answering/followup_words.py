"""The English and German word lists follow-up resolution reads questions with.

Question words, auxiliaries, prepositions, determiners, referring words, aspect
nouns and time phrases. Entries are folded (``rag.text.fold``) except ``AUX``,
which is compared lower-cased.
"""

from __future__ import annotations

import re

from rag.text import fold

WORD = re.compile(r"[\w’'-]+|[^\w\s]", re.UNICODE)

LEAD = re.compile(
    r"^(?:and|und|but|aber|also|auch|or|oder|plus|then|dann|so|sowie|außerdem|ausserdem|besides"
    r"|especially|particularly|besonders|vor\s+allem"
    r"|und\s+auch|and\s+also)\b[\s,]*",
    re.I,
)
ABOUT = re.compile(
    r"^(?:(?:and|und|but|aber)\s+)?(?:what\s+about|how\s+about|what\s+of|and\s+for|was\s+ist\s+mit"
    r"|wie\s+ist\s+es\s+mit|wie\s+steht\s+es\s+(?:mit|um)|wie\s+sieht\s+es\s+mit|und\s+bei|und\s+für|und\s+mit)"
    r"\s+(?P<x>.+?)(?:\s+aus)?\s*[?.!]*$",
    re.I,
)

WH = frozenset(
    fold(w)
    for w in """
    who whom whose what which when where why how
    wer wen wem wessen was welche welcher welches welchen welchem wann wo wohin woher warum wieso weshalb wie
    womit wofür worum wovon woran worüber wodurch wozu worauf woraus wobei worin wonach wogegen
    """.split()
)
WH_AMOUNT = frozenset(
    fold(w)
    for w in """
    much many long far often old big large high fast expensive cheap soon
    viel viele vielen lange lang oft alt groß hoch schnell teuer weit bald
    """.split()
)
AUX = frozenset(
    """
    is are was were do does did has have had can could will would should may might must am be been
    ist sind war waren wird werden wurde wurden hat haben hatte hatten kann können konnte konnten
    soll sollen sollte sollten muss müssen musste darf dürfen durfte mag möchte will wollen wollte gibt gab
    """.split()
)
PREPOSITIONS = frozenset(
    fold(w)
    for w in """
    in on at by for from of over under after before since until during within about according to with
    in im am an auf aus bei für über unter nach vor seit bis während innerhalb um von vom zu zum zur mit laut
    gegen zwischen ohne durch trotz wegen beim between without through
    """.split()
)
DETERMINERS = frozenset(
    fold(w)
    for w in """
    the a an this that these those der die das den dem des ein eine einen einem einer eines kein keine keinen
    diese dieser dieses diesen diesem jede jeder jedes jeden seine ihre seinen ihren seinem ihrem seiner ihrer
    im am vom zum zur beim ins ans aufs pro
    """.split()
)

# Pronouns that stand for something said before. "person" ones stand for people.
PERSON_PRONOUNS = frozenset(
    "he she him his her hers himself herself er ihn ihm sein seine seinen seinem seiner seines".split()
)
PLURAL_PRONOUNS = frozenset("they them their theirs themselves ihnen deren".split())
THING_PRONOUNS = frozenset("it its itself es dessen".split())
AMBIGUOUS_PRONOUNS = frozenset("sie ihr ihre ihren ihrem ihrer ihres".split())  # she / they / her / their
DEMONSTRATIVES = frozenset(
    """this these those dies diese dieser dieses diesen diesem jene jener jenes jenen jenem
    derselbe dieselbe dasselbe""".split()
)
DA_WORDS = frozenset(
    fold(w)
    for w in """
    darauf damit danach davon dafür dabei dazu darüber daran dadurch dagegen darin daraus dahinter davor daneben
    darunter dazwischen deshalb deswegen daher dort dorthin dann damals
    thereafter therefore afterwards
    """.split()
)
AT_END_ONLY = frozenset("that there then".split())  # "do that?", "what happened then?"
# "Gibt es ...?", "Wie lange ist es her?", "Is it true that ...?": "es"/"it" stand for nothing said before.
EXPLETIVE_ES = re.compile(
    r"\b(gibt|gab|geht|ging|handelt|handelte|gebe|gäbe)\s+es\b|\bes\s+(gibt|gab|geht|ging|handelt|her)\b", re.I
)
EXPLETIVE_IT = re.compile(
    r"\b(is|was|isn't|wasn't)\s+it\s+(true|possible|likely|known|said|reported|expected|clear|the case)\b"
    r"|\bit\s+(is|was)\s+(true|possible|likely|known|said|reported|expected|clear)\b",
    re.I,
)
DUMMY_IT_VERBS = frozenset("cost costs take takes took".split())
""""How much did it cost to produce the scene?": "it" stands for the "to …" that follows."""

# Nouns that name an aspect ("the time", "den Zeitraum") rather than a subject.
ASPECTS = frozenset(
    fold(w)
    for w in """
    time times period date day year month duration length cost costs price budget amount number figure share
    percentage rate reason reasons cause place location result outcome consequence consequences effect effects
    impact difference details detail example examples source sources author date name names role title total
    exactly precisely roughly approximately instead first last next else more less again now then later over
    zeit zeitraum dauer datum tag jahr monat kosten preis budget betrag anzahl zahl anteil prozent rate grund
    gründe ursache ort ergebnis folge folgen auswirkung auswirkungen unterschied details beispiel beispiele
    quelle autor name rolle titel summe genau ungefähr etwa stattdessen zuerst zuletzt danach sonst mehr weniger
    wieder jetzt später insgesamt
    """.split()
)

NOUN_SUFFIXES = (
    "ung", "ungen", "heit", "keit", "schaft", "tion", "tionen", "tät", "ismus", "nis", "ment", "chen", "lein",
    "er", "en", "e", "el", "te", "ik", "ur", "ie", "ei", "um", "at", "ät", "ler", "in", "innen", "ten", "ling",
    "eln", "ern",
)

ABOUT_WORDS = frozenset(fold(w) for w in "about mit ist steht sieht es".split())
GERMAN_REFERRING = frozenset(
    fold(w)
    for w in """er sie es ihn ihm ihr ihre ihren ihrem ihrer ihnen sein seine seinen seinem seiner dessen deren
    dies diese dieser dieses diesen diesem das""".split()
) | DA_WORDS

TIME_WORD = re.compile(
    r"(erste|zweite|dritte|vierte|first|second|third|fourth)[nms]?|quarter|quartal|half|halfte|halbjahr|jahr"
)

_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
TIME = re.compile(
    r"(?:\b(?:in|im|for|für|during|während)\s+)?"
    r"(?:(?:the\s+|dem\s+|der\s+)?"
    r"(?:q[1-4]|[1-4](?:st|nd|rd|th)?\s+quarter|(?:first|second|third|fourth)\s+quarter"
    r"|(?:erste[nm]?|zweite[nm]?|dritte[nm]?|vierte[nm]?)\s+quartal|[1-4]\.\s?quartal)"
    rf"(?:\s+(?:of\s+)?{_YEAR})?"
    rf"|{_YEAR}(?:\s*[-–]\s*{_YEAR})?)\b",
    re.I,
)
TIME_PREPOSITION = re.compile(r"^(?:in|im|for|für|during|während)\s+", re.I)
