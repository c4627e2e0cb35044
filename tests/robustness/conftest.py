"""Shared set-up for the robustness tests: one real index, copied per test.

The bundled articles are ingested once, by the real ``rag ingest`` in a
subprocess, into a pristine ``RAG_HOME`` that no test opens. Each test that
changes an index gets its own copy of that folder and of the corpus (a copy
takes milliseconds; re-ingesting takes seconds), so every test starts from the
same known state: the baseline chunk count, chunk ids and control answer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rag.types import Answer

PROJECT = Path(__file__).resolve().parents[2]
ARTICLES = PROJECT / "data" / "articles"
CONTROL = "How much faster was the AI scene?"
TEN_TIMES = re.compile(r"zehnmal|10\W?mal", re.IGNORECASE)
RAG = [sys.executable, "-m", "ui.cli"]
# Anything that could point a subprocess at another index, model or secret.
_DROP = ("RAG_", "SLACK_", "OPENAI_", "OLLAMA_")


def clean_env(home: Path, articles: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a ``rag`` subprocess on ``home``: no inherited RAG_* or secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env["RAG_HOME"] = str(home)
    if articles is not None:
        env["RAG_ARTICLES_DIR"] = str(articles)
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run_rag(*args: str | Path, home: Path, articles: Path | None = None, timeout: float = 300,
            **extra: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (``python -m ui.cli``) to completion."""
    return subprocess.run(
        [*RAG, *map(str, args)],
        env=clean_env(home, articles, **extra),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def answer_key(answer: Answer) -> tuple[Any, ...]:
    """What must stay the same for "the control answer is unchanged"."""
    return (
        answer.text,
        answer.abstained,
        tuple((c.file, c.char_start, c.char_end, c.quote) for c in answer.citations),
    )


def assert_control_answer(answer: Answer) -> None:
    assert not answer.abstained, answer.text
    assert answer.citations, answer.text
    assert TEN_TIMES.search(answer.text), answer.text
    assert all(re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", c.file) for c in answer.citations), answer.citations


@dataclass
class Baseline:
    """The index of the bundled articles, as every test starts from it."""

    corpus: Path
    home: Path
    count: int
    sentences: int
    ids: frozenset[str]
    answer: Answer


class Sandbox:
    """A private copy of the baseline corpus and index, with a real ``Assistant`` on it."""

    def __init__(self, root: Path, baseline: Baseline) -> None:
        from rag.assistant import Assistant

        self.baseline = baseline
        self.corpus = root / "articles"
        self.home = root / "home"
        shutil.copytree(baseline.corpus, self.corpus, symlinks=True)
        shutil.copytree(baseline.home, self.home)
        self.bot = Assistant(home=self.home, articles_dir=self.corpus, auto_ingest=False)

    def ingest(self, folder: Path | None = None):
        return self.bot.ingest(folder or self.corpus)

    def count(self) -> int:
        return self.bot.index.count()

    def ids(self) -> frozenset[str]:
        return frozenset(self.bot.index.manifest())

    def texts_of(self, file: str) -> list[str]:
        _, texts, files = self.bot.index.all_texts()
        return [t for t, f in zip(texts, files, strict=True) if f == file]

    def ask(self, question: str = CONTROL) -> Answer:
        return self.bot.ask(question)

    def assert_unchanged(self) -> None:
        """Chunk count, chunk ids and the control answer are exactly the baseline's."""
        assert self.count() == self.baseline.count
        assert self.ids() == self.baseline.ids
        assert answer_key(self.ask()) == answer_key(self.baseline.answer)

    def assert_grew_by(self, chunks: list) -> None:
        """The index holds the baseline plus exactly ``chunks``, and still answers the control question."""
        assert self.count() == self.baseline.count + len(chunks)
        assert self.ids() == self.baseline.ids | {c.id for c in chunks}
        assert answer_key(self.ask()) == answer_key(self.baseline.answer)


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    root = tmp_path_factory.mktemp("baseline")
    corpus = root / "articles"
    home = root / "home"
    shutil.copytree(ARTICLES, corpus)
    done = run_rag("ingest", "-q", corpus, home=home)
    assert done.returncode == 0, done.stderr
    # Read the figures from a copy: the pristine folder is never opened in this process.
    probe = tmp_path_factory.mktemp("baseline-probe")
    shutil.copytree(home, probe / "home")
    from rag.assistant import Assistant

    bot = Assistant(home=probe / "home", articles_dir=corpus, auto_ingest=False)
    answer = bot.ask(CONTROL)
    assert_control_answer(answer)
    return Baseline(
        corpus=corpus,
        home=home,
        count=bot.index.count(),
        sentences=bot.index.sentences.count(),
        ids=frozenset(bot.index.manifest()),
        answer=answer,
    )


@pytest.fixture
def sandbox(tmp_path: Path, baseline: Baseline) -> Sandbox:
    return Sandbox(tmp_path, baseline)


@pytest.fixture(scope="session")
def control_bot(tmp_path_factory: pytest.TempPathFactory, baseline: Baseline) -> Sandbox:
    """One sandbox shared by tests that only ask (they must not change it)."""
    return Sandbox(tmp_path_factory.mktemp("control"), baseline)


@pytest.fixture
def clean_tmp() -> Iterator[Path]:
    """A temp folder outside pytest's tree (for files that must live outside the corpus)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="rag-outside-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
