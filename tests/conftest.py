"""Shared fixtures: a real engine over a copy of the bundled corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "data" / "articles"
# Shipped with the project (a copy of ../shared/eval/dev_questions.jsonl), so a fresh clone tests it too.
DEV_QUESTIONS = ROOT / "eval" / "dev_questions.jsonl"
TEN_TIMES = ("zehnmal schneller", "10‑mal kürzerer", "10-mal kürzerer")
# Fixtures that load the real model and ingest the corpus: tests using them take seconds each.
REAL_ENGINE_FIXTURES = {"engine", "baseline", "real_assistant"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep ``pytest -m "not slow"`` fast: a test on the real engine must be marked slow."""
    unmarked = [
        item.nodeid
        for item in items
        if REAL_ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        listed = "\n  ".join(unmarked)
        msg = f"these tests use the real engine ({', '.join(sorted(REAL_ENGINE_FIXTURES))}) but aren't marked slow:\n  {listed}"
        raise pytest.UsageError(msg)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """A private copy of data/articles."""
    target = tmp_path_factory.mktemp("corpus") / "articles"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture(scope="session")
def engine(tmp_path_factory, corpus):
    """A real Assistant (Chroma embedded, USE embeddings) with the corpus ingested once."""
    from rag import Assistant, Settings

    home = tmp_path_factory.mktemp("rag-home")
    settings = Settings.from_env(env={}, home=home, articles_dir=corpus)
    bot = Assistant(settings)
    bot.ingest(corpus)
    return bot


def says_ten_times(text: str) -> bool:
    return any(phrase in text for phrase in TEN_TIMES)


def files_stating_ten_times() -> set[str]:
    return {p.name for p in ARTICLES.glob("*.txt") if says_ten_times(p.read_text(encoding="utf-8"))}


def interrupt_ingest(bot, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest ``corpus`` and kill it after its Chroma writes, before the lexicon and keyword index."""

    def killed(*_a, **_k):
        raise RuntimeError("killed")

    monkeypatch.setattr("rag.retrieval.lexicon.Lexicon.update", killed)
    with pytest.raises(RuntimeError, match="killed"):
        bot.ingest(corpus)
    monkeypatch.undo()
