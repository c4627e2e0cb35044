"""Cross-language word matching through the embedding model.

USE multilingual was trained on translation pairs, so single words embed close
to their translations ("faster" ~ "schneller" 0.94, "arrested" ~ "verhaftet"
0.81). The lexicon stores one vector per corpus word; a question word the
corpus never uses is mapped to the corpus words nearest to it. Keyword search
and the answerer's word overlap then see "schneller" in "How much faster…".
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import zipfile

import numpy as np

from rag.retrieval.chroma_client import LEXICON
from rag.text import STOPWORDS, fold, normalize, stem

log = logging.getLogger(__name__)

MIN_SIMILARITY = 0.7
MAX_ALTERNATIVES = 3
RECHECK_SECONDS = 5.0
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
LEXICON_VERSION = 1
# Chunk-collection metadata: how many words the lexicon had when its copy was saved.
LEXICON_WORDS = "lexicon_words"


def _lines(array: np.ndarray) -> list[str]:
    text = array.tobytes().decode()
    return text.split("\n") if text else []


def words(text: str) -> set[str]:
    """Lower-case content words of ``text`` as written (letters only, 3+ characters, no stopwords).

    Umlauts are kept: the embedding model knows "auflösung", not "auflosung".
    """
    return {w for w in _WORD.findall(normalize(text).replace("-", " ")) if fold(w) not in STOPWORDS}


def term_of(word: str) -> str:
    """The keyword-search term of a word (see ``rag.text.terms``)."""
    return stem(fold(word))


class Lexicon:
    """Word vectors of a corpus' vocabulary, kept in a side collection of the index.

    A copy is saved under RAG_HOME (``PassageIndex.derived_path("lexicon")``), so a
    fresh process reads one file instead of every vector from Chroma. Words are
    only ever added, so the collection's id and word count name the copy that
    matches it.
    """

    def __init__(self, index, embeddings) -> None:
        self.embeddings = embeddings
        self._index = index
        self._collection = index.side_collection(LEXICON)
        derived = getattr(index, "derived_path", None)
        self._path = derived("lexicon") if derived else None
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
        have: list[str] = []
        total = self._collection.count()
        for offset in range(0, total, 10_000):
            have.extend(self._collection.get(include=[], limit=10_000, offset=offset)["ids"])
        new = sorted(texts_words - set(have))
        if not new:
            if self._read(len(have)) is None or self._recorded_size() != len(have):
                self._save(*self._fetch(), record=True)
            return 0
        from tqdm import tqdm  # lazy: only ingest shows progress

        vectors: list[np.ndarray] = []
        with tqdm(total=len(new), unit="word", desc="lexicon", disable=not progress, leave=False) as bar:
            for lo in range(0, len(new), 512):
                batch = new[lo : lo + 512]
                vecs = self.embeddings.embed(batch)
                self._collection.upsert(
                    ids=batch, embeddings=vecs, metadatas=[{"term": term_of(w)} for w in batch]
                )
                vectors.append(np.asarray(vecs, dtype=np.float32))
                bar.update(len(batch))
        base = self._read(len(have))
        if base is not None and base[0] == have:
            words_, stems, matrix = base
            # The vectors as Chroma stores and returns them: float32.
            self._save(words_ + new, stems + [term_of(w) for w in new], np.vstack([matrix, *vectors]), record=True)
        else:
            self._save(*self._fetch(), record=True)
        self._checked = 0.0
        return len(new)

    # -- the saved copy --------------------------------------------------------
    def _key(self, count: int) -> str:
        return f"{self._collection.id}:{count}"

    def _read(self, count: int) -> tuple[list[str], list[str], np.ndarray] | None:
        if self._path is None:
            return None
        try:
            with np.load(self._path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes())
                if meta.get("version") != LEXICON_VERSION or meta.get("key") != self._key(count):
                    return None
                words_ = _lines(z["words"])
                stems = _lines(z["stems"])
                matrix = z["vectors"]
        except FileNotFoundError:
            return None
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
            log.warning("Ignoring the lexicon copy at %s (%s).", self._path, e)
            return None
        if not (len(words_) == len(stems) == len(matrix) == count):
            return None
        return words_, stems, matrix

    def _recorded_size(self) -> int | None:
        """The word count ingest recorded with the chunks (reading it doesn't load the word vectors)."""
        meta = getattr(self._index, "chunk_metadata", None)
        size = meta().get(LEXICON_WORDS) if meta else None
        return size if isinstance(size, int) else None

    def _save(self, words_: list[str], stems: list[str], matrix: np.ndarray, *, record: bool = False) -> None:
        """Write the copy; ``record`` (ingest only, under its lock) notes its size with the chunks."""
        if self._path is None:
            return
        meta = {"version": LEXICON_VERSION, "key": self._key(len(words_))}
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                    words=np.frombuffer("\n".join(words_).encode(), dtype=np.uint8),
                    stems=np.frombuffer("\n".join(stems).encode(), dtype=np.uint8),
                    vectors=np.asarray(matrix, dtype=np.float32).reshape(len(words_), -1),
                )
            os.replace(tmp, self._path)
            if record and self._recorded_size() != len(words_) and hasattr(self._index, "set_chunk_metadata"):
                self._index.set_chunk_metadata(**{LEXICON_WORDS: len(words_)})
        except OSError as e:
            log.warning("Can't save the lexicon copy to %s (%s).", self._path, e)
        finally:
            tmp.unlink(missing_ok=True)

    def _fetch(self) -> tuple[list[str], list[str], np.ndarray]:
        """Every word, term and vector, from the collection."""
        words_, stems, vectors = [], [], []
        total = self._collection.count()
        for offset in range(0, total, 10_000):
            got = self._collection.get(include=["embeddings", "metadatas"], limit=10_000, offset=offset)
            words_.extend(got["ids"])
            stems.extend(m["term"] for m in got["metadatas"])
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, 512), dtype=np.float32)
        return words_, stems, matrix

    def _load(self) -> None:
        now = time.monotonic()
        if self._loaded_count >= 0 and now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        # The size ingest recorded, else the collection's count. Counting loads Chroma's
        # vector index of the words (0.2 s for 1,500 words), which answering never needs.
        total = self._recorded_size()
        if total is None:
            total = self._collection.count()
        if total == self._loaded_count:
            return
        got = self._read(total)
        if got is None:
            got = self._fetch()
            self._save(*got)
        words_, stems, matrix = got
        self._words, self._stems = words_, stems
        self._known = set(words_)
        self._matrix = matrix if len(words_) else np.zeros((0, 512), dtype=np.float32)
        self._loaded_count = len(words_)

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
