"""Questions about an article itself: its headline, who wrote it, when and where it appeared.

Ingest reads these fields from the file (``ingest.metadata``) and stores them with
every passage. The answer names the field and quotes the line of the article that
states it, so it is cited like any other answer; an article that doesn't state the
field gets a decline that says so.
"""

from __future__ import annotations

import re

from ingest.metadata import DATE, iso_date
from rag.answering.question import QuestionAnalysis
from rag.answering.citations import cite
from rag.retrieval.retriever import Hits, SentenceHit
from rag.text import fold
from rag.types import Answer, AnswerSpan, Passage

_ARTICLE = re.compile(
    r"\b(article|articles|artikel\w*|beitrag\w*|bericht\w*|report|post|blog|story|piece|meldung|text|summary|recap"
    r"|zusammenfassung)\b", re.I
)

NOT_STATED = {
    "sources": {"en": "The article “{title}” lists no sources.",
                "de": "Der Artikel „{title}“ nennt keine Quellen."},
    "credit": {"en": "The article “{title}” doesn't credit a picture.",
               "de": "Der Artikel „{title}“ nennt zu keinem Bild eine Quelle."},
    "title": {"en": "The article doesn't state a headline.", "de": "Der Artikel nennt keine Überschrift."},
    "author": {"en": "The article “{title}” doesn't name its author.",
               "de": "Der Artikel „{title}“ nennt keinen Autor."},
    "date": {"en": "The article “{title}” doesn't give its publication date.",
             "de": "Der Artikel „{title}“ nennt kein Veröffentlichungsdatum."},
    "outlet": {"en": "The article “{title}” doesn't name the outlet it appeared in.",
               "de": "Der Artikel „{title}“ nennt kein Medium, in dem er erschien."},
}


_ASKS = {"sources": ("list", "description", "organisation"), "credit": ("person", "organisation", "description"),
         "title": ("description",), "author": ("person",), "date": ("date",), "outlet": ("organisation",)}
_SPAN_KIND = {"title": "description", "author": "person", "date": "date", "outlet": "organisation"}
_CREDIT = re.compile(r"^(?:bild|foto|photo|image|picture|credit)\s*:\s*(?P<who>\S.{0,60})$", re.I)
_SOURCES_LABEL = re.compile(r"^(?:quellen?(?:angaben?)?|sources?|references|links)\s*:?\s*$", re.I)
_SOURCE = re.compile(r"https?://|www\.|^[\w.-]+\.(?:de|net|com|org|ai|io|ch|at|uk)\s+[–-]\s", re.I)
"""A link, or an "outlet.de – title" line."""
MAX_SOURCES = 10


def applies(q: QuestionAnalysis, hits: Hits) -> bool:
    """The question asks for an article's headline, author, date or outlet (not, say, what its
    author did), and names an article ("the TechCrunch article"), not a book or a film."""
    if q.about is None or q.kind not in _ASKS[q.about] or not hits.passages or hits.article is None:
        return False
    if q.about == "credit":
        return True  # a picture's credit is the article's own
    return bool(_ARTICLE.search(q.text)) or target(q, hits.passages) is not hits.passages[0]


def target(q: QuestionAnalysis, passages: list[Passage]) -> Passage:
    """The article the question means: the one whose outlet or author it names, else the
    one whose passages hold most of the names it gives ("the article citing the BBC"),
    else the best match."""
    asked = fold(q.text)
    for p in passages:
        if any(value and fold(value) in asked for value in (p.outlet, p.author)):
            return p
    names = [fold(n) for n in q.names]
    mentions: dict[str, int] = {}
    for p in passages:
        text = fold(p.text)
        mentions[p.file] = max(mentions.get(p.file, 0), sum(n in text for n in names))
    best = max(mentions.values(), default=0)
    return next(p for p in passages if mentions[p.file] == best)


def answer(q: QuestionAnalysis, hits: Hits) -> Answer:
    """Name the field and quote the line that states it, or say the article doesn't."""
    article = target(q, hits.passages)
    if q.about in ("sources", "credit"):
        return _listed(q, article, hits)
    value = {"title": article.title.removesuffix(" …"), "author": article.author, "date": article.published,
             "outlet": article.outlet}[q.about]
    found = _stating(q.about, value, hits.article(article.file)) if value else None
    if found is None:
        title = article.title or article.file
        return Answer(question=q.text, text=NOT_STATED[q.about][q.lang].format(title=title), abstained=True, sources=[])
    sentence, start, end = found
    citation = cite(1, sentence.passage, sentence.char_start, sentence.char_end, 1.0)
    normalized = value
    if q.about == "title":
        start, end = 0, len(sentence.text)  # the headline line itself
        normalized = sentence.text
    elif q.about == "date":
        normalized = iso_date(sentence.text[start:end]) or value
    span = AnswerSpan(sentence.text[start:end], normalized, _SPAN_KIND[q.about], 1,
                      sentence.char_start + start, sentence.char_start + end)
    return Answer(
        question=q.text,
        text=f"{citation.quote} [1]" if q.about == "title" else f"{normalized} — {citation.quote} [1]",
        citations=[citation],
        sources=[sentence.passage, *(p for p in hits.passages if p.id != sentence.passage.id)],
        abstained=False,
        span=span,
    )


def _stating(about: str, value: str, sentences: list[SentenceHit]) -> tuple[SentenceHit, int, int] | None:
    """The first sentence of the article that states ``value``, with the value's offsets in it."""
    for s in sentences:
        text = s.text
        if about == "date":
            m = next((m for m in DATE.finditer(text) if iso_date(m.group(0)) == value), None)
            if m:
                return s, m.start(), m.end()
            continue
        at = text.lower().find(value.lower())
        if at >= 0:
            return s, at, at + len(value)
    return None


def _listed(q: QuestionAnalysis, article: Passage, hits: Hits) -> Answer:
    """The article's source lines (or its picture credit), each quoted and cited."""
    sentences = hits.article(article.file)
    if q.about == "credit":
        found = [s for s in sentences if _CREDIT.match(s.text.strip())]
    else:
        found = _source_lines(sentences)
    if not found:
        title = article.title or article.file
        return Answer(question=q.text, text=NOT_STATED[q.about][q.lang].format(title=title), abstained=True, sources=[])
    citations = [cite(n, s.passage, s.char_start, s.char_end, 1.0) for n, s in enumerate(found[:MAX_SOURCES], 1)]
    span = None
    if q.about == "credit":
        m = _CREDIT.match(found[0].text.strip())
        offset = found[0].text.index(m.group("who"))
        span = AnswerSpan(m.group("who"), m.group("who"), "organisation", 1, found[0].char_start + offset,
                          found[0].char_start + offset + len(m.group("who")))
    passages = list(dict.fromkeys(s.passage for s in found[:MAX_SOURCES]))
    return Answer(
        question=q.text,
        text="\n".join(f"{c.quote} [{c.n}]" for c in citations),
        citations=citations,
        sources=[*passages, *(p for p in hits.passages if p not in passages)],
        abstained=False,
        span=span,
    )


def _source_lines(sentences: list[SentenceHit]) -> list[SentenceHit]:
    """Lines naming where the article's facts come from: "outlet.de – title", links, and the
    lines under a "Quelle:"/"Sources" label."""
    out, under = [], 0
    for s in sentences:
        text = s.text.strip()
        if _SOURCES_LABEL.match(text):
            under = 1
            continue
        if _SOURCE.search(text) or " | " in text and under or under == 1 and len(text) < 200:
            out.append(s)
            under = 2 if under else 0
        else:
            under = 0  # "Schreibe einen Kommentar" after the source: the list has ended
    return out
