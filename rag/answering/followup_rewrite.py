"""A follow-up written out in full from the previous user turn.

The previous question is cut into its parts (question words, verb, the rest)
and its subject, names or time are carried into the new question:
``with_aspect`` ("Und wann?"), ``with_time`` ("And in 2024?"),
``about_instead`` ("What about Sora?") and ``with_topic`` ("And when was it
published?").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.followup_cues import Reading, possessive, read
from rag.answering.followup_words import (
    ASPECTS,
    AUX,
    DETERMINERS,
    LEAD,
    PREPOSITIONS,
    TIME,
    TIME_PREPOSITION,
    WH,
    WH_AMOUNT,
    WORD,
)
from rag.answering.question import language
from rag.text import STOPWORDS, fold

_GENITIVE = re.compile(r"(sein|ihr|ein|dies|jed|unser|eur|mein|dein)es|des")
MAX_TOPIC_WORDS = 14
"""A carried topic longer than this is cut to its first content words."""


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
    words = re.sub(r"[?!.]+$", "", LEAD.sub("", text).strip()).split()
    de = language(text) == "de"
    i = 0
    head: list[str] = []
    asked: list[str] = []
    if len(words) > 2 and fold(words[0]) in PREPOSITIONS and fold(words[1]) == "to" and fold(words[2]) in WH:
        head += words[:2]
        i = 2
    elif len(words) > 1 and fold(words[0]) in PREPOSITIONS and fold(words[1].strip(",")) in WH:
        head.append(words[0])
        i = 1
    if i < len(words) and fold(words[i].strip(",")) in WH:
        wh = fold(words[i].strip(","))
        head.append(words[i])
        i += 1
        amount = False
        if wh in ("how", "wie"):
            while i < len(words) and len(head) < 4 and fold(words[i]) in WH_AMOUNT:
                amount = fold(words[i]) in ("much", "many", "viel", "viele", "vielen")
                head.append(words[i])
                i += 1
        if amount or wh in ("which", "what", "whose", "wessen") or wh.startswith("welch"):
            while i < len(words) and len(asked) < 4:
                w = words[i]
                f = fold(w)
                if w.lower() in AUX or f in DETERMINERS:
                    break
                if f in PREPOSITIONS:
                    # German: "Welches Modell von Google DeepMind erzeugt ...": the phrase runs to the verb.
                    if not (de and asked and _capitalised(words, i + 1)):
                        break
                elif asked and de and not w[:1].isupper() and not (_capitalised(words, i + 1) and _GENITIVE.fullmatch(f)):
                    break  # the German verb after the noun ("Welche Verbindung nutzt Netflix"), not "seines Umsatzes"
                elif asked and not de and _looks_like_verb(w) and not _aux_within(words, i + 1, 3):
                    # "Which company develops ...", unless an auxiliary follows ("How many data points does")
                    break
                asked.append(w)
                head.append(w)
                i += 1
    verb = None
    if i < len(words):
        w = words[i]
        if w.lower() in AUX:
            verb = w
        elif head and de and not w[:1].isupper():
            verb = w
        elif head and not de and _looks_like_verb(w):
            verb = w
        elif head and not de and not asked and fold(w) not in DETERMINERS and w[:1].islower():
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
    return any(w.lower() in AUX for w in words[start : start + n])


def _looks_like_verb(word: str) -> bool:
    w = word.lower()
    if w in AUX:
        return True
    return bool(re.fullmatch(r"[a-z]+(ed|es|s)", w)) and not word[:1].isupper() and w not in STOPWORDS


def _sentence(words: Sequence[str]) -> str:
    text = " ".join(w for w in words if w).strip()
    text = re.sub(r"\s+([,;:])", r"\1", text)
    text = re.sub(r"[?!.,;:\s]+$", "", text)
    return (text[:1].upper() + text[1:] + "?") if text else ""


def _topic(p: _Parts, previous: Reading) -> str:
    """The previous question's subject as a phrase: "the AI video generation market worth in 2024"."""
    # A main verb stays ("company develops the Veo models"), except after who/what ("wrote the article").
    verb = [p.verb] if p.verb and p.verb.lower() not in AUX and (p.asked or previous.lang == "de") else []
    words = [*([] if _comparative(p) else p.asked), *verb, *p.rest]
    if not words:
        return ""
    content = [i for i, w in enumerate(words) if _bare_word(w) not in STOPWORDS]
    if len(words) > MAX_TOPIC_WORDS and content:
        words = words[: max(content[min(len(content), MAX_TOPIC_WORDS) - 1] + 1, 1)][:MAX_TOPIC_WORDS]
    return _clean(" ".join(words))


def _bare_word(word: str) -> str:
    return fold(re.sub(r"['’]s$", "", word.strip("„“\"»«,()")))


def with_aspect(q: Reading, p: Reading, lang: str | None = None) -> str:
    """A bare aspect ("Und wann?", "Over what period?", "And the time?") asked about the previous subject."""
    new = re.sub(r"[?!.,\s]+$", "", q.text).strip()
    prev = _parts(p.text)
    subject = _subject(prev, p)
    asks = any(fold(w) in WH for w in new.split())
    if not asks:
        # "And the time?" / "Und die Kosten?": the aspect is a noun phrase.
        what = "Und" if (lang or q.lang) == "de" else "What about"
        return f"{what} {_lower_first(new)} ({subject})?" if subject else _sentence([what, _lower_first(new)])
    same = (lang or q.lang) == p.lang
    if same and prev.verb and (prev.verb.lower() in AUX or p.lang == "de") and prev.rest:
        # "How much faster was the AI scene?" + "Why?" -> "Why was the AI scene faster?"
        # "… faster" of a comparative, "Welche Verbindung nutzt Netflix?" + "Wozu?": the connection it uses
        tail = prev.asked if not q.content else []
        return _sentence([new, prev.verb, *prev.rest, *tail])
    topic = subject if not same else _topic(prev, p)
    if not topic:
        return q.text
    return f"{_sentence([new])[:-1]} ({topic})?"



def _time_phrases(text: str) -> list[str]:
    """The years and quarters of ``text`` as written ("Q2 2025", "im zweiten Quartal 2025")."""
    return [TIME_PREPOSITION.sub("", m.group(0)) for m in TIME.finditer(text)]


def with_time(q: Reading, p: Reading) -> str:
    """ "And in 2024?": the previous question with its time replaced (or added)."""
    new_times = TIME_PREPOSITION.sub("", re.sub(r"[?!.\s]+$", "", q.text))
    text = re.sub(r"[?!.\s]+$", "", p.text)
    spans = [m.span() for m in TIME.finditer(text)]
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


def _subject(prev: _Parts, p: Reading) -> str:
    """What the previous question was about: the words after its verb, or its topic."""
    if prev.verb and prev.verb.lower() in AUX and prev.rest:
        return _clean(" ".join(prev.rest))
    return _topic(prev, p)


def _clean(text: str) -> str:
    return re.sub(r"[?!.,;:\s]+$", "", text.replace("(", "").replace(")", "")).strip()


def about_instead(x: str, q: Reading, p: Reading) -> str:
    """ "What about X?": the previous question asked about X instead."""
    x = re.sub(r"[?!.\s]+$", "", x).strip()
    xr = read(x)
    aspect_only = all(w in ASPECTS for w in map(fold, x.split()) if w not in STOPWORDS)
    if not (xr.names or xr.content) or (not xr.names and aspect_only):
        return with_aspect(xr, p)  # "What about the cost?"
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


def with_topic(
    core: str, refs: list[tuple[int, str, str]], q: Reading, p: Reading, answered: str | None = None
) -> str:
    """A follow-up with words of its own ("And when was it published?").

    A pronoun that stands for a person (or for names joined by "and") is
    replaced by them; otherwise the previous subject is added in brackets.
    ``answered``: the person the answer to a previous "who" question named; "he"
    or "she" stands for them when that question names no person itself.
    """
    prev = _parts(p.text)
    words = [t for t in q.tokens if re.match(r"\w", t)]
    lead_words = len(words) - len([t for t in WORD.findall(core) if re.match(r"\w", t)])
    text = core
    replaced: str | bool = False
    entity_for = _entities(p)
    if answered and not _people(p):
        entity_for["person"] = answered  # "Who wrote the article?" asked for the person answered
    unresolved = []
    replaced_asked = False
    for i, w, kind in sorted(refs, key=lambda r: r[0]):
        if kind == "any":
            entity = entity_for.get("plural") or entity_for.get("person")
        elif kind == "thing":
            # "its revenue" is Netflix's; "it" may be the revenue itself, so it keeps the topic instead.
            entity = entity_for.get("thing") if fold(w) in ("its", "dessen") else None
            if fold(w) in ("these", "those", "diese"):
                entity = entity_for.get("plural")
        else:
            entity = entity_for.get(kind)
        if entity and not replaced and i >= lead_words and fold(entity) not in fold(core):
            new = _substitute(text, w, entity, q.lang, p.text)
            if new != text:
                text, replaced = new, kind
                replaced_asked = entity == entity_for.get("asked")  # the rest of that question is context
                continue
        if replaced and (kind == replaced or (kind == "any" and replaced == "person")):
            continue  # "his daughters ... his arrest": the same person again
        unresolved.append(w)
    text = _sentence([text])
    now = read(text)
    carried = [w for w in p.content if w not in now.content]
    missing_time = []
    if not (q.years or q.quarters):
        missing_time = [y for y in (*p.years, *p.quarters) if y not in fold(text)]
    if replaced and not unresolved and not replaced_asked:
        times = _time_phrases(p.text) if missing_time else []
        return f"{text[:-1]} ({', '.join(times)})?" if times else text
    topic = _topic(prev, p)
    if not topic or (not carried and not missing_time):
        return text
    if not carried and missing_time:
        topic = ", ".join(_time_phrases(p.text)) or topic
    return f"{text[:-1]} ({topic})?"


def _people(p: Reading) -> list[str]:
    """"Ted Sarandos", "Héctor Germán Oesterheld": two or more plain capitalised words."""
    return [
        n for n in p.names
        if re.fullmatch(r"[A-ZÄÖÜ][\w’'-]+(?:\s+[A-ZÄÖÜ][\w’'-]+)+", n)
        and not any(re.search(r".[A-Z]", w) for w in n.split())
    ]


def _entities(p: Reading) -> dict[str, str]:
    """What a pronoun can stand for in the previous question: a person's name, names joined by "and"."""
    out: dict[str, str] = {}
    prev_parts = _parts(p.text)
    people = _people(p)
    singles = [n for n in p.names if n not in people]
    if len(people) == 1:
        out["person"] = people[0]
    elif not people and len(p.names) == 1 and not p.names[0].isupper():
        out["person"] = p.names[0]
    asked = _asked_plural(prev_parts, p.lang)
    if asked:
        out["plural"] = out["asked"] = asked  # "Which alternatives to Veo and Sora …?" -> "And are they …?"
    for a, b in zip(p.all_names, p.all_names[1:]):
        joined = re.search(rf"{re.escape(a)}\s+(?:and|und|&)\s+{re.escape(b)}", p.text)
        if joined and "plural" not in out:
            out["plural"] = joined.group(0)
            break
    # "its revenue" after "What was Netflix's revenue?" (not after "Which company ...?": that one is the answer).
    asks_who = bool(prev_parts.head) and fold(prev_parts.head[-1]) in ("who", "wer", "wen", "wem")
    asked_entity = bool(prev_parts.asked) or asks_who
    if len(singles) == 1 and not asked_entity:
        out["thing"] = singles[0]
    return out


def _asked_plural(prev: _Parts, lang: str) -> str | None:
    """The things a "which …" question asked for, when they are many: "the alternatives to Veo and Sora"."""
    wh = fold(prev.head[0]) if prev.head else ""
    if not prev.asked or (wh not in ("which", "what") and not wh.startswith("welch")):
        return None
    noun = fold(prev.asked[-1] if lang != "de" else prev.asked[0])
    if lang == "de":
        if not wh.startswith("welch") or not noun.endswith(("en", "e", "er", "s", "n")):
            return None
        return "die " + " ".join(prev.asked)
    if not re.fullmatch(r"[a-z]+[^s]s", noun):
        return None
    tail = []
    if prev.verb is None:
        for w in prev.rest:
            if w.lower() in AUX or len(tail) == 6:
                break
            tail.append(w)
    return "the " + " ".join([*prev.asked, *tail])


def _substitute(text: str, word: str, entity: str, lang: str, prev_text: str = "") -> str:
    """``text`` with the first ``word`` replaced by ``entity``; possessives become genitives.

    "his daughters" -> "Héctor Germán Oesterheld's daughters", "seine Rolle" ->
    "Sarandos’ Rolle"; "sie" -> "die KI-Szene" when the earlier question said "die".
    """
    if possessive(word):
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
    if words and fold(words[0]) in DETERMINERS:
        words[0] = words[0].lower()
    return " ".join(words)
