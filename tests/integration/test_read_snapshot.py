"""Ingest writes a read snapshot; a fresh process answers from it without importing chromadb.

Real Chroma (embedded) and the real USE model. The snapshot is used only while the
store's write stamp is the one it was taken at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.retrieval.store import PassageIndex
from tests.conftest import interrupt_ingest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "data" / "articles"
QUESTIONS = [
    "How much faster was the AI scene?",
    "Wann wurde Oesterheld verhaftet?",
    "Wer ist Eduardo Mirabelli?",
    "Netflix",
    "Wo dreht Quokkafilm?",
]
NEW_ARTICLE = (
    "Quokkafilm dreht in Mendoza\n\n"
    "Das Studio Quokkafilm hat in Mendoza eine neue Serie über Weinbauern begonnen. "
    "Die Dreharbeiten sollen im Herbst enden, teilte die Produzentin Valeria Moreno mit.\n"
)
_CHILD = """
import json, sys
from rag.assistant import Assistant
bot = Assistant(auto_ingest=False)
answers = {q: bot.ask(q).to_dict() for q in json.loads(sys.argv[1])}
print(json.dumps({"chromadb": "chromadb" in sys.modules, "answers": answers}))
"""


def _bot(home: Path, corpus: Path):
    from rag.assistant import Assistant

    return Assistant(home=home, articles_dir=corpus, auto_ingest=False)


def _seen(answer: dict) -> dict:
    """An answer without its timings: text, citations, sources and their scores, ..."""
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def _child(home: Path, corpus: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_HOME=str(home), RAG_ARTICLES_DIR=str(corpus), PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(QUESTIONS)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _exact_query(self, col, vector, n):
    """Nearest records of ``col`` by its vectors as Chroma stores them, ranked exactly."""
    got = self._call(col.get, include=["embeddings"])
    matrix = np.asarray(got["embeddings"], dtype=np.float32)
    sims = matrix @ (vector / np.linalg.norm(vector)) / np.linalg.norm(matrix, axis=1)
    return [(got["ids"][r], float(sims[r])) for r in np.argsort(-sims, kind="stable")[:n]]


def _from_chroma(home: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Answers read from Chroma. Its HNSW search is approximate, and after deletions it can miss
    neighbours in one run and not the next, so the reference ranks Chroma's vectors exactly."""
    with monkeypatch.context() as m:
        m.setattr(PassageIndex, "_snapshot", lambda self: None)
        m.setattr(PassageIndex, "_query", _exact_query)
        bot = _bot(home, corpus)
        return {q: _seen(bot.ask(q).to_dict()) for q in QUESTIONS}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "articles"
    shutil.copytree(ARTICLES, target)
    return target


def test_fresh_process_answers_from_the_snapshot_without_chromadb(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _bot(home, corpus).ingest(corpus)
    pointers = list((home / "snapshot").glob("*.json"))
    assert len(pointers) == 1, "ingest writes one snapshot"

    child = _child(home, corpus)
    assert child["chromadb"] is False, "a current snapshot answers without importing chromadb"
    expected = _from_chroma(home, corpus, monkeypatch)
    for q in QUESTIONS:
        assert _seen(child["answers"][q]) == expected[q], q

    # An unchanged re-ingest keeps the snapshot; so a reader still needs no Chroma.
    assert _bot(home, corpus).ingest(corpus).added == 0
    assert list((home / "snapshot").glob("*.json")) == pointers
    assert _child(home, corpus)["chromadb"] is False


def test_the_snapshot_answers_as_chroma_does_after_changes(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A running engine rechecks its keyword index and lexicon every 5 s; here, at every question.
    monkeypatch.setattr("rag.retrieval.retriever.RECHECK_SECONDS", 0.0)
    monkeypatch.setattr("rag.retrieval.lexicon.RECHECK_SECONDS", 0.0)
    home = tmp_path / "home"
    writer = _bot(home, corpus)
    writer.ingest(corpus)
    reader = _bot(home, corpus)
    reader.ask(QUESTIONS[0])
    assert reader.index._snapshot() is not None

    files = sorted(corpus.glob("*.txt"))
    files[0].write_text(files[0].read_text(encoding="utf-8") + "\n\nNachtrag: Die Szene entstand in Buenos Aires.\n",
                        encoding="utf-8")
    files[1].unlink()
    (corpus / "zz_quokka.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    report = writer.ingest(corpus)
    assert report.added > 0 and report.removed > 0

    # The running reader picks up the new snapshot (another process' ingest changed the stamp).
    snap = reader.index._snapshot()
    assert snap is not None and len(snap.chunk_ids) == reader.index.count()
    got = {q: _seen(reader.ask(q).to_dict()) for q in QUESTIONS}
    assert any(c["file"] == "zz_quokka.txt" for c in got["Wo dreht Quokkafilm?"]["citations"])
    assert got == _from_chroma(home, corpus, monkeypatch)


def test_a_stale_snapshot_is_not_used(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest killed after writing Chroma leaves the old snapshot, which readers then ignore."""
    home = tmp_path / "home"
    bot = _bot(home, corpus)
    bot.ingest(corpus)
    old = bot.index._snapshot()
    assert old is not None

    (corpus / "zz_quokka.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    interrupt_ingest(bot, corpus, monkeypatch)
    assert list((home / "snapshot").glob("*.json")), "the old snapshot is left in place"

    reader = _bot(home, corpus)
    assert reader.index._snapshot() is None, "Chroma was written since: the snapshot is stale"
    assert reader.index.count() == len(old.chunk_ids) + 1
    answer = reader.ask("Wo dreht Quokkafilm?").to_dict()
    assert any(c["file"] == "zz_quokka.txt" for c in answer["citations"])
    assert _child(home, corpus)["chromadb"] is True, "a stale snapshot sends readers to Chroma"

    bot.ingest(corpus)  # repairs, and writes a current snapshot
    assert reader.index._snapshot() is not None
    assert _child(home, corpus)["chromadb"] is False


def test_engines_held_open_keep_no_file_open_for_a_small_snapshot(tmp_path: Path, corpus: Path) -> None:
    """A test session or a server holds many engines; a small snapshot is read, not mapped, so
    they don't each keep descriptors open (which ran a full test run out of them)."""
    home = tmp_path / "home"
    _bot(home, corpus).ingest(corpus)
    first = _bot(home, corpus)
    first.ask(QUESTIONS[0])
    before = len(os.listdir("/proc/self/fd"))
    held = []
    for _ in range(20):
        bot = _bot(home, corpus)
        bot.ask(QUESTIONS[0])
        held.append(bot)
    assert len(os.listdir("/proc/self/fd")) - before < 20


def _warmed(bot) -> None:
    """Load the model, as a front-end does at start, and wait for the warm-up beside it."""
    import threading

    bot.embeddings.embed(["warm-up"])
    for thread in threading.enumerate():
        if thread.name == "rag-warm-up":
            thread.join(timeout=120)


def test_a_fresh_engine_loads_the_keyword_index_while_its_model_loads(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    _bot(home, corpus).ingest(corpus)
    loads: list[str] = []
    original = PassageIndex.keyword_index
    monkeypatch.setattr(PassageIndex, "keyword_index", lambda self: loads.append("load") or original(self))
    bot = _bot(home, corpus)
    _warmed(bot)
    assert loads == ["load"], "the warm-up loaded the keyword index before any question"
    assert bot.index._client_obj is None, "from the read snapshot, without opening Chroma"
    assert not bot.ask(QUESTIONS[0]).abstained
    assert loads == ["load"], "the first question found it loaded"


def test_the_warm_up_never_opens_chroma_without_a_snapshot(tmp_path: Path, corpus: Path) -> None:
    bot = _bot(tmp_path / "empty-home", corpus)
    _warmed(bot)
    assert bot.index._client_obj is None
    assert not (tmp_path / "empty-home" / "chroma").exists()
