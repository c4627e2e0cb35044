"""Question -> ranked passages and their candidate sentences.

Three rankings are fused with reciprocal-rank fusion: chunk vectors, the best
sentence vector inside each chunk (fine-grained, good for factoid questions),
and BM25 over chunk text (names, numbers, rare words). Whether a sentence
answers is not decided here but by the evidence judge (``rag.answering.judge``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.config import Settings
from rag.retrieval.embedding_interface import NamedEmbeddings
from rag.retrieval.embeddings import embed_queries
from rag.retrieval.keyword import BM25, Concepts
from rag.retrieval.lexicon import Lexicon, term_of, words
from rag.retrieval.scoring import answer_score
from rag.text import fold, terms
from rag.retrieval.store import PassageIndex
from rag.types import Passage

RRF_K = 60
MAX_ARTICLES = 64  # articles whose sentences are kept for the judge's rules and article questions
RECHECK_SECONDS = 5.0
FILE_WEIGHT = 0.5
RERANK_DEPTH = 15
RRF_WEIGHT = 3.0
CACHE_SENTENCES = 200_000


@dataclass(frozen=True)
class SentenceHit:
    """A sentence inside a retrieved passage, scored against the question."""

    passage: Passage
    char_start: int
    char_end: int
    similarity: float
    lexical: float
    score: float
    """``rag.retrieval.scoring.answer_score``: how well this sentence answers the question."""
    rank: int = 0
    """Position of its passage in the results."""
    asked_similarity: float | None = None
    asked_lexical: float | None = None
    """For a follow-up resolved from the conversation: meaning and shared words with the
    user's own words, without what the resolution carried over from the turn before."""

    @property
    def text(self) -> str:
        off = self.passage.char_start
        return self.passage.text[self.char_start - off : self.char_end - off]


@dataclass
class Hits:
    """What retrieval found for one question."""

    question: str
    passages: list[Passage]
    sentences: list[SentenceHit]
    abstain: bool
    """Nothing to judge: the index is empty."""
    gate_score: float
    """The best sentence's retrieval score."""
    threshold: float | None
    """The judge's answer cut when set (``RAG_MIN_SCORE``); None for the fitted one."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    article: Callable[[str], list[SentenceHit]] | None = None
    """Every sentence of one file, in order (for questions about an article itself)."""
    translations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The corpus terms the lexicon took the question's foreign words for ("germany" -> "deutschland")."""


class Retriever:
    """Dense + keyword retrieval over a ``PassageIndex``."""

    def __init__(self, index: PassageIndex, embeddings: NamedEmbeddings, settings: Settings) -> None:
        self.index = index
        self.embeddings = embeddings
        self.settings = settings
        self.threshold = settings.min_score
        self._bm25: BM25 | None = None
        self._file_bm25: BM25 = BM25([], [])
        self._chunk_file: dict[str, str] = {}
        self._vectors = _Cache()
        self._lexicon: Lexicon | None = None
        self._chunk_cache = _Cache()
        self._word_vectors = _Cache()
        self._term_cache = _Cache()
        self._articles: dict[str, list[SentenceHit]] = {}
        self._sentence_count = 0
        self._bm25_count = -1
        self._bm25_version: tuple = ()
        self._checked = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._bm25 = None

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = Lexicon(self.index, self.embeddings)
        return self._lexicon

    @staticmethod
    def _concepts(question: str, translations: dict[str, list[tuple[str, float]]]) -> Concepts:
        """One concept per question term; a word foreign to the corpus stands for its translations."""
        translated = {term_of(w): alts for w, alts in translations.items()}
        concepts: Concepts = []
        for term in dict.fromkeys(terms(question)):
            concepts.append(dict(translated[term]) if term in translated else {term: 1.0})
        return concepts

    def keyword_index(self) -> BM25:
        """The BM25 index, reloaded when the store's content has changed.

        Ingest saves it next to the index (``PassageIndex.keyword_index``), so this
        is a file read, not a pass over every chunk.
        """
        with self._lock:
            now = time.monotonic()
            if self._bm25 is not None and now - self._checked < RECHECK_SECONDS:
                return self._bm25
            self._checked = now
            # The first time, Chroma loads the sentences' vector index (its first count) in a
            # thread while this one loads the chunks' and the keyword index: 15-20% sooner at 100k.
            sentences = _Background(self.index.sentences.count) if self._bm25 is None else None
            count = self.index.count()
            version = (count, self.index.version, self.index.keyword_key())
            if self._bm25 is None or version != self._bm25_version:
                keywords = self.index.keyword_index()
                self._bm25 = keywords.chunks
                self._file_bm25 = keywords.by_file
                self._chunk_file = keywords.chunk_file
                self._articles = {}
                self._bm25_count = count
                self._bm25_version = version
                self._sentence_count = sentences.result() if sentences else self.index.sentences.count()
            elif sentences:
                sentences.result()
            return self._bm25

    def warm_up(self) -> None:
        """Load what the first question reads: the keyword index and the lexicon."""
        self.keyword_index()
        self.lexicon.unknown([])

    def search(self, question: str, k: int | None = None, *, asked: str | None = None) -> Hits:
        """Top ``k`` passages for ``question`` with their sentences scored.

        ``asked``: the user's own words, when ``question`` is a follow-up written out
        from the conversation; each sentence is also scored against them.
        """
        k = k or self.settings.k
        t = {"start": time.perf_counter()}
        bm25 = self.keyword_index()
        asked = asked if asked and asked != question else None
        said = f"{question} {asked or ''}"
        ordered = sorted(words(said), key=said.lower().find)
        unknown = self.lexicon.unknown(ordered)
        # A word the corpus uses in one passage only may stand there in another sense or language
        # (an English word in a link): it is looked up in the lexicon too, and keeps itself.
        rare = [w for w in ordered if w not in unknown and _passages_with(bm25, term_of(w)) == 1]
        unknown = unknown + rare
        vectors, word_vectors = self._embed([question, asked] if asked else [question], unknown)
        qvec = vectors[0]
        t["embed"] = time.perf_counter()
        total = self._bm25_count
        if total == 0:
            return Hits(question, [], [], True, 0.0, self.threshold, _ms(t))
        translations = self.lexicon.translate(unknown, word_vectors)
        for w in rare:
            if w in translations:
                translations[w] = [(term_of(w), 1.0), *(a for a in translations[w] if a[0] != term_of(w))]
        concepts = self._concepts(question, translations)
        own = None
        if asked:
            own = (vectors[1], self._concepts(asked, translations), list(dict.fromkeys(terms(asked))))
        wide = min(total, max(20, 4 * k))
        dense = self.index.query_chunks(qvec, wide)
        sentence_hits = self.index.query_sentences(qvec, max(1, min(self._sentence_count, max(30, 6 * k))))
        t["dense"] = time.perf_counter()
        keyword = bm25.search(concepts, wide)
        t["keyword"] = time.perf_counter()

        best_sentence: dict[str, float] = {}
        for sid, sim in sentence_hits:
            cid = sid.rsplit(":", 1)[0]
            best_sentence.setdefault(cid, sim)
        rankings = [
            [cid for cid, _ in dense],
            sorted(best_sentence, key=best_sentence.__getitem__, reverse=True),
            [cid for cid, _ in keyword],
        ]
        fused: dict[str, float] = {}
        for ranking in rankings:
            for rank, cid in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        # A question naming a source ("TechCrunch", "the BBC") lifts that article's passages.
        file_rank = {f: r for r, (f, _) in enumerate(self._file_bm25.search(concepts, 3))}
        for cid in fused:
            r = file_rank.get(self._chunk_file.get(cid, ""))
            if r is not None:
                fused[cid] += FILE_WEIGHT / (RRF_K + r + 1)
        pool = sorted(fused, key=fused.__getitem__, reverse=True)[: max(RERANK_DEPTH, k)]
        stored = self._chunks(pool)
        t["fetch"] = time.perf_counter()

        # Rerank by each passage's best-answering sentence, with the fused rank as a prior.
        scored = self._score_sentences(question, concepts, qvec, [stored[c] for c in pool if c in stored], bm25, own)
        best: dict[str, float] = {}
        for sh in scored:
            best[sh.passage.id] = max(best.get(sh.passage.id, -1.0), sh.score)
        top_fused = max(fused.values())
        final = {c: best.get(c, -1.0) + RRF_WEIGHT * (fused[c] - top_fused) for c in best}
        top = sorted(final, key=final.__getitem__, reverse=True)[:k]
        position = {c: i for i, c in enumerate(top)}
        passages = [_with_score(stored[c].passage, final[c]) for c in top]
        by_id = {p.id: p for p in passages}
        sentences = [
            SentenceHit(by_id[sh.passage.id], sh.char_start, sh.char_end, sh.similarity, sh.lexical, sh.score,
                        position[sh.passage.id], sh.asked_similarity, sh.asked_lexical)
            for sh in scored
            if sh.passage.id in position
        ]
        t["rerank"] = time.perf_counter()
        gate = max((sh.score for sh in sentences), default=0.0)
        return Hits(
            question=question,
            passages=passages,
            sentences=sentences,
            abstain=not sentences,
            gate_score=gate,
            threshold=self.threshold,
            timings_ms=_ms(t),
            article=self.article_sentences,
            translations={w: tuple(t for t, _ in alts) for w, alts in translations.items()},
        )

    def article_sentences(self, file: str) -> list[SentenceHit]:
        """Every sentence of ``file`` in reading order, unscored (kept until the index changes)."""
        self.keyword_index()
        found = self._articles.get(file)
        if found is None:
            ids = [cid for cid, f in self._chunk_file.items() if f == file]
            chunks = sorted(self._chunks(ids).values(), key=lambda c: c.passage.char_start)
            found = [SentenceHit(c.passage, s, e, 0.0, 0.0, 0.0) for c in chunks for s, e in c.sentences]
            if len(self._articles) >= MAX_ARTICLES:
                self._articles.clear()
            self._articles[file] = found
        return found

    def _score_sentences(
        self, question: str, concepts: Concepts, qvec: np.ndarray, chunks: list, bm25: BM25,
        own: tuple[np.ndarray, Concepts, list[str]] | None = None,
    ) -> list[SentenceHit]:
        keys = [(c, f"{c.passage.id}:{i}", span) for c in chunks for i, span in enumerate(c.sentences)]
        vectors = self._sentence_vectors([key for _, key, _ in keys])
        out = []
        for c, key, (s, e) in keys:
            vec = vectors.get(key)
            if vec is None:
                continue
            p = c.passage
            text = p.text[s - p.char_start : e - p.char_start]
            sim = float(vec @ qvec)
            present = self._terms(key, text)
            lexical = bm25.coverage(concepts, present)
            asked = (float(vec @ own[0]), _share_said(own[1], own[2], present, fold(text))) if own else (None, None)
            out.append(SentenceHit(p, s, e, sim, lexical, answer_score(question, text, sim, lexical), 0, *asked))
        return out

    def _embed(self, texts: list[str], unknown: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
        """The vectors of ``texts`` (the question, and a follow-up's own words) and of the
        foreign words, in one model call.

        Word vectors are cached: a word embeds the same every time.
        """
        fresh: list[np.ndarray] = []

        def embed(missing: list[str]) -> dict[str, np.ndarray]:
            vectors = embed_queries(self.embeddings, [*texts, *missing])
            fresh.extend(vectors[: len(texts)])
            return dict(zip(missing, vectors[len(texts) :], strict=True))

        found = self._word_vectors.get_many(unknown, embed)
        vectors = fresh or list(embed_queries(self.embeddings, texts))
        words_ = np.asarray([found[w] for w in unknown]) if unknown else np.zeros((0, vectors[0].shape[0]))
        return vectors, words_

    def _chunks(self, ids: list[str]) -> dict:
        return self._chunk_cache.get_many(ids, self.index.get)

    def _sentence_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        return self._vectors.get_many(keys, self.index.sentence_vectors)

    def _terms(self, key: str, text: str) -> frozenset[str]:
        return self._term_cache.get_many([key], lambda _: {key: frozenset(terms(text))})[key]


class _Background:
    """``fn()`` run in a thread; ``result()`` waits for it and re-raises its error."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self._fn = fn
        self._value: object = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            self._error = e

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


class _Cache:
    """A bounded map for values keyed by content hash: they can never be stale, only evicted."""

    def __init__(self, limit: int = CACHE_SENTENCES) -> None:
        self.limit = limit
        self._data: dict = {}

    def get_many(self, keys: list, fetch: Callable[[list], dict]) -> dict:
        """The cached values of ``keys``, fetching the missing ones in one call."""
        data = self._data
        found = {k: data[k] for k in keys if k in data}
        missing = [k for k in keys if k not in found]
        if missing:
            fresh = fetch(missing)
            found.update(fresh)
            if len(data) + len(fresh) > self.limit:
                # A new dict, not clear(): another thread may be reading the old one.
                self._data = data = {}
            data.update(fresh)
        return found


def _with_score(p: Passage, score: float) -> Passage:
    return dataclasses.replace(p, score=round(score, 6))


def _share_said(concepts: Concepts, own_terms: list[str], present: set[str], folded: str) -> float:
    """Share of the user's own terms (one per concept) in a sentence: as a term, a translation,
    or the start of a longer word ("warn" in "warnt", "protest" in "Basisproteste")."""
    if not concepts:
        return 0.0
    found = 0
    for concept, term in zip(concepts, own_terms, strict=True):
        if any(t in present for t in concept) or (len(term) >= 4 and term[:6] in folded):
            found += 1
    return found / len(concepts)


def _passages_with(bm25: BM25, term: str) -> int:
    got = bm25.postings(term)
    return 0 if got is None else len(got[0])


def _ms(t: dict[str, float]) -> dict[str, float]:
    keys = list(t)
    return {keys[i]: (t[keys[i]] - t[keys[i - 1]]) * 1000 for i in range(1, len(keys))}
