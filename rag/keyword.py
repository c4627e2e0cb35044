"""An in-memory BM25 index over the chunk texts.

Postings are numpy arrays of (doc, weight), so a query touches only the
documents that contain its terms; this stays in the low milliseconds at 100k
chunks.

A query is a list of *concepts*: each is ``{term: weight}``, one term for a
word the corpus uses, or the corpus terms a foreign word translates to (see
``rag.lexicon``), weighted by how sure the translation is.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np

from rag.text import terms

Concepts = list[dict[str, float]]


def plain_concepts(query: str) -> Concepts:
    """One concept per distinct query term, without translations."""
    return [{t: 1.0} for t in dict.fromkeys(terms(query))]


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) built once from ``(ids, texts)``."""

    def __init__(
        self,
        ids: list[str],
        texts: list[str] | None = None,
        k1: float = 1.2,
        b: float = 0.75,
        *,
        counts: list[Counter] | None = None,
    ) -> None:
        self.ids = ids
        docs = counts if counts is not None else [Counter(terms(t)) for t in texts or []]
        n = len(docs)
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
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def __len__(self) -> int:
        return self._n

    def search(self, query: str | Concepts, n: int) -> list[tuple[str, float]]:
        """Top ``n`` ``(id, score)``, best first; empty if no term matches."""
        concepts = plain_concepts(query) if isinstance(query, str) else query
        if not self._n:
            return []
        scores = np.zeros(self._n, dtype=np.float32)
        matched = False
        for concept in concepts:
            for term, weight in concept.items():
                hit = self._index.get(term)
                if hit is not None:
                    scores[hit[0]] += hit[1] * weight
                    matched = True
        if not matched:
            return []
        n = min(n, int(np.count_nonzero(scores)))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top]

    def coverage(self, query: str | Concepts, present: str | set[str] | frozenset[str]) -> float:
        """IDF-weighted share of the query's concepts found in ``present`` (0..1).

        ``present`` is a text or its ``terms``. A concept the corpus never uses
        and that has no translation counts with the highest IDF: a question
        about "football" is not answered by a sentence that only shares "2022".
        """
        concepts = plain_concepts(query) if isinstance(query, str) else query
        if isinstance(present, str):
            present = set(terms(present))
        total = found = 0.0
        for concept in concepts:
            weight = max(self.idf.get(t, self.unseen_idf if w >= 1.0 else 0.0) for t, w in concept.items())
            total += weight
            found += weight * max((w for t, w in concept.items() if t in present), default=0.0)
        return found / total if total else 0.0
