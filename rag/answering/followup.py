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
and the word lists of ``rag.answering.followup_words``); nothing knows the
articles. ``followup_cues`` reads a question, ``followup_rewrite`` writes the
standalone one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answering.followup_cues import is_fragment, noun_phrase, only_time, pronoun_kind, read, references
from rag.answering.followup_rewrite import about_instead, with_aspect, with_time, with_topic
from rag.answering.followup_words import (
    ABOUT,
    ABOUT_WORDS,
    ASPECTS,
    AUX,
    GERMAN_REFERRING,
    LEAD,
    WH,
    WH_AMOUNT,
    WORD,
)
from rag.answering import spans
from rag.answering.question import analyze, language
from rag.text import STOPWORDS, fold

History = Sequence[dict[str, str]]


def previous_answer(history: History) -> str | None:
    """The bot's last answer in ``history``, if any."""
    said = [str(t.get("content") or "") for t in history if t.get("role") == "assistant"]
    return said[-1] if said else None


def resolve(question: str, history: History) -> str:
    """The question as it stands on its own, given the earlier turns of a chat.

    Args:
        question: The latest user message.
        history: Earlier turns, oldest first, as ``[{"role": "user" | "assistant", "content": ...}]``.
            The user turns are read, and after a "who" question the person the bot's
            answer named ("Und welche Position hat er?" after "Wer verkündet …?").

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
    return _resolve(text, previous, _person_answered(previous, previous_answer(history)))


def _person_answered(question: str, answer: str | None) -> str | None:
    """The person the bot's answer to a "who" question named first."""
    if not answer or analyze(question).kind != "person":
        return None
    found = spans.find(answer, "person")
    return found[0].normalized if found else None


def clarification(question: str) -> str | None:
    """A reply asking what ``question`` refers to, when it can't stand alone; else None.

    For questions with nothing to look up: one question word ("Why?", "Wann?",
    "How much?"), or pronouns and question words only ("Und er?", "it",
    "What about them?"). Use it when there is no earlier turn to resolve the
    question against. The reply is in the question's language.
    """
    text = " ".join(str(question or "").split())
    words = [t for t in WORD.findall(text) if re.match(r"\w", t)]
    if not words or len(words) > 5:
        return None
    referring = [w for i, w in enumerate(words) if pronoun_kind(w, words, i) is not None]
    function_words = WH | WH_AMOUNT | ASPECTS | STOPWORDS | ABOUT_WORDS
    leftover = [
        w for w in words
        if w not in referring and fold(w) not in function_words and w.lower() not in AUX and not LEAD.match(w)
    ]
    if leftover:
        return None
    lang = "de" if referring and fold(referring[0]) in GERMAN_REFERRING else language(text)
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


def _previous_question(history: History) -> str | None:
    """The last user turn, itself resolved against the turns before it (and their answers)."""
    turns: list[list[str]] = []  # [question, the bot's answer to it (or "")]
    for t in history or []:
        if not isinstance(t, dict) or not str(t.get("content") or "").strip():
            continue
        content = " ".join(str(t.get("content")).split())
        if t.get("role") == "user":
            turns.append([content, ""])
        elif t.get("role") == "assistant" and turns:
            turns[-1][1] = content
    turns = turns[-6:]
    while turns and clarification(turns[0][0]) is not None:
        turns = turns[1:]  # "Why?" with nothing before it was asked back, not answered
    if not turns:
        return None
    standalone = turns[0][0]
    for (turn, _), (_, answer) in zip(turns[1:], turns, strict=False):
        standalone = _resolve(turn, standalone, _person_answered(standalone, answer))
    return standalone


def _resolve(text: str, previous: str, answered: str | None = None) -> str:
    if fold(text) == fold(previous):
        return text
    q, p = read(text), read(previous)
    about = ABOUT.match(text)
    if about:
        return about_instead(about.group("x"), q, p)
    lead = bool(LEAD.match(text))
    core = LEAD.sub("", text).strip() if lead else text
    core_words = [t for t in WORD.findall(core) if re.match(r"\w", t)]
    if lead and (not core_words or all(pronoun_kind(w, core_words) for w in core_words)):
        return previous  # "And?" / "Und er?": the same question again
    refs = references(q, previous)
    rc = read(core)
    new_names = [n for n in q.names if fold(n) not in fold(previous)]
    if only_time(core) and not refs:
        return with_time(rc, p)
    verbless = not any(fold(w) in WH or w.lower() in AUX for w in core_words)
    short_and_verbless = len(core_words) <= 3 and verbless
    if noun_phrase(core_words) or (lead and short_and_verbless and new_names and not refs):
        if new_names and not refs:
            # "And Sora?" is "What about Sora?"; "Sora?" is new
            return about_instead(core, q, p) if lead else text
        return with_aspect(rc, p, q.lang)  # "And its profit?", "Und die Kosten?"
    if refs:
        return with_topic(core, refs, q, p, answered)
    if is_fragment(rc):
        return with_aspect(rc, p, q.lang)  # "Und wann?", "Over what period?", "How much cheaper?"
    if lead and (not new_names or len(new_names) < len(q.names)):
        # "And what annual growth rate is expected?"; "Und was bietet Veo 3 …?" after "… der Veo-Serie?"
        return with_topic(core, refs, q, p)
    return text  # its own question, or "And what did Eyeline Studios say?" with a subject of its own
