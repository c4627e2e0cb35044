"""Question -> candidate passages and their sentences.

Three rankings are fused with reciprocal-rank fusion: chunk vectors, the best
sentence vector inside each chunk (fine-grained, good for factoid questions),
and BM25 over chunk text (names, numbers, rare words). The evidence judge
(``rag.answering``) then reranks the pool and decides whether anything answers.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rag.config import Settings
from rag.embeddings import NamedEmbeddings, embed_queries
from rag.keyword import BM25, Concepts
from rag.lexicon import Lexicon, term_of, words
from rag.text import fold, terms
from rag.store import PassageIndex
from rag.types import Passage

RRF_K = 60
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
    rank: int = 0
    """Position of its passage in the fused ranking."""

    @property
    def text(self) -> str:
        off = self.passage.char_start
        return self.passage.text[self.char_start - off : self.char_end - off]


@dataclass
class Hits:
    """What retrieval found for one question: a pool of passages, best fused first."""

    question: str
    passages: list[Passage]
    sentences: list[SentenceHit]
    fused: dict[str, float] = field(default_factory=dict)
    """Each passage's fused (RRF) score."""
    translations: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    """Corpus terms for the question's words the corpus never uses (folded word -> (term, sureness))."""
    idf: Callable[[str], float | None] = lambda term: None
    max_idf: float = 10.0
    timings_ms: dict[str, float] = field(default_factory=dict)


class Retriever:
    """Dense + keyword retrieval over a ``PassageIndex``."""

    def __init__(self, index: PassageIndex, embeddings: NamedEmbeddings, settings: Settings) -> None:
        self.index = index
        self.embeddings = embeddings
        self.settings = settings
        self._bm25: BM25 | None = None
        self._file_bm25: BM25 = BM25([], [])
        self._chunk_file: dict[str, str] = {}
        self._vectors = _Cache()
        self._lexicon: Lexicon | None = None
        self._chunk_cache = _Cache()
        self._near_cache = _Cache()
        self._word_vectors = _Cache()
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
        """The BM25 index, rebuilt when the store's content has changed."""
        with self._lock:
            now = time.monotonic()
            if self._bm25 is not None and now - self._checked < RECHECK_SECONDS:
                return self._bm25
            self._checked = now
            count = self.index.count()
            version = (count, self.index.version)
            if self._bm25 is None or version != self._bm25_version:
                ids, texts, files = self.index.all_texts()
                counts = [Counter(terms(t)) for t in texts]
                self._bm25 = BM25(ids, counts=counts)
                by_file: dict[str, Counter] = {}
                for c, file in zip(counts, files, strict=True):
                    by_file.setdefault(file, Counter()).update(c)
                self._file_bm25 = BM25(list(by_file), counts=list(by_file.values()))
                self._chunk_file = dict(zip(ids, files, strict=True))
                self._bm25_count = count
                self._bm25_version = version
                self._sentence_count = self.index.sentences.count()
            return self._bm25

    def search(self, question: str, depth: int = RERANK_DEPTH) -> Hits:
        """The ``depth`` best fused passages for ``question``, with their sentences."""
        t = {"start": time.perf_counter()}
        bm25 = self.keyword_index()
        question_words = sorted(words(question), key=question.lower().find)
        unknown = self.lexicon.unknown(question_words)
        qvec, word_vectors = self._embed(question, unknown)
        t["embed"] = time.perf_counter()
        total = self._bm25_count
        if total == 0:
            return Hits(question, [], [], timings_ms=_ms(t))
        translations = self.lexicon.translate(unknown, word_vectors)
        concepts = self._concepts(question, translations)
        wide = min(total, max(20, 4 * depth))
        dense = self.index.query_chunks(qvec, wide)
        sentence_hits = self.index.query_sentences(qvec, max(1, min(self._sentence_count, max(30, 6 * depth))))
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
        pool = sorted(fused, key=fused.__getitem__, reverse=True)[:depth]
        stored = self._chunks(pool)
        t["fetch"] = time.perf_counter()
        chunks = [stored[c] for c in pool if c in stored]
        sentences = self._sentences(qvec, chunks)
        t["sentences"] = time.perf_counter()
        idf = bm25.idf
        return Hits(
            question=question,
            passages=[_with_score(c.passage, fused[c.passage.id]) for c in chunks],
            sentences=sentences,
            fused={c.passage.id: fused[c.passage.id] for c in chunks},
            translations={
                fold(w): tuple(alts)
                for w, alts in {**self._neighbours(question_words, unknown), **translations}.items()
            },
            idf=idf.get,
            max_idf=bm25.unseen_idf,
            timings_ms=_ms(t),
        )

    def _neighbours(self, question_words: list[str], unknown: list[str]) -> dict[str, list[tuple[str, float]]]:
        """Corpus words near the question's own corpus words, cached: the same words give the same."""
        known = [w for w in question_words if w not in set(unknown)]
        return self._near_cache.get_many(known, lambda missing: {w: self.lexicon.neighbours([w]).get(w, []) for w in missing})

    def _sentences(self, qvec: np.ndarray, chunks: list) -> list[SentenceHit]:
        keys = [(rank, c, f"{c.passage.id}:{i}", span) for rank, c in enumerate(chunks) for i, span in enumerate(c.sentences)]
        vectors = self._sentence_vectors([key for _, _, key, _ in keys])
        out = []
        for rank, c, key, (s, e) in keys:
            vec = vectors.get(key)
            if vec is not None:
                out.append(SentenceHit(c.passage, s, e, float(vec @ qvec), rank))
        return out

    def _embed(self, question: str, unknown: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The question's vector and its foreign words' vectors, in one model call.

        Word vectors are cached: a word embeds the same every time.
        """
        fresh: dict[str, np.ndarray] = {}

        def embed(missing: list[str]) -> dict[str, np.ndarray]:
            vectors = embed_queries(self.embeddings, [question, *missing])
            fresh["question"] = vectors[0]
            return dict(zip(missing, vectors[1:], strict=True))

        found = self._word_vectors.get_many(unknown, embed)
        qvec = fresh["question"] if fresh else embed_queries(self.embeddings, [question])[0]
        words_ = np.asarray([found[w] for w in unknown]) if unknown else np.zeros((0, qvec.shape[0]))
        return qvec, words_

    def _chunks(self, ids: list[str]) -> dict:
        return self._chunk_cache.get_many(ids, self.index.get)

    def _sentence_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        return self._vectors.get_many(keys, self.index.sentence_vectors)


class _Cache:
    """A bounded map for values keyed by content hash: they can never be stale, only evicted."""

    def __init__(self, limit: int = CACHE_SENTENCES) -> None:
        self.limit = limit
        self._data: dict = {}

    def get_many(self, keys: list, fetch: Callable[[list], dict]) -> dict:
        """The cached values of ``keys``, fetching the missing ones in one call."""
        missing = [k for k in keys if k not in self._data]
        if missing:
            if len(self._data) + len(missing) > self.limit:
                self._data.clear()
            self._data.update(fetch(missing))
        return {k: self._data[k] for k in keys if k in self._data}


def _with_score(p: Passage, score: float) -> Passage:
    return dataclasses.replace(p, score=round(score, 6))


def _ms(t: dict[str, float]) -> dict[str, float]:
    keys = list(t)
    return {keys[i]: (t[keys[i]] - t[keys[i - 1]]) * 1000 for i in range(1, len(keys))}
