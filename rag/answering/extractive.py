"""The extractive answerer: quote the sentences that answer, and cite them."""

from __future__ import annotations

import re
import unicodedata

from rag.answering import about, spans
from rag.answering.citations import cite
from rag.answering.judge import Judgement, Weights, default_weights, judge
from rag.answering.values import typed_values
from rag.answering.question import QuestionAnalysis, analyze
from rag.retrieval.retriever import Hits, SentenceHit
from rag.text import STOPWORDS, cognate, fold, terms
from rag.types import Answer, AnswerSpan

MAX_QUOTES = 2
# Kinds whose value is shown before the quote. Places and organisations are found by
# capitalisation, which every German noun shares: 0 of 5 such values were right on the
# training sets (qa_train, calibration, dev), so those answers show the quote alone.
SPAN_KINDS = ("person", "date", "number", "duration")
CONTINUATION_SENTENCES = 4
CONTINUATION_CHARS = 400

UNSUPPORTED = ("I can answer questions in English or German; please ask in one of them. "
               "(Ich beantworte Fragen auf Englisch oder Deutsch.)")
DECLINE = {
    "en": "The articles don't cover this question.",
    "de": "Dazu steht nichts in den Artikeln.",
}

_GERMAN_HINTS = re.compile(r"[äöüß]|\b(der|die|das|und|ist|wie|wann|wer|was|welche[rsn]?|warum|nicht|wurde|ein|eine)\b", re.I)
_ENGLISH_HINTS = re.compile(r"\b(the|and|is|how|when|who|what|which|why|did|does|was|were|of|a|an)\b", re.I)


def language(text: str) -> str:
    """``"de"`` or ``"en"``, by a count of telltale words; English when unsure."""
    return "de" if len(_GERMAN_HINTS.findall(text)) > len(_ENGLISH_HINTS.findall(text)) else "en"


def decline(question: str, evidence: dict | None = None) -> Answer:
    """The short "not in the articles" answer, with no citations."""
    return Answer(question=question, text=DECLINE[language(question)], abstained=True, sources=[], evidence=evidence)


def in_latin_script(question: str) -> bool:
    """Mostly Latin letters: English, German and their neighbours, which the word matching
    and the answer spans are built for. Other scripts are declined rather than guessed at."""
    letters = [ch for ch in unicodedata.normalize("NFKC", question) if ch.isalpha()]
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return not letters or latin / len(letters) >= 0.5


def extractive_answer(question: str, hits: Hits, previous: str | None = None, weights: Weights | None = None) -> Answer:
    """Quote the best one or two sentences from the retrieved passages.

    ``previous`` is the bot's answer to the turn before, when ``question`` is a follow-up
    resolved from it (the judge weighs what it quoted). ``weights`` are the judge's
    (default: the shipped ones).

    The evidence judge (``rag.answering.judge``) orders the sentences and says whether
    the best one answers; if it doesn't, the answer is a decline. A second sentence is
    added only when the judge ranks it nearly as high and it says something the first doesn't.
    """
    if not in_latin_script(question):
        return Answer(question=question, text=UNSUPPORTED, abstained=True, sources=[])
    asked = analyze(question)
    if about.applies(asked, hits):
        found = about.answer(asked, hits)
        found.question = question
        return found
    if hits.abstain or not hits.sentences:
        return decline(question)
    weights = weights or default_weights()
    judged = judge(question, hits, weights, threshold=hits.threshold, previous=previous)
    lead = judged[0]
    evidence = _evidence(lead)
    if not lead.answers:
        return decline(question, evidence)
    margin = weights.second_quote
    picked = [lead] + [j for j in judged[1:MAX_QUOTES]
                       if lead.score - j.score <= margin and not _similar(j.sentence.text, lead.sentence.text)]
    picked.sort(key=lambda j: (j.sentence.rank, j.sentence.char_start))
    chosen = [j.sentence for j in picked]
    citations = [cite(n, s.passage, s.char_start, _continued_end(s, hits.sentences), j.probability)
                 for n, (j, s) in enumerate(zip(picked, chosen, strict=True), 1)]
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    span = answer_span(question, lead.sentence, chosen)
    if span is not None:
        text = f"{span.normalized} — {text}"
    quoted = language(" ".join(c.quote for c in citations))
    return Answer(
        question=question,
        text=text,
        citations=citations,
        sources=hits.passages,
        abstained=False,
        span=span,
        quote_language=quoted if quoted != language(question) else None,
        evidence=evidence,
    )


def _evidence(j: Judgement) -> dict:
    return {"verdict": j.verdict, "probability": round(j.probability, 4), "reasons": list(j.reasons)}


def answer_span(question: str, lead: SentenceHit, chosen: list[SentenceHit]) -> AnswerSpan | None:
    """The value a typed question asks for (a number, date, name) inside the best sentence.

    Values the question already holds don't count; of several, the one nearest
    the question's own words is taken.
    """
    q = analyze(question)
    if q.kind not in SPAN_KINDS:
        return None
    found = typed_values(q, lead.text)
    if not found:
        return None
    folded = fold(lead.text)
    kin = cognate(folded)
    anchors = [m for t in q.focus if (m := kin.find(cognate(t[:5]))) >= 0]
    best = min(found, key=lambda s: min((abs((s.start + s.end) / 2 - a) for a in anchors), default=s.start))
    n = next(i for i, s in enumerate(chosen, 1) if s is lead)
    return AnswerSpan(best.text, best.normalized, best.kind, n, lead.char_start + best.start, lead.char_start + best.end)


def _continued_end(s: SentenceHit, sentences: list[SentenceHit]) -> int:
    """Where a quote should end: a sentence that ends with ":" runs on into the
    lines it introduces (a list, a quote), within the same passage."""
    end = s.char_end
    if not s.text.rstrip().endswith(":"):
        return end
    following = sorted((x for x in sentences if x.passage.id == s.passage.id and x.char_start >= end),
                       key=lambda x: x.char_start)
    for x in following[:CONTINUATION_SENTENCES]:
        if x.char_end - s.char_start > CONTINUATION_CHARS:
            break
        end = x.char_end
    return end


def _similar(a: str, b: str) -> bool:
    ta, tb = set(terms(a)) - STOPWORDS, set(terms(b)) - STOPWORDS
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) > 0.6
