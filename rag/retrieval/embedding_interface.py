"""The interface every embedding model here implements.

It is LangChain's ``Embeddings`` interface (``embed_documents``, ``embed_query``
and their async forms), implemented without subclassing it: importing
``langchain_core`` takes 0.2-0.4 s, which every ``rag ask`` would pay. On top of
it: a stable ``model_id`` and the batched forms ingest uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from rag.text import terms


class NamedEmbeddings:
    """LangChain's ``Embeddings`` interface, plus the model's stable ``model_id``.

    The id names the Chroma collection, so vectors of different models are
    never mixed.
    """

    model_id: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        raise NotImplementedError

    def embed_batches(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        """``embed`` of each batch, in order (a model may compute ahead, in other processes)."""
        for vectors, _ in self.embed_and_count(batches):
            yield vectors

    def embed_and_count(
        self, batches: list[list[str]], term_texts: list[list[str]] | None = None
    ) -> Iterator[tuple[np.ndarray, list[Counter]]]:
        """For each batch, its vectors and the keyword term counts of ``term_texts`` (same batch).

        Ingest's two CPU-bound steps on new chunks; a model may run them ahead in other processes.
        """
        for i, batch in enumerate(batches):
            yield run_job(self, batch, term_texts[i] if term_texts is not None else [])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


def run_job(
    model: NamedEmbeddings, texts: list[str], term_texts: list[str]
) -> tuple[np.ndarray, list[Counter]]:
    """One job of ``embed_and_count``: the vectors of ``texts`` and the term counts of ``term_texts``."""
    return model.embed(texts), [Counter(terms(t)) for t in term_texts]
