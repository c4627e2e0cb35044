"""Faults and load: a killed ingest, asking during an ingest, two ingests at once.

Every ingest here is the real ``rag ingest`` in its own process, on a copy of
the baseline index, over the bundled articles plus reworded variants (about
450 chunks, two embedding batches, so there is a "midway").
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from pathlib import Path

import pytest

from .conftest import CONTROL, TEN_TIMES, Baseline, answer_key, assert_control_answer, run_rag
from .synthetic import Ingest, assert_index_exact, expected_chunks, make_corpus

pytestmark = pytest.mark.slow

COPIES = 4


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    folder = tmp_path_factory.mktemp("big") / "articles"
    make_corpus(folder, COPIES)
    return folder, expected_chunks(folder)


def _home(tmp_path: Path, baseline: Baseline) -> Path:
    home = tmp_path / "home"
    shutil.copytree(baseline.home, home)
    return home


def _open(home: Path, corpus: Path):
    from rag.assistant import Assistant

    return Assistant(home=home, articles_dir=corpus, auto_ingest=False)


def assert_keyword_index_saved(index) -> None:
    """The keyword index saved under the recorded key holds exactly the stored chunks."""
    from rag.retrieval.keyword import KeywordIndex

    saved = KeywordIndex.load(index.derived_path("keyword"), index.keyword_key())
    assert saved is not None
    assert saved.ids == index.all_texts()[0]


def _cli_answer(home: Path) -> dict:
    done = run_rag("ask", "--json", CONTROL, home=home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sigkill_midway_then_reingest(tmp_path: Path, baseline: Baseline, big_corpus) -> None:
    corpus, expected = big_corpus
    home = _home(tmp_path, baseline)
    new = len(expected) - baseline.count
    assert new > 256  # more than one batch: a kill after the first lands midway

    ingest = Ingest(corpus, home)
    written = ingest.wait_until_embedded(1)
    os.kill(ingest.proc.pid, signal.SIGKILL)
    assert ingest.wait() == -signal.SIGKILL
    assert 0 < written < new

    # The previous index is whole and still answers, from a fresh process. (The answer may now
    # quote a variant written before the kill: those repeat the articles' sentences.)
    answer = _cli_answer(home)
    assert not answer["abstained"] and answer["citations"], answer
    assert TEN_TIMES.search(answer["text"]), answer["text"]
    survivor = _open(home, corpus).index
    assert baseline.ids <= set(survivor.manifest())
    assert baseline.count <= survivor.count() <= baseline.count + written + 256
    # The saved keyword index isn't trusted (its key was cleared before the first write); a
    # reader's covers exactly the chunks stored, the ones written before the kill included.
    assert survivor.keyword_key() is None
    assert set(survivor.keyword_index().ids) == set(survivor.manifest())

    # The next ingest converges: every chunk exactly once, no orphans, only the missing ones embedded.
    done = run_rag("ingest", "-q", corpus, home=home)
    assert done.returncode == 0, done.stderr
    added = int(done.stdout.split(" added")[0].rsplit(" ", 1)[1])
    assert 0 < added <= len(expected) - baseline.count - written + 256  # at most the batch in flight redone
    bot = _open(home, corpus)
    assert_index_exact(bot.index, expected)
    assert_keyword_index_saved(bot.index)
    assert_control_answer(bot.ask(CONTROL))
    again = run_rag("ingest", "-q", corpus, home=home)
    assert again.returncode == 0 and f"0 added, 0 removed, {len(expected)} unchanged" in again.stdout


def test_asking_while_an_ingest_runs(tmp_path: Path, baseline: Baseline, big_corpus) -> None:
    corpus, expected = big_corpus
    home = _home(tmp_path, baseline)
    bot = _open(home, corpus)
    assert_control_answer(bot.ask(CONTROL))  # the reader is open before the writer starts

    ingest = Ingest(corpus, home, quiet=True)
    answers, errors = [], []

    def ask_until_done() -> None:
        while ingest.proc.poll() is None or len(answers) < 3:
            try:
                answers.append(bot.ask(CONTROL))
            except Exception as e:  # noqa: BLE001 - every failure is the finding
                errors.append(repr(e))

    asker = threading.Thread(target=ask_until_done)
    asker.start()
    assert ingest.wait() == 0, ingest.stderr[-2000:]
    asker.join(120)
    assert not errors, errors[:3]
    assert len(answers) >= 3
    for answer in answers:
        assert_control_answer(answer)

    # The reader that was open all along sees the finished index, and a fresh one does too.
    assert bot.index.count() == len(expected)
    assert_index_exact(_open(home, corpus).index, expected)
    assert_keyword_index_saved(_open(home, corpus).index)


def test_two_ingests_at_once_queue_on_the_lock(tmp_path: Path, baseline: Baseline, big_corpus) -> None:
    corpus, expected = big_corpus
    home = _home(tmp_path, baseline)
    first = Ingest(corpus, home, quiet=True)
    second = Ingest(corpus, home, quiet=True)
    assert first.wait() == 0, first.stderr[-2000:]
    assert second.wait() == 0, second.stderr[-2000:]
    outputs = sorted([first.stdout.decode(), second.stdout.decode()])
    new = len(expected) - baseline.count
    # One did the work; the other queued behind the lock and found nothing left to do.
    assert any(f"{new} added, 0 removed" in out for out in outputs), outputs
    assert any(f"0 added, 0 removed, {len(expected)} unchanged" in out for out in outputs), outputs
    assert b"Another ingest is running on this index; waiting" in first.stderr + second.stderr
    assert_index_exact(_open(home, corpus).index, expected)
    assert_keyword_index_saved(_open(home, corpus).index)


def test_a_second_ingest_that_cannot_wait_fails_clearly(tmp_path: Path, baseline: Baseline, big_corpus) -> None:
    from ingest.indexer import _ingest_lock
    from rag.errors import IngestBusyError

    corpus, _ = big_corpus
    home = _home(tmp_path, baseline)
    bot = _open(home, corpus)
    with _ingest_lock(bot.index, wait=5):  # someone else holds the index
        from ingest.indexer import sync_folder

        with pytest.raises(IngestBusyError, match=r"Another ingest has held the index for over 0 s\. Try again"):
            sync_folder(corpus, bot.index, wait=0.3)
    assert bot.index.count() == baseline.count
    assert answer_key(bot.ask(CONTROL)) == answer_key(baseline.answer)


def test_ingest_and_questions_in_one_process(tmp_path: Path, baseline: Baseline, big_corpus) -> None:
    """The page and the Slack bot ingest and answer from one Assistant on several threads."""
    corpus, expected = big_corpus
    home = _home(tmp_path, baseline)
    bot = _open(home, corpus)
    errors: list[str] = []
    answers = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            try:
                answers.append(bot.ask(CONTROL))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for t in askers:
        t.start()
    try:
        report = bot.ingest(corpus)
    finally:
        done.set()
        for t in askers:
            t.join(60)
    assert not errors, errors[:3]
    assert answers and all(not a.abstained and a.citations for a in answers)
    assert report.added == len(expected) - baseline.count
    assert_index_exact(bot.index, expected)
