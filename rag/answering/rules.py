"""Rules that decide before the evidence judge's answerability model.

A fitted model weighs evidence; these say when there is none to weigh:

- a sentence without a value of the asked kind doesn't answer "how many", "when",
  "how long", "where" or "which company";
- an article that names none of the question's names can't answer it
  ("Wann öffnet die Kasse des Kinos in Graz?"), nor can any when no retrieved article names
  one of them ("Welche Bewertung erhielt „The Eternaut“ bei IMDb?");
- a sentence about another quarter doesn't answer for the one asked (Q2 profit for "Q3"), nor
  one whose value belongs to another version ("Veo 2 kann … 4K" for "Veo 3");
- "who" needs someone named (or a company, or a group of people), "Wie hießen …?" a name;
- a person in another role, or a date of another event, doesn't answer
  (``rag.answering.roles``: "Who is the CFO?" is not answered by "Sarandos, Co-CEO").
"""

from __future__ import annotations

import re

from rag.answering.followup_words import NOUN_SUFFIXES
from rag.answering.question import CARRIED, QuestionAnalysis, identifies, periods
from rag.answering.roles import asked_role, states_role
from rag.answering.spans import MONTH_WORDS, find
from rag.retrieval.retriever import Hits, SentenceHit
from rag.text import cognate, fold

MUST_HOLD = ("number", "date", "duration", "place", "organisation")
"""Kinds of answer a sentence must hold to answer at all: a figure, a date, a length of time, a
place, an organisation."""


_FREQUENCY = re.compile(r"\b(how often|wie oft|wie häufig)\b", re.I)
"""'How often?' may be answered without a figure ("jede Sekunde", "täglich")."""


def ruled_out(q: QuestionAnalysis, hits: Hits):
    """A check of one candidate and its ranking features: ``None`` when no rule applies, else
    why it can't answer (``""`` when the ranking reasons already say so)."""
    strangers = _strangers(q, hits)
    role = asked_role(q.text, q.kind)
    versions = list(dict.fromkeys((base, n) for _, base, n in _numbered(q.text)))

    def rule(s: SentenceHit, ranking: dict[str, float]) -> str | None:
        if q.kind in MUST_HOLD and ranking["typed_missing"] and not _FREQUENCY.search(q.text):
            return ""  # the ranking reasons already say "holds no number that the question doesn't"
        if q.kind == "person" and ranking["typed_missing"] and not _POSSESSIVE.search(q.text) \
                and not _names_anyone(q, s.text) and not _surname(q, s.text, hits.article(s.passage.file) if hits.article else []):
            return ""  # "Wer leitet Eyeline Studios?" and no one named
        if _ASKS_NAME.search(q.text) and not _names_anyone(q, s.text, titles=True):
            return "the sentence names nothing the question asks the name of"
        if role and not states_role(role, s.text):
            return {"person": f"the sentence doesn't say who is {role.name}",
                    "number": f"the sentence's figure is no {role.name}"}.get(
                q.kind, f"the sentence doesn't say when or where it was {role.name}")
        if versions and (other := _other_version(q, versions, s.text)):
            return other
        if q.quarters and (other := periods(s.text)) and not set(q.quarters) & set(other):
            return f"the sentence is about {', '.join(p.upper() for p in other)}, not {', '.join(p.upper() for p in q.quarters)}"
        unknown = strangers(s.passage.file)
        return f"the article never names {', '.join(unknown)}" if unknown else None

    return rule


_VERSION = re.compile(r"\b(?P<base>[A-ZÄÖÜ][a-zäöü]+)[ -](?P<n>\d{1,2})(?![\d.,])\b")
"""A name with a version: "Veo 3", "GPT-4"."""
_ORDINAL = re.compile(
    r"\b(?P<o>first|second|third|fourth|fifth|erste|zweite|dritte|vierte|fünfte)[nmrs]?\b(?:,?\s+[\w-]+){0,2}?,?\s+"
    r"(?P<noun>staffel|season|folge|episode|teil|part)\w*", re.I)
"""A numbered part in words: "der ersten Staffel", "eine zweite, abschließende Staffel"."""
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
             "erste": "1", "zweite": "2", "dritte": "3", "vierte": "4", "fünfte": "5"}
_SERIES = {"staffel": "season", "season": "season", "folge": "episode", "episode": "episode", "teil": "part", "part": "part"}


def _numbered(text: str) -> list[tuple[int, str, str]]:
    """Versions and numbered parts named in ``text``: ``(start, name, number)``; a season is a season
    in either language and in words or figures ("Staffel 2", "the second season")."""
    out = [(m.start(), _SERIES.get(m.group("base").lower(), m.group("base")), m.group("n")) for m in _VERSION.finditer(text)]
    out += [(m.start(), _SERIES[m.group("noun").lower()], _ORDINALS[m.group("o").lower()]) for m in _ORDINAL.finditer(text)]
    return sorted(out)


def _other_version(q: QuestionAnalysis, versions: list[tuple[str, str]], text: str) -> str | None:
    """Why a sentence about another version ("Veo 2") doesn't answer for the one asked ("Veo 3"):
    it names only the other, or the value it holds stands by the other."""
    for base, n in versions:
        found = [(at, v) for at, name, v in _numbered(text) if name == base]
        mine = [at for at, v in found if v == n]
        other = [(at, v) for at, v in found if v != n]
        if not other:
            continue
        why = f"the sentence's {{}} is about {base} {other[0][1]}, not {base} {n}"
        if not mine:
            return why.format("statement")
        values = find(text, q.kind) if q.typed else []
        if values and all(_owner(v.start, found) != n for v in values):
            return why.format(q.kind)
    return None


def _owner(at: int, mentions: list[tuple[int, str]]) -> str:
    """The version a value belongs to: the last named before it (a clause's subject), else the next."""
    before = [v for start, v in mentions if start <= at]
    return before[-1] if before else min(mentions, key=lambda m: m[0] - at)[1]


def _names_anyone(q: QuestionAnalysis, text: str, *, titles: bool = False) -> bool:
    """With no person named, "Wer …?" may still be answered by a company or a group of people
    ("die Autoren", "ihre Co-Stars") that the question doesn't name; "Wie heißt …?" also by a
    person, a title in quotes („Kill the Machine“) or a product ("Veo 3", "GPT-4")."""
    asked = fold(q.text)
    kinds = ("organisation", "person") if titles else ("organisation",)
    found = [v.text for k in kinds for v in find(text, k)]
    found += [m.group(0) for m in (*_QUOTED.finditer(text), *_VERSION.finditer(text))] if titles else _PEOPLE.findall(text)
    return any(fold(x) not in asked for x in found)


_ASKS_NAME = re.compile(
    r"\b(what (is|was|are|were) (the )?names?|what (is|was|are|were) (it|they|\w+ \w+|\w+) called|called what"
    r"|wie (heißt|hieß|heißen|hießen|nennt sich|nennen sich|lautet der name)|welchen namen)\b", re.I)
""""Wie hießen die vier Töchter?": answered by a name, not by a sentence about them."""
_QUOTED = re.compile(r"[„“\"«»][A-ZÄÖÜ0-9][^„“\"«»]{1,60}[“”\"«»]")


_POSSESSIVE = re.compile(r"\b(whose|wessen)\b", re.I)
""""Whose …?" is often answered by a reference ("das Unternehmen … ihrer VFX-Abteilung")."""
def _surname(q: QuestionAnalysis, text: str, article: list[SentenceHit]) -> bool:
    """A person the article introduced by full name, named again by surname ("Sarandos verweist …")."""
    asked = fold(q.text)
    known = _people(article)
    return any(w in known and w not in asked for w in re.findall(r"[A-ZÄÖÜ][a-zäöüßé]+", text))


def _people(sentences: list[SentenceHit]) -> frozenset[str]:
    """Surnames of the persons an article names with their full name."""
    return _of_article(sentences, "people", lambda ss: frozenset(
        p.normalized.split()[-1] for s in ss for p in find(s.text, "person") if " " in p.normalized))


_PEOPLE = re.compile(
    r"\b[A-ZÄÖÜ][\w-]*[:*_]?(?i:innen|oren|eure|isten|enten|anten|leute|menschen|kreative|schaffende|stars|artists"
    r"|ers|ists|ors)\b")
"""Plural nouns for groups of people: "Autoren", "Kreative", "Co-Stars", "Concept Artists"."""


def _strangers(q: QuestionAnalysis, hits: Hits):
    """For an article (by file), the question's names that keep it from answering: all of them
    when it mentions none, or those that no retrieved article mentions ("bei IMDb")."""
    names = [n for n in q.names if len(n) > 2 and identifies(q.text, n, q.lang) and not _SOURCE_NAME.search(fold(n))
             and fold(n) not in _MONTHS and f"&{n}" not in q.text  # "D-Profis" of "L&D-Profis" is no name of its own
             and not re.search(r"-[a-zäöü]+$", n)]  # nor is an adjective: "KI-bedingte"
    if q.lang == "de":  # "das Thema Jobsicherheit": German nouns in a run of capitals name nothing
        parts = {n: [w for w in n.split() if len(w) > 2 and identifies(q.text, w, q.lang)] for n in names}
        names = [x for n in names for x in ([n] if len(parts[n]) == len(n.split()) else parts[n])]
        names += [m for m in _PLACE.findall(q.text)
                  if not any(m in n or n in m for n in names) and not fold(m).endswith(NOUN_SUFFIXES)]
    own = CARRIED.sub("", q.text)  # a follow-up's carried words are context, not what it asks about
    seen: dict[str, list[str]] = {}

    def missing(file: str) -> list[str]:
        if file not in seen:
            text = _article_text(hits.article(file))
            seen[file] = [n for n in names if not _named(n, text, hits.translations)]
        return seen[file]

    def unknown(file: str) -> list[str]:
        if not names or hits.article is None:
            return []
        if len(missing(file)) == len(names):
            return missing(file)
        files = dict.fromkeys(s.passage.file for s in hits.sentences)
        return [n for n in missing(file) if n in own and all(n in missing(f) for f in files)]

    return unknown



_PLACE = re.compile(r"\b(?:in|aus|nach|bei)\s+([A-ZÄÖÜ][\w-]+(?:\s[A-ZÄÖÜ][\w-]+)*)")
"""In German, where something is: "des Kinos in Graz"."""


def _named(name: str, text: str, translations: dict[str, tuple[str, ...]]) -> bool:
    """Every word of ``name`` occurs in ``text``; a one-word name may occur as what the lexicon
    took it for ("Germany" -> "deutschland"), a longer one ("New York") only as itself."""
    words = [w for w in re.split(r"[\s&-]+", name) if w]
    alts = translations.get(name.lower(), ()) if len(words) == 1 else ()
    return all(_kin(w)[:5] in text for w in words) or any(_kin(a)[:5] in text for a in alts)


def _article_text(sentences: list[SentenceHit]) -> str:
    """An article's text, folded and spelling-aligned."""
    return _of_article(sentences, "text", lambda ss: _kin(" ".join(s.text for s in ss)))


def _of_article(sentences: list[SentenceHit], what: str, derive):
    """What is derived from an article's sentences, kept while the retriever keeps that list."""
    key = (what, id(sentences))
    hit = _ARTICLES.get(key)
    if hit is None or hit[0] is not sentences:
        if len(_ARTICLES) >= 128:
            _ARTICLES.clear()
        hit = _ARTICLES[key] = (sentences, derive(sentences))
    return hit[1]


_ARTICLES: dict[tuple[str, int], tuple[list[SentenceHit], object]] = {}


def _kin(text: str) -> str:
    """Folded, with English and German spellings aligned ("California" ~ "Kalifornien")."""
    return cognate(fold(text))

_SOURCE_NAME = re.compile(
    r"artikel|article|blog|bericht|report|beitrag|summary|zusammenfassung"
    r"|^(montag|monday|dienstag|tuesday|mittwoch|wednesday|donnerstag|thursday|freitag|friday|samstag|saturday"
    r"|sonntag|sunday)$"
)
_MONTHS = frozenset(fold(m) for m in MONTH_WORDS.split("|"))
"""Names of where or when something was said ("the October article", "im Juli"), not of what it is about."""
