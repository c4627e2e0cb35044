"""The keyword index and the lexicon are saved by ingest and loaded, not rebuilt, by readers.

Real Chroma (embedded, and a ``chroma run`` server shared by two "machines",
i.e. two RAG_HOMEs) and the real USE model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.retrieval.keyword import KeywordIndex
from tests.conftest import interrupt_ingest

pytestmark = pytest.mark.slow

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"
QUESTIONS = ["How much faster was the AI scene?", "Wann wurde Oesterheld verhaftet?", "Wer ist Eduardo Mirabelli?"]
NEW_ARTICLE = (
    "Quokkafilm dreht in Mendoza\n\n"
    "Das Studio Quokkafilm hat in Mendoza eine neue Serie über Weinbauern begonnen. "
    "Die Dreharbeiten sollen im Herbst enden, teilte die Produzentin Valeria Moreno mit.\n"
)


def _bot(home: Path, corpus: Path, **kw):
    from rag.assistant import Assistant

    return Assistant(home=home, articles_dir=corpus, auto_ingest=False, **kw)


def _assert_matches_store(index) -> KeywordIndex:
    """The saved keyword index is the one recorded, and equals one built from the store."""
    saved = KeywordIndex.load(index.derived_path("keyword"), index.keyword_key())
    assert saved is not None, "no saved keyword index for the recorded key"
    ids, texts, files = index.all_texts()
    built = KeywordIndex.build(ids, texts, files)
    assert saved.ids == ids and saved.chunk_file == built.chunk_file
    for q in [*QUESTIONS, "Quokkafilm Mendoza Weinbauern", "Netflix"]:
        assert saved.chunks.search(q, 20) == built.chunks.search(q, 20), q
        assert saved.by_file.search(q, 3) == built.by_file.search(q, 3), q
    return saved


def _vocabulary(index) -> set[str]:
    from rag.retrieval.lexicon import words

    return set().union(*(words(t) for t in index.all_texts()[1]))


def _no_rebuilds(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a, **_k):
        raise AssertionError("rebuilt from the store instead of loading the saved copy")

    monkeypatch.setattr(KeywordIndex, "build", classmethod(refuse))
    monkeypatch.setattr("rag.retrieval.keyword_files.KeywordIndexFiles._rebuild_keyword_index", refuse)
    monkeypatch.setattr("rag.retrieval.lexicon.Lexicon._fetch", refuse)


def test_ingest_saves_and_updates_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "articles"
    shutil.copytree(ARTICLES, corpus)
    home = tmp_path / "home"
    bot = _bot(home, corpus)
    import rag.retrieval.keyword

    with monkeypatch.context() as m:  # each chunk is tokenized once, with its embedding
        m.setattr(rag.retrieval.keyword, "terms", lambda text: pytest.fail("tokenized again for the keyword index"))
        m.setattr("rag.retrieval.store.PassageIndex.all_texts", lambda self: pytest.fail("read back from the store"))
        first = bot.ingest(corpus)
    assert first.added > 0
    saved = _assert_matches_store(bot.index)
    assert bot.index.derived_path("keyword").parent == home / "keyword"
    lexicon = bot.retriever.lexicon
    words, stems, vectors = lexicon._fetch()
    copy = lexicon._read(len(words))
    # Chroma (1.5.9) may hand back a stored float32 a unit in the last place off what it was given
    assert copy is not None and copy[0] == words and copy[1] == stems and np.allclose(copy[2], vectors, rtol=0, atol=1e-6)
    answers = {q: bot.ask(q).to_dict() for q in QUESTIONS}

    # Change the corpus: one file edited, one deleted, one added. Only the added chunks are
    # tokenized, once, with their embedding (``embed_and_count``), not again for the index.
    files = sorted(corpus.glob("*.txt"))
    edited, deleted = files[0], files[1]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nNachtrag: Die Szene entstand in Buenos Aires.\n",
                      encoding="utf-8")
    deleted.unlink()
    (corpus / "zz_quokka.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    tokenized: list[str] = []
    import rag.retrieval.embedding_interface
    import rag.retrieval.keyword

    real_terms = rag.retrieval.embedding_interface.terms  # looked up there by ``run_job``
    monkeypatch.setattr(
        rag.retrieval.embedding_interface, "terms", lambda text: tokenized.append(text) or real_terms(text)
    )
    monkeypatch.setattr(rag.retrieval.keyword, "terms", lambda text: pytest.fail("tokenized again for the keyword index"))
    monkeypatch.setattr(KeywordIndex, "build", classmethod(lambda *a, **k: pytest.fail("full rebuild at ingest")))
    second = bot.ingest(corpus)
    monkeypatch.undo()
    assert second.added > 0 and second.removed > 0
    assert len(tokenized) == second.added
    updated = _assert_matches_store(bot.index)
    assert updated.key != saved.key
    hit = bot.retriever.keyword_index().search([{"quokkafilm": 1.0}], 3)
    assert hit and bot.index.get([hit[0][0]])[hit[0][0]].passage.file == "zz_quokka.txt"
    assert deleted.name not in updated.files
    assert set(_vocabulary(bot.index)) <= set(bot.retriever.lexicon._fetch()[0])  # the added words too

    # Unchanged corpus: nothing embedded, the saved copy stays.
    third = bot.ingest(corpus)
    assert third.added == third.removed == 0
    assert bot.index.keyword_key() == updated.key

    # A fresh reader loads both copies and answers as the writer does, without rebuilding anything.
    answers = {q: bot.ask(q).to_dict() for q in QUESTIONS}
    _no_rebuilds(monkeypatch)
    reader = _bot(home, corpus)
    for q in QUESTIONS:
        assert reader.ask(q).to_dict()["citations"] == answers[q]["citations"], q


def test_interrupted_ingest_is_never_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between an ingest's first write and its last, readers rebuild; the next ingest repairs."""
    corpus = tmp_path / "articles"
    shutil.copytree(ARTICLES, corpus)
    home = tmp_path / "home"
    bot = _bot(home, corpus)
    bot.ingest(corpus)
    before = bot.index.keyword_key()

    # What a kill after the chunk writes leaves: the key cleared, new chunks stored, the
    # lexicon and the saved keyword index from before.
    (corpus / "zz_quokka.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    interrupt_ingest(bot, corpus, monkeypatch)
    assert bot.index.keyword_key() is None
    assert KeywordIndex.load(bot.index.derived_path("keyword")).key == before  # the old copy is still there

    reader = _bot(home, corpus)
    hit = reader.retriever.keyword_index().search([{"quokkafilm": 1.0}], 3)
    assert hit, "the reader's keyword index must include the chunks the store has"
    assert KeywordIndex.load(bot.index.derived_path("keyword")).key == before  # a reader never records a key

    assert "quokkafilm" not in bot.retriever.lexicon._fetch()[0]  # the lexicon update never ran
    repaired = bot.ingest(corpus)
    assert repaired.added == 0
    _assert_matches_store(bot.index)
    assert "quokkafilm" in bot.retriever.lexicon._fetch()[0]  # redone from every chunk


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.integration.test_chroma_server import ChromaServer

    root = tmp_path_factory.mktemp("chroma-server-kw")
    srv = ChromaServer(root / "data", root / "chroma.log")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_two_machines_on_one_server(server, tmp_path: Path) -> None:
    """Each machine keeps its own copy under its RAG_HOME and brings it up to date from the server."""
    corpus = tmp_path / "articles"
    shutil.copytree(ARTICLES, corpus)
    a = _bot(tmp_path / "a", corpus, chroma_url=server.url)
    b = _bot(tmp_path / "b", corpus, chroma_url=server.url)
    a.ingest(corpus)
    first = a.ask(QUESTIONS[0]).to_dict()
    assert b.ask(QUESTIONS[0]).to_dict()["citations"] == first["citations"]
    # B had no copy: it built one from the server and saved it under the key A recorded.
    assert KeywordIndex.load(b.index.derived_path("keyword"), a.index.keyword_key()) is not None
    assert b.index.derived_path("keyword").is_relative_to(tmp_path / "b")

    (corpus / "zz_quokka.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    a.ingest(corpus)
    b.retriever._checked = 0.0  # as after the recheck interval
    b.retriever.lexicon._checked = 0.0
    hit = b.retriever.keyword_index().search([{"quokkafilm": 1.0}], 3)
    assert hit and b.index.get([hit[0][0]])[hit[0][0]].passage.file == "zz_quokka.txt"
    saved = KeywordIndex.load(b.index.derived_path("keyword"), a.index.keyword_key())
    assert saved is not None and set(saved.ids) == set(a.index.manifest())


def test_an_index_written_before_text_moved_to_metadata_still_answers(tmp_path: Path) -> None:
    """Chunk records used to keep their text as the Chroma document; such an index still reads."""
    corpus = tmp_path / "articles"
    shutil.copytree(ARTICLES, corpus)
    home = tmp_path / "home"
    bot = _bot(home, corpus)
    bot.ingest(corpus)
    before = {q: bot.ask(q).text for q in QUESTIONS}
    chunks = bot.index.chunks
    got = chunks.get(include=["metadatas", "embeddings"])
    assert all("text" in m for m in got["metadatas"])
    chunks.delete(ids=got["ids"])
    chunks.add(ids=got["ids"], embeddings=got["embeddings"], documents=[m["text"] for m in got["metadatas"]],
               metadatas=[{k: v for k, v in m.items() if k != "text"} for m in got["metadatas"]])
    old = _bot(home, corpus)
    assert not old.index.reads_from_snapshot(), "the rewrite made the snapshot stale: answers come from Chroma"
    assert {q: old.ask(q).text for q in QUESTIONS} == before
    assert old.ingest(corpus).added == 0, "an unchanged corpus embeds nothing"
    assert {q: _bot(home, corpus).ask(q).text for q in QUESTIONS} == before
