"""Judge the retrieved sentences, rerank passages by them, and quote what answers.

The answer leads with the answer itself for typed questions (``10×``,
``2025-07-18``), then quotes the sentence verbatim with its ``[n]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rag.answering.judge import Candidate, Judge, Judgement, Weights
from rag.answering.question import QuestionAnalysis, analyze, language
from rag.citations import cite
from rag.retrieve import Hits, SentenceHit
from rag.text import STOPWORDS, terms
from rag.types import Answer, AnswerSpan, Passage

MAX_QUOTES = 2
SECOND_QUOTE_RATIO = 0.9
CONTINUATION_SENTENCES = 4
CONTINUATION_CHARS = 400
CONTEXT_SENTENCES = 1
FUSED_PRIOR = 3.0
"""How much the fused retrieval score counts beside the judge's when ordering passages."""

DECLINE = {
    "en": "The articles don't cover this question.",
    "de": "Dazu steht nichts in den Artikeln.",
}


@dataclass
class Judged:
    """Retrieval's candidates, judged against the question."""

    question: QuestionAnalysis
    passages: list[Passage]
    """The top passages, best first by their best-judged sentence."""
    ranked: list[tuple[SentenceHit, Judgement]]
    """Sentences of those passages with their judgements, best first."""
    hits: Hits

    @property
    def best(self) -> Judgement | None:
        return self.ranked[0][1] if self.ranked else None

    @property
    def answerable(self) -> bool:
        return bool(self.ranked) and self.ranked[0][1].answers


def judge_hits(hits: Hits, k: int, question: QuestionAnalysis | None = None, weights: Weights | None = None) -> Judged:
    """Judge every retrieved sentence and keep the ``k`` passages whose sentences answer best."""
    q = question or analyze(hits.question)
    judge = Judge(q, hits.idf, hits.translations, hits.max_idf, weights)
    by_passage: dict[str, list[SentenceHit]] = {}
    for s in hits.sentences:
        by_passage.setdefault(s.passage.id, []).append(s)
    judged: list[tuple[SentenceHit, Judgement]] = []
    top_similarity = max((s.similarity for s in hits.sentences), default=0.0)
    for group in by_passage.values():
        group.sort(key=lambda s: s.char_start)
        for i, s in enumerate(group):
            lo, hi = max(0, i - CONTEXT_SENTENCES), i + CONTEXT_SENTENCES + 1
            context = " ".join(x.text for x in group[lo:hi])
            judged.append((s, judge.judge(Candidate(s.text, context, s.similarity, s.rank, top_similarity))))
    best: dict[str, float] = {}
    for s, j in judged:
        best[s.passage.id] = max(best.get(s.passage.id, -1.0), j.score)
    top_fused = max(hits.fused.values(), default=0.0)
    final = {pid: score + FUSED_PRIOR * (hits.fused.get(pid, 0.0) - top_fused) for pid, score in best.items()}
    order = sorted(final, key=final.__getitem__, reverse=True)[:k]
    position = {pid: i for i, pid in enumerate(order)}
    passages = {p.id: p for p in hits.passages}
    top = [dataclasses.replace(passages[pid], score=round(final[pid], 6)) for pid in order]
    ranked = sorted(
        ((s, j) for s, j in judged if s.passage.id in position),
        key=lambda sj: (sj[1].score, -position[sj[0].passage.id]),
        reverse=True,
    )
    return Judged(q, top, ranked, hits)


def decline(question: str) -> Answer:
    """The short "not in the articles" answer, with no citations."""
    return Answer(question=question, text=DECLINE[language(question)], abstained=True, sources=[])


def extractive_answer(question: str, judged: Judged) -> Answer:
    """Quote the best one or two answering sentences, or decline.

    A second sentence is added only when the judge rates it nearly as well as
    the first and it says something the first doesn't.
    """
    if not judged.answerable:
        return decline(question)
    chosen = [judged.ranked[0]]
    best = chosen[0][1].score
    for s, j in judged.ranked[1:]:
        if len(chosen) >= MAX_QUOTES or not j.answers or j.score < best * SECOND_QUOTE_RATIO:
            break
        if not any(_similar(s.text, c.text) for c, _ in chosen):
            chosen.append((s, j))
    lead = chosen[0]
    position = {p.id: i for i, p in enumerate(judged.passages)}
    chosen.sort(key=lambda sj: (position.get(sj[0].passage.id, 99), sj[0].char_start))
    sentences = [s for s, _ in judged.ranked]
    citations = [
        cite(n, s.passage, s.char_start, _continued_end(s, sentences), j.score)
        for n, (s, j) in enumerate(chosen, 1)
    ]
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    span = None
    lead_n = next(c.n for c, (s, _) in zip(citations, chosen, strict=True) if s is lead[0])
    if lead[1].span is not None:
        found = lead[1].span
        span = AnswerSpan(found.text, found.normalized, found.kind, lead_n,
                          lead[0].char_start + found.start, lead[0].char_start + found.end)
        text = f"{found.normalized} — {text}"
    quote_lang = language(" ".join(c.quote for c in citations))
    return Answer(
        question=question,
        text=text,
        citations=citations,
        sources=judged.passages,
        abstained=False,
        span=span,
        quote_language=quote_lang if quote_lang != judged.question.lang else None,
    )


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
