"""Follow-up questions made standalone from the conversation, offline.

``resolve(question, history)`` decides, without a language model, whether a
question leans on the previous one and, if so, writes it out in full:

* it refers back with a pronoun (he/she/it/they/his/its/their, er/sie/es/ihm/
  sein/dessen/deren/dies/das, darauf/damit/danach …) that nothing in the
  question itself can stand for;
* it starts with "and …" / "und …" (or "but", "aber", "also", "auch");
* it is a bare aspect: "When?", "How much?", "Und wann?", "Over what period?",
  "And the time?", "Und die Kosten?";
* it asks about another entity in the same frame: "What about Sora?",
  "Und was ist mit Disney?".

A follow-up is rebuilt from the previous user turn (itself resolved first):
its subject and entities (names, focus words, years, quarters) are carried
into the new question, and for bare aspects the new aspect is asked about the
old subject ("Und wann?" after "Warum wurde Oesterheld verhaftet?" becomes
"Wann wurde Oesterheld verhaftet?"). A question with its own names that the
previous turn doesn't share is a topic switch and comes back unchanged.

``clarification(question)`` is the reply to a question that can't stand alone
and has nothing to lean on ("Why?", "Und er?", "it" with no history): it asks
what the question refers to.

Everything here works on the wording only (``rag.answering.question.analyze``
and a few word lists of English and German function words); nothing knows the
articles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.question import analyze, language
from rag.text import STOPWORDS, fold

History = Sequence[dict[str, str]]

MAX_TOPIC_WORDS = 14
"""A carried topic longer than this is cut to its first content words."""

# -- word lists (folded) -------------------------------------------------------------

_WORD = re.compile(r"[\w’'-]+|[^\w\s]", re.UNICODE)

_LEAD = re.compile(
    r"^(?:and|und|but|aber|also|auch|or|oder|plus|then|dann|so|sowie|außerdem|ausserdem|besides"
    r"|und\s+auch|and\s+also)\b[\s,]*",
    re.I,
)
_ABOUT = re.compile(
    r"^(?:(?:and|und|but|aber)\s+)?(?:what\s+about|how\s+about|what\s+of|and\s+for|was\s+ist\s+mit"
    r"|wie\s+ist\s+es\s+mit|wie\s+steht\s+es\s+(?:mit|um)|wie\s+sieht\s+es\s+mit|und\s+bei|und\s+für|und\s+mit)"
    r"\s+(?P<x>.+?)(?:\s+aus)?\s*[?.!]*$",
    re.I,
)

_WH = frozenset(
    fold(w)
    for w in """
    who whom whose what which when where why how
    wer wen wem wessen was welche welcher welches welchen welchem wann wo wohin woher warum wieso weshalb wie
    womit wofür worum wovon woran worüber wodurch wozu worauf woraus wobei worin wonach wogegen
    """.split()
)
_WH_AMOUNT = frozenset(
    fold(w)
    for w in """
    much many long far often old big large high fast expensive cheap soon
    viel viele vielen lange lang oft alt groß hoch schnell teuer weit bald
    """.split()
)
_AUX = frozenset(
    """
    is are was were do does did has have had can could will would should may might must am be been
    ist sind war waren wird werden wurde wurden hat haben hatte hatten kann können konnte konnten
    soll sollen sollte sollten muss müssen musste darf dürfen durfte mag möchte will wollen wollte gibt gab
    """.split()
)
_PREPOSITIONS = frozenset(
    fold(w)
    for w in """
    in on at by for from of over under after before since until during within about according to with
    in im am an auf aus bei für über unter nach vor seit bis während innerhalb um von vom zu zum zur mit laut
    gegen
    """.split()
)
_DETERMINERS = frozenset(
    fold(w)
    for w in """
    the a an this that these those der die das den dem des ein eine einen einem einer eines kein keine keinen
    diese dieser dieses diesen diesem jede jeder jedes jeden seine ihre seinen ihren seinem ihrem seiner ihrer
    im am vom zum zur beim ins ans aufs pro
    """.split()
)

# Pronouns that stand for something said before. "person" ones stand for people.
_PERSON_PRONOUNS = frozenset(
    "he she him his her hers himself herself er ihn ihm sein seine seinen seinem seiner seines".split()
)
_PLURAL_PRONOUNS = frozenset("they them their theirs themselves ihnen deren".split())
_THING_PRONOUNS = frozenset("it its itself es dessen".split())
_AMBIGUOUS_PRONOUNS = frozenset("sie ihr ihre ihren ihrem ihrer ihres".split())  # she / they / her / their
_DEMONSTRATIVES = frozenset(
    """this these those dies diese dieser dieses diesen diesem jene jener jenes jenen jenem
    derselbe dieselbe dasselbe""".split()
)
_DA_WORDS = frozenset(
    fold(w)
    for w in """
    darauf damit danach davon dafür dabei dazu darüber daran dadurch dagegen darin daraus dahinter davor daneben
    darunter dazwischen deshalb deswegen daher dort dorthin dann damals
    thereafter therefore afterwards
    """.split()
)
_AT_END_ONLY = frozenset("that there then".split())  # "do that?", "what happened then?"
# "Gibt es ...?", "Wie lange ist es her?", "Is it true that ...?": "es"/"it" stand for nothing said before.
_EXPLETIVE_ES = re.compile(
    r"\b(gibt|gab|geht|ging|handelt|handelte|gebe|gäbe)\s+es\b|\bes\s+(gibt|gab|geht|ging|handelt|her)\b", re.I
)
_EXPLETIVE_IT = re.compile(
    r"\b(is|was|isn't|wasn't)\s+it\s+(true|possible|likely|known|said|reported|expected|clear|the case)\b"
    r"|\bit\s+(is|was)\s+(true|possible|likely|known|said|reported|expected|clear)\b",
    re.I,
)

# Nouns that name an aspect ("the time", "den Zeitraum") rather than a subject.
_ASPECTS = frozenset(
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

_NOUN_SUFFIXES = (
    "ung", "ungen", "heit", "keit", "schaft", "tion", "tionen", "tät", "ismus", "nis", "ment", "chen", "lein",
    "er", "en", "e", "el", "te", "ik", "ur", "ie", "ei", "um", "at", "ät", "ler", "in", "innen", "ten", "ling",
)


@dataclass(frozen=True)
class _Reading:
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


def resolve(question: str, history: History) -> str:
    """The question as it stands on its own, given the earlier turns of a chat.

    Args:
        question: The latest user message.
        history: Earlier turns, oldest first, as ``[{"role": "user" | "assistant", "content": ...}]``;
            only the user turns are used.

    Returns:
        A standalone question built from the previous user turn when ``question``
        is a follow-up; otherwise ``question`` itself (spaces collapsed), also
        when there is no earlier user turn.

    Example:
        >>> resolve("Und wann?", [{"role": "user", "content": "Warum wurde Oesterheld verhaftet?"}])
        'Wann wurde Oesterheld verhaftet?'
    """
    text = " ".join(str(question or "").split())
    previous = _previous_question(history)
    if not text or not previous:
        return text
    return _resolve(text, previous)


def clarification(question: str) -> str | None:
    """A reply asking what ``question`` refers to, when it can't stand alone; else None.

    For questions with nothing to look up: one question word ("Why?", "Wann?",
    "How much?"), or pronouns and question words only ("Und er?", "it",
    "What about them?"). Use it when there is no earlier turn to resolve the
    question against. The reply is in the question's language.
    """
    text = " ".join(str(question or "").split())
    words = [t for t in _WORD.findall(text) if re.match(r"\w", t)]
    if not words or len(words) > 5:
        return None
    referring = [w for i, w in enumerate(words) if _pronoun_kind(w, words, i) is not None]
    function_words = _WH | _WH_AMOUNT | _ASPECTS | STOPWORDS | _ABOUT_WORDS
    leftover = [
        w for w in words
        if w not in referring and fold(w) not in function_words and w.lower() not in _AUX and not _LEAD.match(w)
    ]
    if leftover:
        return None
    lang = "de" if referring and fold(referring[0]) in _GERMAN_REFERRING else language(text)
    if referring:
        cue = referring[0]
        if lang == "de":
            return (
                f"Worauf bezieht sich „{cue}“? Stellen Sie bitte die ganze Frage und nennen Sie, worum es "
                "geht, z. B. „Wann erschien die Serie?“ statt „Wann erschien sie?“."
            )
        return (
            f"What does \u201c{cue}\u201d refer to? Ask the whole question and name what it is about, "
            "e.g. \u201cWhen was the series released?\u201d rather than \u201cWhen was it released?\u201d"
        )
    shown = text if text.endswith("?") else text + "?"
    if lang == "de":
        return (f"„{shown}“ – worauf bezieht sich die Frage? Stellen Sie bitte die ganze Frage, "
                "z. B. „Warum wurde die Serie verlängert?“ statt „Warum?“.")
    return (f"\u201c{shown}\u201d \u2013 about what? Ask the whole question, "
            "e.g. \u201cWhy was the series renewed?\u201d rather than \u201cWhy?\u201d")


_ABOUT_WORDS = frozenset(fold(w) for w in "about mit ist steht sieht es".split())
_GERMAN_REFERRING = frozenset(
    fold(w)
    for w in """er sie es ihn ihm ihr ihre ihren ihrem ihrer ihnen sein seine seinen seinem seiner dessen deren
    dies diese dieser dieses diesen diesem das""".split()
) | _DA_WORDS


# -- the decision ----------------------------------------------------------------------


def _previous_question(history: History) -> str | None:
    """The last user turn, itself resolved against the turns before it."""
    users = [
        " ".join(str(t.get("content") or "").split())
        for t in history or []
        if isinstance(t, dict) and t.get("role") == "user" and str(t.get("content") or "").strip()
    ]
    users = users[-6:]
    while users and clarification(users[0]) is not None:
        users = users[1:]  # "Why?" with nothing before it was asked back, not answered
    if not users:
        return None
    standalone = users[0]
    for turn in users[1:]:
        standalone = _resolve(turn, standalone)
    return standalone


def _resolve(text: str, previous: str) -> str:
    if fold(text) == fold(previous):
        return text
    q, p = _read(text), _read(previous)
    about = _ABOUT.match(text)
    if about:
        return _about(about.group("x"), q, p)
    lead = bool(_LEAD.match(text))
    core = _LEAD.sub("", text).strip() if lead else text
    core_words = [t for t in _WORD.findall(core) if re.match(r"\w", t)]
    if lead and (not core_words or all(_pronoun_kind(w, core_words) for w in core_words)):
        return previous  # "And?" / "Und er?": the same question again
    refs = _references(q, previous)
    rc = _read(core)
    new_names = [n for n in q.names if fold(n) not in fold(previous)]
    if _only_time(core) and not refs:
        return _with_time(rc, p)
    verbless = not any(fold(w) in _WH or w.lower() in _AUX for w in core_words)
    short_and_verbless = len(core_words) <= 3 and verbless
    if _noun_phrase(core_words) or (lead and short_and_verbless and new_names and not refs):
        if new_names and not refs:
            return _about(core, q, p) if lead else text  # "And Sora?" is "What about Sora?"; "Sora?" is new
        return _with_aspect(rc, p, q.lang)  # "And its profit?", "Und die Kosten?"
    if refs:
        return _with_topic(core, refs, q, p)
    if _is_fragment(rc):
        return _with_aspect(rc, p, q.lang)  # "Und wann?", "Over what period?", "How much cheaper?"
    if lead and not new_names:
        return _with_topic(core, refs, q, p)  # "And what annual growth rate is expected?"
    return text  # its own question, or "And what did Eyeline Studios say?" with a subject of its own


def _read(text: str) -> _Reading:
    a = analyze(text)
    tokens = tuple(_WORD.findall(text))
    all_names = _joined_names(text, [_full_name(text, n) for n in a.names])
    names = tuple(n for n in all_names if _identifies(text, n, a.lang))
    folded_names = {w for n in names for w in fold(n).replace("-", " ").split()}
    content = tuple(
        w for w in a.focus
        if w not in _ASPECTS | _WH | _PREPOSITIONS and w not in _AUX and _pronoun_kind(w, ()) is None
    )
    content = tuple(dict.fromkeys([*content, *(w for w in folded_names if w not in STOPWORDS)]))
    return _Reading(text, tokens, a.lang, names, all_names, content, a.years, a.quarters)


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


def _identifies(text: str, name: str, lang: str) -> bool:
    """A name of something (not a German common noun, capitalised as all nouns are)."""
    if lang != "de":
        return True
    if " " in name or re.search(r"\d|.[A-ZÄÖÜ]", name) or name.isupper():
        return True
    if re.search(rf"[„“\"»«‚‘]\s*{re.escape(name)}", text):
        return True
    before = text[: text.find(name)].split()
    if before and fold(before[-1].strip("„“\"(")) in _DETERMINERS:
        return False
    return not fold(name).endswith(_NOUN_SUFFIXES)


def _pronoun_kind(word: str, words: Sequence[str], i: int | None = None) -> str | None:
    """``"person"``, ``"plural"``, ``"thing"`` or ``"any"`` for a referring word, else None."""
    w = fold(word)
    if w == "sein" and i is not None and i == len(words) - 1:
        return None  # "Was könnte das sein?": the verb
    if w in _PERSON_PRONOUNS:
        return "person"
    if w in _PLURAL_PRONOUNS:
        return "plural"
    if w in _THING_PRONOUNS:
        return "thing"
    if w in _AMBIGUOUS_PRONOUNS:
        return "any"
    if w in _DEMONSTRATIVES or w in _DA_WORDS:
        return "thing"
    if w in _AT_END_ONLY and i is not None and i == len(words) - 1:
        return "thing"
    if w == "das" and i is not None:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        after = words[i + 2] if i + 2 < len(words) else ""
        if not nxt or (nxt[:1].islower() and not after[:1].isupper()):
            return "thing"
    return None


def _references(q: _Reading, previous: str = "") -> list[tuple[int, str, str]]:
    """Referring words nothing in the question stands for: ``(position, word, kind)``.

    A name said before the pronoun in the same question is what it stands for
    ("What does Eyeline Studios describe as its mission?"); in German, so is a
    noun before a possessive ("Welche Farbe hat ein Eisbär unter seinem Fell?").
    When the question names something new, only a personal pronoun (he, she,
    er ...) still points back: "How much did it cost to make the Sora clip?"
    uses "it" for what follows.
    """
    words = [t for t in q.tokens if re.match(r"\w", t)]
    new_names = [n for n in q.names if fold(n) not in fold(previous)]
    out = []
    for i, w in enumerate(words):
        kind = _pronoun_kind(w, words, i)
        if kind is None:
            continue
        lw = w.lower()
        if lw == "her" and q.lang == "de":
            continue  # "Wie lange ist es her?"
        if lw == "es" and _EXPLETIVE_ES.search(q.text):
            continue
        if lw == "it" and _EXPLETIVE_IT.search(q.text):
            continue
        if w[:1].isupper() and i > 0 and lw in ("sie", "ihr", "ihre", "ihren", "ihrem", "ihrer", "ihnen"):
            continue  # the polite "Sie"
        earlier = " ".join(words[:i])
        if fold(w) not in _DA_WORDS and any(n in earlier for n in q.names):
            continue
        if q.lang == "de" and _possessive(w) and any(n in earlier for n in q.all_names):
            continue
        if new_names and kind != "person":
            continue
        out.append((i, w, kind))
    return out


def _possessive(word: str) -> bool:
    w = fold(word)
    return w in ("his", "her", "hers", "its", "their", "theirs", "dessen", "deren") or (
        w.startswith(("sein", "ihr")) and w not in ("ihr",)
    )


def _is_bare(q: _Reading) -> bool:
    """Only question words and maybe an aspect: "When?", "Over what period?", "Und die Kosten?"."""
    if q.names or q.years or q.quarters or re.search(r"\d", q.text):
        return False
    return not q.content


def _is_fragment(q: _Reading) -> bool:
    """A question without a verb or a subject of its own: "Und wann?", "How much cheaper?", "And in 2024?"."""
    words = [t for t in q.tokens if re.match(r"\w", t)]
    if not words or any(w.lower() in _AUX for w in words):
        return False
    if _is_bare(q):
        return True
    if q.names or len(words) > 4:
        return False
    starts = fold(words[0])
    asks = starts in _WH or (starts in _PREPOSITIONS and len(words) > 1 and fold(words[1]) in _WH)
    return (asks and len(q.content) <= 1) or _only_time(q.text)


def _noun_phrase(words: Sequence[str]) -> bool:
    """ "Its profit?", "Und die Kosten?": a few words with no question word and no verb we know of."""
    return 0 < len(words) <= 4 and not any(fold(w) in _WH or w.lower() in _AUX for w in words) and bool(
        _pronoun_kind(words[0], words, 0) or fold(words[0]) in _DETERMINERS
    )


def _only_time(text: str) -> bool:
    """ "In 2024?", "Und im dritten Quartal?": only a time to ask the same about."""
    a = analyze(text)
    if not (a.years or a.quarters):
        return False
    rest = [w for w in a.focus if w not in _PREPOSITIONS | _ASPECTS and not re.fullmatch(r"\d+|[qh][1-4]", w)]
    rest = [w for w in rest if not _TIME_WORD.fullmatch(w)]
    return not rest and not [n for n in a.names if not _TIME_WORD.fullmatch(fold(n))]


_TIME_WORD = re.compile(
    r"(erste|zweite|dritte|vierte|first|second|third|fourth)[nms]?|quarter|quartal|half|halfte|halbjahr|jahr"
)


# -- building the standalone question ---------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    head: list[str]
    """The interrogative words: "Which guild", "How much faster", "In welchem Jahr"."""
    asked: list[str]
    """The noun asked for inside the head ("guild", "Jahr"), if any."""
    verb: str | None
    """The auxiliary or finite verb after the head ("did", "wurde"), if any."""
    rest: list[str]
    """Everything after it, without the question mark."""


def _parts(text: str) -> _Parts:
    words = re.sub(r"[?!.]+$", "", _LEAD.sub("", text).strip()).split()
    de = language(text) == "de"
    i = 0
    head: list[str] = []
    asked: list[str] = []
    if len(words) > 2 and fold(words[0]) in _PREPOSITIONS and fold(words[1]) == "to" and fold(words[2]) in _WH:
        head += words[:2]
        i = 2
    elif len(words) > 1 and fold(words[0]) in _PREPOSITIONS and fold(words[1].strip(",")) in _WH:
        head.append(words[0])
        i = 1
    if i < len(words) and fold(words[i].strip(",")) in _WH:
        wh = fold(words[i].strip(","))
        head.append(words[i])
        i += 1
        amount = False
        if wh in ("how", "wie"):
            while i < len(words) and len(head) < 4 and fold(words[i]) in _WH_AMOUNT:
                amount = fold(words[i]) in ("much", "many", "viel", "viele", "vielen")
                head.append(words[i])
                i += 1
        if amount or wh in ("which", "what", "whose", "wessen") or wh.startswith("welch"):
            while i < len(words) and len(asked) < 4:
                w = words[i]
                f = fold(w)
                if w.lower() in _AUX or f in _DETERMINERS:
                    break
                if f in _PREPOSITIONS:
                    # German: "Welches Modell von Google DeepMind erzeugt ...": the phrase runs to the verb.
                    if not (de and asked and _capitalised(words, i + 1)):
                        break
                elif asked and de and not w[:1].isupper() and not _capitalised(words, i + 1):
                    break  # the German verb after the noun
                elif asked and not de and _looks_like_verb(w) and not _aux_within(words, i + 1, 3):
                    # "Which company develops ...", unless an auxiliary follows ("How many data points does")
                    break
                asked.append(w)
                head.append(w)
                i += 1
    verb = None
    if i < len(words):
        w = words[i]
        if w.lower() in _AUX:
            verb = w
        elif head and de and not w[:1].isupper():
            verb = w
        elif head and not de and _looks_like_verb(w):
            verb = w
        elif head and not de and not asked and fold(w) not in _DETERMINERS and w[:1].islower():
            verb = w  # "Who wrote ...", "What happened ..."
        if verb:
            i += 1
    rest = words[i:]
    while rest and fold(rest[0]) in ("es", "it", "there", "da", "man"):
        rest = rest[1:]
    return _Parts(head, asked, verb, rest)


def _capitalised(words: Sequence[str], j: int) -> bool:
    return j < len(words) and words[j][:1].isupper()


def _aux_within(words: Sequence[str], start: int, n: int) -> bool:
    return any(w.lower() in _AUX for w in words[start : start + n])


def _looks_like_verb(word: str) -> bool:
    w = word.lower()
    if w in _AUX:
        return True
    return bool(re.fullmatch(r"[a-z]+(ed|es|s)", w)) and not word[:1].isupper() and w not in STOPWORDS


def _sentence(words: Sequence[str]) -> str:
    text = " ".join(w for w in words if w).strip()
    text = re.sub(r"\s+([,;:])", r"\1", text)
    text = re.sub(r"[?!.,;:\s]+$", "", text)
    return (text[:1].upper() + text[1:] + "?") if text else ""


def _topic(p: _Parts, previous: _Reading) -> str:
    """The previous question's subject as a phrase: "the AI video generation market worth in 2024"."""
    # A main verb stays ("company develops the Veo models"), except after who/what ("wrote the article").
    verb = [p.verb] if p.verb and p.verb.lower() not in _AUX and (p.asked or previous.lang == "de") else []
    words = [*([] if _comparative(p) else p.asked), *verb, *p.rest]
    if not words:
        return ""
    content = [i for i, w in enumerate(words) if _bare_word(w) not in STOPWORDS]
    if len(words) > MAX_TOPIC_WORDS and content:
        words = words[: max(content[min(len(content), MAX_TOPIC_WORDS) - 1] + 1, 1)][:MAX_TOPIC_WORDS]
    return _clean(" ".join(words))


def _bare_word(word: str) -> str:
    return fold(re.sub(r"['’]s$", "", word.strip("„“\"»«,()")))


def _with_aspect(q: _Reading, p: _Reading, lang: str | None = None) -> str:
    """A bare aspect ("Und wann?", "Over what period?", "And the time?") asked about the previous subject."""
    new = re.sub(r"[?!.,\s]+$", "", q.text).strip()
    prev = _parts(p.text)
    subject = _subject(prev, p)
    asks = any(fold(w) in _WH for w in new.split())
    if not asks:
        # "And the time?" / "Und die Kosten?": the aspect is a noun phrase.
        what = "Und" if (lang or q.lang) == "de" else "What about"
        return f"{what} {_lower_first(new)} ({subject})?" if subject else _sentence([what, _lower_first(new)])
    same = (lang or q.lang) == p.lang
    if same and prev.verb and (prev.verb.lower() in _AUX or p.lang == "de") and prev.rest:
        # "How much faster was the AI scene?" + "Why?" -> "Why was the AI scene faster?"
        tail = prev.asked if _comparative(prev) and not q.content else []
        return _sentence([new, prev.verb, *prev.rest, *tail])
    topic = subject if not same else _topic(prev, p)
    if not topic:
        return q.text
    return f"{_sentence([new])[:-1]} ({topic})?"


_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
_TIME = re.compile(
    r"(?:\b(?:in|im|for|für|during|während)\s+)?"
    r"(?:(?:the\s+|dem\s+|der\s+)?"
    r"(?:q[1-4]|[1-4](?:st|nd|rd|th)?\s+quarter|(?:first|second|third|fourth)\s+quarter"
    r"|(?:erste[nm]?|zweite[nm]?|dritte[nm]?|vierte[nm]?)\s+quartal|[1-4]\.\s?quartal)"
    rf"(?:\s+(?:of\s+)?{_YEAR})?"
    rf"|{_YEAR}(?:\s*[-–]\s*{_YEAR})?)\b",
    re.I,
)


def _time_phrases(text: str) -> list[str]:
    """The years and quarters of ``text`` as written ("Q2 2025", "im zweiten Quartal 2025")."""
    return [_TIME_PREPOSITION.sub("", m.group(0)) for m in _TIME.finditer(text)]


_TIME_PREPOSITION = re.compile(r"^(?:in|im|for|für|during|während)\s+", re.I)


def _with_time(q: _Reading, p: _Reading) -> str:
    """ "And in 2024?": the previous question with its time replaced (or added)."""
    new_times = _TIME_PREPOSITION.sub("", re.sub(r"[?!.\s]+$", "", q.text))
    text = re.sub(r"[?!.\s]+$", "", p.text)
    spans = [m.span() for m in _TIME.finditer(text)]
    if spans:
        start, end = spans[0][0], spans[-1][1]
        asked = re.match(r"(in|im|for|für|during|während)\s", q.text, flags=re.I)
        old = re.match(r"(in|im|for|für|during|während)\s", text[start:end], flags=re.I)
        if asked:
            new_times = q.text[: asked.end()] + new_times
        elif old and not re.fullmatch(r"\d{4}", new_times):
            new_times = old.group(0) + new_times
        elif old:
            new_times = ("in " if p.lang != "de" else "") + new_times
        old_year = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text[start:end])
        if q.quarters and not q.years and old_year:
            new_times = f"{new_times} {old_year.group(1)}"
        return _sentence([text[:start] + new_times + text[end:]])
    return _sentence([text, re.sub(r"[?!.\s]+$", "", q.text)])


def _comparative(prev: _Parts) -> bool:
    """The previous head asks "how much faster" ("wie viel schneller"): one comparative word."""
    return bool(prev.head) and fold(prev.head[0]) in ("how", "wie") and len(prev.asked) == 1 and bool(
        re.fullmatch(r"[a-zäöüß]+er", prev.asked[0])
    )


def _subject(prev: _Parts, p: _Reading) -> str:
    """What the previous question was about: the words after its verb, or its topic."""
    if prev.verb and prev.verb.lower() in _AUX and prev.rest:
        return _clean(" ".join(prev.rest))
    return _topic(prev, p)


def _clean(text: str) -> str:
    return re.sub(r"[?!.,;:\s]+$", "", text.replace("(", "").replace(")", "")).strip()


def _about(x: str, q: _Reading, p: _Reading) -> str:
    """ "What about X?": the previous question asked about X instead."""
    x = re.sub(r"[?!.\s]+$", "", x).strip()
    xr = _read(x)
    aspect_only = all(w in _ASPECTS for w in map(fold, x.split()) if w not in STOPWORDS)
    if not (xr.names or xr.content) or (not xr.names and aspect_only):
        return _with_aspect(xr, p)  # "What about the cost?"
    if p.names:
        old = p.names[0]
        # With a trailing number ("Veo 2") and the names joined to it ("Disney and NBCUniversal").
        joined = r"(?:\s+\d+)?(?:\s+(?:and|und|&)\s+[A-ZÄÖÜ][\w-]*(?:\s+\d+)?)*"
        m = re.search(re.escape(old) + joined, p.text)
        if m:
            return p.text[: m.start()] + x + p.text[m.end():]
    prev = _parts(p.text)
    if prev.head:
        return _sentence([*prev.head, *([prev.verb] if prev.verb else []), x])
    return f"{re.sub(r'[?!.]+$', '', p.text)} ({x})?"


def _with_topic(core: str, refs: list[tuple[int, str, str]], q: _Reading, p: _Reading) -> str:
    """A follow-up with words of its own ("And when was it published?").

    A pronoun that stands for a person (or for names joined by "and") is
    replaced by them; otherwise the previous subject is added in brackets.
    """
    prev = _parts(p.text)
    words = [t for t in q.tokens if re.match(r"\w", t)]
    lead_words = len(words) - len([t for t in _WORD.findall(core) if re.match(r"\w", t)])
    text = core
    replaced: str | bool = False
    entity_for = _entities(p)
    unresolved = []
    for i, w, kind in sorted(refs, key=lambda r: r[0]):
        if kind == "any":
            entity = entity_for.get("plural") or entity_for.get("person")
        elif kind == "thing":
            # "its revenue" is Netflix's; "it" may be the revenue itself, so it keeps the topic instead.
            entity = entity_for.get("thing") if fold(w) in ("its", "dessen") else None
        else:
            entity = entity_for.get(kind)
        if entity and not replaced and i >= lead_words and fold(entity) not in fold(core):
            new = _substitute(text, w, entity, q.lang, p.text)
            if new != text:
                text, replaced = new, kind
                continue
        if replaced and (kind == replaced or (kind == "any" and replaced == "person")):
            continue  # "his daughters ... his arrest": the same person again
        unresolved.append(w)
    text = _sentence([text])
    now = _read(text)
    carried = [w for w in p.content if w not in now.content]
    missing_time = []
    if not (q.years or q.quarters):
        missing_time = [y for y in (*p.years, *p.quarters) if y not in fold(text)]
    if replaced and not unresolved:
        times = _time_phrases(p.text) if missing_time else []
        return f"{text[:-1]} ({', '.join(times)})?" if times else text
    topic = _topic(prev, p)
    if not topic or (not carried and not missing_time):
        return text
    if not carried and missing_time:
        topic = ", ".join(_time_phrases(p.text)) or topic
    return f"{text[:-1]} ({topic})?"


def _entities(p: _Reading) -> dict[str, str]:
    """What a pronoun can stand for in the previous question: a person's name, names joined by "and"."""
    out: dict[str, str] = {}
    prev_parts = _parts(p.text)
    # "Ted Sarandos", "Héctor Germán Oesterheld": two or more plain capitalised words.
    people = [
        n for n in p.names
        if re.fullmatch(r"[A-ZÄÖÜ][\w’'-]+(?:\s+[A-ZÄÖÜ][\w’'-]+)+", n)
        and not any(re.search(r".[A-Z]", w) for w in n.split())
    ]
    singles = [n for n in p.names if n not in people]
    if len(people) == 1:
        out["person"] = people[0]
    elif not people and len(p.names) == 1 and not p.names[0].isupper():
        out["person"] = p.names[0]
    for a, b in zip(p.all_names, p.all_names[1:]):
        joined = re.search(rf"{re.escape(a)}\s+(?:and|und|&)\s+{re.escape(b)}", p.text)
        if joined:
            out["plural"] = joined.group(0)
            break
    # "its revenue" after "What was Netflix's revenue?" (not after "Which company ...?": that one is the answer).
    asks_who = bool(prev_parts.head) and fold(prev_parts.head[-1]) in ("who", "wer", "wen", "wem")
    asked_entity = bool(prev_parts.asked) or asks_who
    if len(singles) == 1 and not asked_entity:
        out["thing"] = singles[0]
    return out


def _substitute(text: str, word: str, entity: str, lang: str, prev_text: str = "") -> str:
    """``text`` with the first ``word`` replaced by ``entity``; possessives become genitives.

    "his daughters" -> "Héctor Germán Oesterheld's daughters", "seine Rolle" ->
    "Sarandos’ Rolle"; "sie" -> "die KI-Szene" when the earlier question said "die".
    """
    if _possessive(word):
        if lang == "de":
            replacement = entity + ("’" if entity[-1:] in "sxzß" else "s")
        else:
            replacement = entity + ("'" if entity.endswith("s") else "'s")
    else:
        replacement = entity
        article = re.search(rf"\b(der|die|das|the)\s+{re.escape(entity)}", prev_text, flags=re.I)
        if article and fold(word) in ("er", "sie", "es", "it"):
            replacement = f"{article.group(1).lower()} {entity}"
    return re.sub(rf"(?<![\w]){re.escape(word)}(?![\w])", replacement, text, count=1)


def _lower_first(text: str) -> str:
    words = text.split()
    if words and fold(words[0]) in _DETERMINERS:
        words[0] = words[0].lower()
    return " ".join(words)
