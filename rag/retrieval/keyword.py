"""BM25 over the chunk texts, and its persisted form.

Postings are numpy arrays of (doc, weight), so a query touches only the
documents that contain its terms; this stays in the low milliseconds at 100k
chunks.

A query is a list of *concepts*: each is ``{term: weight}``, one term for a
word the corpus uses, or the corpus terms a foreign word translates to (see
``rag.retrieval.lexicon``), weighted by how sure the translation is.

``KeywordIndex`` is what ingest keeps on disk next to the Chroma folder: the
term counts of every chunk (so an ingest tokenizes only the chunks it adds),
and the same counts term by term (so loading is a few array reads, and a
term's BM25 weights are computed the first time a question uses it).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rag.text import terms

log = logging.getLogger(__name__)

Concepts = list[dict[str, float]]

# Part of the persisted index' key: bump it when its layout or ``rag.text.terms`` changes.
STORE_VERSION = 1
_POSTINGS_CACHE = 50_000


def plain_concepts(query: str) -> Concepts:
    """One concept per distinct query term, without translations."""
    return [{t: 1.0} for t in dict.fromkeys(terms(query))]


class _Counts:
    """Term counts of documents, document by document (CSR) and term by term (CSC).

    ``vocab[t]`` is term ``t``; document ``d`` holds terms ``terms[indptr[d]:indptr[d+1]]``
    with counts ``tf[...]``; ``by_term`` gives, per term, its documents in increasing order.
    """

    def __init__(self, vocab: list[str], indptr: np.ndarray, terms_: np.ndarray, tf: np.ndarray,
                 by_term: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        self.vocab = vocab
        self.indptr = indptr
        self.terms = terms_
        self.tf = tf
        self._by_term = by_term

    @classmethod
    def from_counters(cls, counters: Sequence[Counter], vocab: list[str] | None = None,
                      lookup: dict[str, int] | None = None) -> _Counts:
        vocab = [] if vocab is None else vocab
        lookup = {t: i for i, t in enumerate(vocab)} if lookup is None else lookup
        lengths = np.zeros(len(counters) + 1, dtype=np.int64)
        ids: list[int] = []
        tfs: list[int] = []
        for d, counter in enumerate(counters):
            for term in [t for t in counter if t not in lookup]:  # in order: a deterministic vocabulary
                lookup[term] = len(vocab)
                vocab.append(term)
            ids.extend(map(lookup.__getitem__, counter))
            tfs.extend(counter.values())
            lengths[d + 1] = len(counter)
        return cls(vocab, np.cumsum(lengths), np.asarray(ids, dtype=np.int32), np.asarray(tfs, dtype=np.int32))

    @property
    def docs(self) -> int:
        return len(self.indptr) - 1

    def lengths(self) -> np.ndarray:
        doc_of = np.repeat(np.arange(self.docs), np.diff(self.indptr))
        return np.bincount(doc_of, weights=self.tf, minlength=self.docs).astype(np.float32)

    def by_term(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, docs, tf)`` with the postings of term ``t`` at ``indptr[t]:indptr[t+1]``."""
        if self._by_term is None:
            order = np.argsort(self.terms, kind="stable")  # stable: documents stay in order
            counts = np.bincount(self.terms, minlength=len(self.vocab))
            indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
            np.cumsum(counts, out=indptr[1:])
            doc_of = np.repeat(np.arange(self.docs, dtype=np.int32), np.diff(self.indptr))
            self._by_term = (indptr, doc_of[order], self.tf[order])
        return self._by_term

    def select(self, rows: np.ndarray) -> _Counts:
        """The documents ``rows`` (in that order), same vocabulary."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lens = ends - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        take = np.repeat(starts - indptr[:-1], lens) + np.arange(indptr[-1])
        return _Counts(self.vocab, indptr, self.terms[take], self.tf[take])

    def append(self, other: _Counts) -> _Counts:
        """These documents, then ``other``'s (whose vocabulary extends this one's)."""
        indptr = np.concatenate([self.indptr, other.indptr[1:] + self.indptr[-1]])
        return _Counts(other.vocab, indptr, np.concatenate([self.terms, other.terms]),
                       np.concatenate([self.tf, other.tf]))

    def group(self, groups: np.ndarray, n_groups: int) -> _Counts:
        """Summed counts per group of documents (``groups[d]`` is ``d``'s group)."""
        doc_of = np.repeat(groups.astype(np.int64), np.diff(self.indptr))
        keys = doc_of * max(len(self.vocab), 1) + self.terms
        uniq, inverse = np.unique(keys, return_inverse=True)
        tf = np.bincount(inverse, weights=self.tf, minlength=len(uniq)).astype(np.int32)
        g = uniq // max(len(self.vocab), 1)
        indptr = np.zeros(n_groups + 1, dtype=np.int64)
        np.cumsum(np.bincount(g, minlength=n_groups), out=indptr[1:])
        return _Counts(self.vocab, indptr, (uniq % max(len(self.vocab), 1)).astype(np.int32), tf)


class _IDF:
    """``{term: idf}`` computed on lookup from the document frequencies."""

    def __init__(self, lookup: dict[str, int], df: np.ndarray, n: int) -> None:
        self._lookup = lookup
        self._df = df
        self._n = n
        self._memo: dict[str, float | None] = {}

    def _idf(self, t: int) -> float:
        df = int(self._df[t])
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5))

    def get(self, term: str, default: float | None = None) -> float | None:
        try:
            got = self._memo[term]
        except KeyError:
            t = self._lookup.get(term)
            got = None if t is None or not self._df[t] else self._idf(t)
            if len(self._memo) > _POSTINGS_CACHE:
                self._memo.clear()
            self._memo[term] = got
        return default if got is None else got

    def __getitem__(self, term: str) -> float:
        got = self.get(term)
        if got is None:
            raise KeyError(term)
        return got

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return int(np.count_nonzero(self._df))


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75) over ``(ids, texts)`` or per-document term ``counts``."""

    def __init__(
        self,
        ids: list[str],
        texts: list[str] | None = None,
        k1: float = 1.2,
        b: float = 0.75,
        *,
        counts: list[Counter] | None = None,
    ) -> None:
        docs = counts if counts is not None else [Counter(terms(t)) for t in texts or []]
        self._setup(ids, _Counts.from_counters(docs), None, k1, b)

    @classmethod
    def _from(cls, ids: list[str], data: _Counts, lookup: dict[str, int] | None = None,
              k1: float = 1.2, b: float = 0.75) -> BM25:
        self = cls.__new__(cls)
        self._setup(ids, data, lookup, k1, b)
        return self

    def _setup(self, ids: list[str], data: _Counts, lookup: dict[str, int] | None, k1: float, b: float) -> None:
        self.ids = ids
        self._k1 = k1
        n = self._n = data.docs
        lengths = data.lengths()
        avg = float(lengths.mean()) if n else 1.0
        # The same float32 operations, in the same order, as a per-document loop would do.
        self._norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self._lookup = lookup if lookup is not None else {t: i for i, t in enumerate(data.vocab)}
        self._postings_ptr, self._postings_docs, self._postings_tf = data.by_term()
        self.idf = _IDF(self._lookup, np.diff(self._postings_ptr), n)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def __len__(self) -> int:
        return self._n

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(documents, BM25 weights)`` of ``term``, or None if no document has it."""
        t = self._lookup.get(term)
        if t is None:
            return None
        hit = self._cache.get(t)
        if hit is None:
            lo, hi = self._postings_ptr[t], self._postings_ptr[t + 1]
            if lo == hi:
                return None
            docs = self._postings_docs[lo:hi]
            tf = self._postings_tf[lo:hi]
            weights = (tf * (self._k1 + 1)).astype(np.float32) / (tf.astype(np.float32) + self._norm[docs])
            weights *= self.idf._idf(t)
            if len(self._cache) >= _POSTINGS_CACHE:
                self._cache.clear()
            hit = self._cache[t] = (docs, weights)
        return hit

    def search(self, query: str | Concepts, n: int) -> list[tuple[str, float]]:
        """Top ``n`` ``(id, score)``, best first; empty if no term matches."""
        concepts = plain_concepts(query) if isinstance(query, str) else query
        if not self._n:
            return []
        scores = np.zeros(self._n, dtype=np.float32)
        matched = False
        for concept in concepts:
            for term, weight in concept.items():
                hit = self.postings(term)
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


class KeywordIndex:
    """BM25 over the chunks and over whole files, built from per-chunk term counts.

    Built from texts once, then kept up to date with ``update`` (the chunks an
    ingest added and removed) and saved next to the index; ``load`` reads it
    back in a few milliseconds, where building it anew tokenizes every chunk.
    Chunks keep the order they were added in, the order Chroma lists them.
    """

    def __init__(self, ids: list[str], files: list[str], file_of: np.ndarray, counts: _Counts,
                 file_counts: _Counts | None = None, key: str = "") -> None:
        self.ids = ids
        self.files = files  # distinct files, in order of first appearance
        self.file_of = file_of  # per chunk, its index in ``files``
        self.counts = counts
        self.key = key
        lookup = {t: i for i, t in enumerate(counts.vocab)}
        self._lookup = lookup
        self.chunks = BM25._from(ids, counts, lookup)
        if file_counts is None:
            file_counts = counts.group(file_of, len(files))
        self.file_counts = file_counts
        self.by_file = BM25._from(list(files), file_counts, lookup)
        self._chunk_file: dict[str, str] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def chunk_file(self) -> dict[str, str]:
        with self._lock:
            if self._chunk_file is None:
                files = self.files
                self._chunk_file = {cid: files[f] for cid, f in zip(self.ids, self.file_of.tolist(), strict=True)}
            return self._chunk_file

    # -- building --------------------------------------------------------------
    @classmethod
    def build(cls, ids: list[str], texts: list[str], files: list[str], key: str = "",
              counts: dict[str, Counter] | None = None) -> KeywordIndex:
        """Tokenize every chunk (``ids``, ``texts``, ``files`` in Chroma's order) not in ``counts``."""
        known = counts or {}
        counts = _Counts.from_counters([known[i] if i in known else Counter(terms(t)) for i, t in zip(ids, texts, strict=True)])
        names, file_of = _file_table(files)
        return cls(list(ids), names, file_of, counts, key=key)

    def update(self, added: Iterable[tuple[str, str, str]], removed: Iterable[str], key: str = "",
               counts: dict[str, Counter] | None = None) -> KeywordIndex:
        """A new index without ``removed`` ids and with ``added`` ``(id, text, file)`` at the end.

        Only the added chunks are tokenized, and not those whose term counts
        (``Counter(terms(text))``) ``counts`` has already.
        """
        counts = counts or {}
        gone = set(removed)
        added = [a for a in added if a[0] not in gone]
        have = set(self.ids)
        added = [a for a in added if a[0] not in have]
        keep = np.fromiter((i for i, cid in enumerate(self.ids) if cid not in gone), dtype=np.int64)
        data = self.counts.select(keep) if len(keep) != len(self.ids) else self.counts
        vocab = list(data.vocab)
        counters = [counts[cid] if cid in counts else Counter(terms(text)) for cid, text, _ in added]
        data = data.append(_Counts.from_counters(counters, vocab, dict(self._lookup)))
        ids = [self.ids[i] for i in keep.tolist()] + [cid for cid, _, _ in added]
        files = [self.files[f] for f in self.file_of[keep].tolist()] + [file for _, _, file in added]
        names, file_of = _file_table(files)
        return KeywordIndex(ids, names, file_of, _compact(data), key=key)

    # -- disk ----------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically (a reader sees the old file or the new one, whole)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        c_ptr, c_docs, c_tf = self.counts.by_term()
        f_ptr, f_docs, f_tf = self.file_counts.by_term()
        meta = {"version": STORE_VERSION, "key": self.key, "files": self.files, "chunks": len(self.ids)}
        arrays = {
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            "ids": np.frombuffer("\n".join(self.ids).encode(), dtype=np.uint8),
            "vocab": np.frombuffer("\n".join(self.counts.vocab).encode(), dtype=np.uint8),
            "file_of": self.file_of.astype(np.int32),
            "indptr": self.counts.indptr, "terms": self.counts.terms, "tf": self.counts.tf,
            "t_indptr": c_ptr, "t_docs": c_docs, "t_tf": c_tf,
            "f_indptr": self.file_counts.indptr, "f_terms": self.file_counts.terms, "f_tf": self.file_counts.tf,
            "ft_indptr": f_ptr, "ft_docs": f_docs, "ft_tf": f_tf,
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path, key: str | None = None) -> KeywordIndex | None:
        """The index saved at ``path``, or None if it is missing, unreadable or for another ``key``."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes())
                if meta.get("version") != STORE_VERSION or (key is not None and meta.get("key") != key):
                    return None
                text = z["ids"].tobytes().decode()
                ids = text.split("\n") if text else []
                vocab_text = z["vocab"].tobytes().decode()
                vocab = vocab_text.split("\n") if vocab_text else []
                a = {k: z[k] for k in z.files if k not in ("meta", "ids", "vocab")}
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
            if not isinstance(e, FileNotFoundError):
                log.warning("Ignoring the keyword index at %s (%s); it will be rebuilt.", path, e)
            return None
        if len(ids) != meta.get("chunks") or len(a["file_of"]) != len(ids):
            return None
        counts = _Counts(vocab, a["indptr"], a["terms"], a["tf"], (a["t_indptr"], a["t_docs"], a["t_tf"]))
        file_counts = _Counts(vocab, a["f_indptr"], a["f_terms"], a["f_tf"], (a["ft_indptr"], a["ft_docs"], a["ft_tf"]))
        return cls(ids, list(meta["files"]), a["file_of"], counts, file_counts, key=meta.get("key", ""))


def _file_table(files: Sequence[str]) -> tuple[list[str], np.ndarray]:
    index: dict[str, int] = {}
    of = np.fromiter((index.setdefault(f, len(index)) for f in files), dtype=np.int32, count=len(files))
    return list(index), of


def _compact(counts: _Counts) -> _Counts:
    """Drop terms no document uses any more, once they are a tenth of the vocabulary."""
    used = np.zeros(len(counts.vocab), dtype=bool)
    used[counts.terms] = True
    if used.all() or used.sum() > 0.9 * len(used):
        return counts
    remap = np.cumsum(used) - 1
    vocab = [t for t, u in zip(counts.vocab, used.tolist(), strict=True) if u]
    return _Counts(vocab, counts.indptr, remap[counts.terms].astype(np.int32), counts.tf)
