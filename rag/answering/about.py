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
    "title": {"en": "The article doesn't state a headline.", "de": "Der Artikel nennt keine Überschrift."},
    "author": {"en": "The article “{title}” doesn't name its author.",
               "de": "Der Artikel „{title}“ nennt keinen Autor."},
    "date": {"en": "The article “{title}” doesn't give its publication date.",
             "de": "Der Artikel „{title}“ nennt kein Veröffentlichungsdatum."},
    "outlet": {"en": "The article “{title}” doesn't name the outlet it appeared in.",
               "de": "Der Artikel „{title}“ nennt kein Medium, in dem er erschien."},
}


_ASKS = {"title": "description", "author": "person", "date": "date", "outlet": "organisation"}
_SPAN_KIND = {"title": "description", "author": "person", "date": "date", "outlet": "organisation"}


def applies(q: QuestionAnalysis, hits: Hits) -> bool:
    """The question asks for an article's headline, author, date or outlet (not, say, what its
    author did), and names an article ("the TechCrunch article"), not a book or a film."""
    if q.about is None or q.kind != _ASKS[q.about] or not hits.passages or hits.article is None:
        return False
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
    value = {"title": article.title.removesuffix(" …"), "author": article.author, "date": article.published,
             "outlet": article.outlet}[q.about]
    found = _stating(q.about, value, hits.article(article.file)) if value else None
    if found is None:
        title = article.title or article.file
        return Answer(question=q.text, text=NOT_STATED[q.about][q.lang].format(title=title), abstained=True, sources=[])
    sentence, start, end = found
    citation = cite(1, sentence.passage, sentence.char_start, sentence.char_end, 1.0)
    if q.about == "title":
        start, end = 0, len(sentence.text)  # the headline line itself
    normalized = iso_date(sentence.text[start:end]) or value if q.about == "date" else sentence.text[start:end] \
        if q.about == "title" else value
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
