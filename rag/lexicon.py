"""Cross-language word matching through the embedding model.

USE multilingual was trained on translation pairs, so single words embed close
to their translations ("faster" ~ "schneller" 0.94, "arrested" ~ "verhaftet"
0.81). The lexicon stores one vector per corpus word; a question word the
corpus never uses is mapped to the corpus words nearest to it. Keyword search
and the answerer's word overlap then see "schneller" in "How much faster…".
"""

from __future__ import annotations

import logging
import re
import threading
import time

import numpy as np

from rag.text import STOPWORDS, fold, normalize, stem

log = logging.getLogger(__name__)

MIN_SIMILARITY = 0.7
MAX_ALTERNATIVES = 3
RECHECK_SECONDS = 5.0
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def words(text: str) -> set[str]:
    """Lower-case content words of ``text`` as written (letters only, 3+ characters, no stopwords).

    Umlauts are kept: the embedding model knows "auflösung", not "auflosung".
    """
    return {w for w in _WORD.findall(normalize(text).replace("-", " ")) if fold(w) not in STOPWORDS}


def term_of(word: str) -> str:
    """The keyword-search term of a word (see ``rag.text.terms``)."""
    return stem(fold(word))


class Lexicon:
    """Word vectors of a corpus' vocabulary, kept in a side collection of the index."""

    def __init__(self, index, embeddings) -> None:
        self.embeddings = embeddings
        self._collection = index.side_collection("__t2")  # "2": Snowball terms
        self._lock = threading.Lock()
        self._words: list[str] = []
        self._known: set[str] = set()
        self._stems: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._loaded_count = -1
        self._checked = 0.0

    def size(self) -> int:
        return self._collection.count()

    def update(self, texts_words: set[str], progress: bool = False) -> int:
        """Embed and store the words not yet in the lexicon; returns how many."""
        have: set[str] = set()
        total = self._collection.count()
        for offset in range(0, total, 10_000):
            have.update(self._collection.get(include=[], limit=10_000, offset=offset)["ids"])
        new = sorted(texts_words - have)
        if not new:
            return 0
        from tqdm import tqdm

        with tqdm(total=len(new), unit="word", desc="lexicon", disable=not progress, leave=False) as bar:
            for lo in range(0, len(new), 512):
                batch = new[lo : lo + 512]
                vectors = self.embeddings.embed(batch)
                self._collection.upsert(
                    ids=batch, embeddings=vectors, metadatas=[{"term": term_of(w)} for w in batch]
                )
                bar.update(len(batch))
        self._checked = 0.0
        return len(new)

    def _load(self) -> None:
        now = time.monotonic()
        if self._loaded_count >= 0 and now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        total = self._collection.count()
        if total == self._loaded_count:
            return
        words_, stems, vectors = [], [], []
        for offset in range(0, total, 10_000):
            got = self._collection.get(include=["embeddings", "metadatas"], limit=10_000, offset=offset)
            words_.extend(got["ids"])
            stems.extend(m["term"] for m in got["metadatas"])
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        self._words, self._stems = words_, stems
        self._known = set(words_)
        self._matrix = np.vstack(vectors) if vectors else np.zeros((0, 512), dtype=np.float32)
        self._loaded_count = total

    def unknown(self, question_words: list[str]) -> list[str]:
        """The words the corpus never uses, in order, without repeats."""
        with self._lock:
            self._load()
            return [w for w in dict.fromkeys(question_words) if w not in self._known]

    def translate(self, unknown: list[str], vectors: np.ndarray) -> dict[str, list[tuple[str, float]]]:
        """For each unknown word, the corpus terms (stemmed) it most likely means.

        Args:
            unknown: Question words absent from the corpus.
            vectors: Their embeddings, one row per word.

        Returns:
            ``{word: [(term, similarity), ...]}`` with similarity ≥ ``MIN_SIMILARITY``.
        """
        with self._lock:
            self._load()
            if not len(self._words) or not unknown:
                return {}
            sims = vectors @ self._matrix.T
        out: dict[str, list[tuple[str, float]]] = {}
        for row, word in zip(sims, unknown, strict=True):
            top = np.argsort(-row)[: MAX_ALTERNATIVES * 3]
            alts: list[tuple[str, float]] = []
            for i in top:
                if row[i] < MIN_SIMILARITY:
                    break
                term = self._stems[i]
                if term not in (t for t, _ in alts):
                    alts.append((term, float(row[i])))
                if len(alts) == MAX_ALTERNATIVES:
                    break
            if alts:
                out[word] = alts
        return out
