"""An in-memory BM25 index over the chunk texts.

Postings are numpy arrays of (doc, weight), so a query touches only the
documents that contain its terms; this stays in the low milliseconds at 100k
chunks.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from rag.text import terms


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) built once from ``(ids, texts)``."""

    def __init__(self, ids: list[str], texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids = ids
        n = len(texts)
        docs = [Counter(terms(t)) for t in texts]
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if n else 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, d in enumerate(docs):
            norm = k1 * (1 - b + b * lengths[i] / max(avg, 1e-9))
            for term, tf in d.items():
                postings[term].append((i, tf * (k1 + 1) / (tf + norm)))
        self._index: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        for term, plist in postings.items():
            df = len(plist)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            self.idf[term] = idf
            docs_arr = np.fromiter((p[0] for p in plist), dtype=np.int32, count=df)
            weights = np.fromiter((p[1] for p in plist), dtype=np.float32, count=df) * idf
            self._index[term] = (docs_arr, weights)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Top ``n`` ``(id, score)`` for ``query``, best first; empty if no term matches."""
        q_terms = set(terms(query))
        hits = [self._index[t] for t in q_terms if t in self._index]
        if not hits or not self._n:
            return []
        scores = np.zeros(self._n, dtype=np.float32)
        for docs, weights in hits:
            scores[docs] += weights
        n = min(n, int(np.count_nonzero(scores)))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top]

    def coverage(self, query: str, text: str) -> float:
        """IDF-weighted share of the query's terms that occur in ``text`` (0..1).

        Terms the corpus never uses count with the highest IDF: a question
        about "football" is not answered by a sentence that only shares "2022".
        """
        return self.coverage_of(query, set(terms(text)))

    def coverage_of(self, query: str, present: set[str] | frozenset[str]) -> float:
        """``coverage`` for a text already split into ``terms``."""
        q_terms = set(terms(query))
        if not q_terms:
            return 0.0
        unseen = math.log(1 + (self._n + 0.5) / 0.5)
        weights = {t: self.idf.get(t, unseen) for t in q_terms}
        return sum(w for t, w in weights.items() if t in present) / sum(weights.values())
