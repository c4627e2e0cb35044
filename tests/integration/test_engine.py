"""The real engine end to end: Chroma on disk, USE embeddings, the bundled articles."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import pytest

from rag import Assistant, Settings
from rag.answering.citations import problems
from rag.evaluate import evaluate_file
from rag.text import normalize
from tests.conftest import ARTICLES, DEV_QUESTIONS, ROOT, files_stating_ten_times, says_ten_times

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "question", ["How much faster was the AI scene?", "Wie viel schneller wurde die KI-Szene produziert?"]
)
def test_ten_times_faster_in_english_and_german(engine, question):
    answer = engine.ask(question)
    assert not answer.abstained
    assert says_ten_times(answer.text)
    cited = [c for c in answer.citations if says_ten_times(c.quote)]
    assert cited and all(c.file in files_stating_ten_times() for c in cited)
    assert problems(answer, engine.settings.articles_dir) == []


def test_out_of_corpus_question_is_declined(engine):
    answer = engine.ask("Who won the 2022 football World Cup?")
    assert answer.abstained
    assert answer.citations == [] and "[" not in answer.text
    assert "don't cover" in answer.text


def dev_questions() -> list[dict]:
    """The project's copy of the dev set; a missing or short file fails rather than testing nothing."""
    assert DEV_QUESTIONS.is_file(), f"{DEV_QUESTIONS} is missing: it ships with the project"
    rows = [json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 20, f"{DEV_QUESTIONS} holds only {len(rows)} questions"
    return rows


def test_every_dev_answer_has_verified_citations(engine):
    for row in dev_questions():
        answer = engine.ask(row["question"])
        assert problems(answer, engine.settings.articles_dir) == [], answer.question


def test_reingest_of_unchanged_corpus_embeds_nothing(engine, corpus):
    before = engine.index.count()
    report = engine.ingest(corpus)
    assert (report.added, report.removed, report.unchanged) == (0, 0, before)
    assert report.summary().startswith(f"5 files: 0 added, 0 removed, {before} unchanged")


def test_edited_file_is_replaced_and_deleted_file_removed(tmp_path):
    corpus = tmp_path / "articles"
    shutil.copytree(ARTICLES, corpus)
    bot = Assistant(Settings.from_env(env={}, home=tmp_path / "home", articles_dir=corpus))
    first = bot.ingest(corpus)
    target = corpus / "003_b27880a03e2c9224.txt"
    old_text = target.read_text(encoding="utf-8")
    target.write_text(old_text.replace("in Buenos Aires", "in Patagonien"), encoding="utf-8")
    edited = bot.ingest(corpus)
    assert edited.added >= 1 and edited.removed >= 1
    assert bot.index.count() == first.added - edited.removed + edited.added
    texts = bot.index.all_texts()[1]
    assert not any("Einsturz eines Gebäudes in Buenos Aires" in t for t in texts if "Laut" in t)
    assert "Patagonien" in bot.ask("Die betreffende Szene zeigt den Einsturz eines Gebäudes wo?").text

    gone = corpus / "001_795e8594a4bac91d.txt"
    n_before = bot.index.count()
    gone.unlink()
    removed = bot.ingest(corpus)
    assert removed.added == 0 and removed.removed > 0
    assert bot.index.count() == n_before - removed.removed
    assert set(bot.index.manifest().values()) == {p.name for p in corpus.iterdir()}


def test_first_ask_ingests_an_empty_index_and_says_so(tmp_path, caplog):
    bot = Assistant(Settings.from_env(env={}, home=tmp_path / "home", articles_dir=ARTICLES))
    with caplog.at_level(logging.WARNING, logger="rag"):
        answer = bot.ask("How much faster was the AI scene?")
    assert "index is empty" in caplog.text
    assert says_ten_times(answer.text)


def run_cli(*args: str, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_HOME": str(home), "RAG_ARTICLES_DIR": str(ARTICLES)}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_cli_ingest_ask_and_json(tmp_path):
    home = tmp_path / "home"
    first = run_cli("ingest", "-q", home=home)
    assert first.returncode == 0 and " added, 0 removed, 0 unchanged" in first.stdout
    again = run_cli("ingest", "-q", home=home)
    assert again.returncode == 0 and "0 added, 0 removed" in again.stdout

    out = run_cli("ask", "How much faster was the AI scene?", home=home)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert "[1]" in lines[0]
    assert lines[1].startswith("[1] ") and ".txt:" in lines[1] and lines[1].endswith('"')

    js = json.loads(run_cli("ask", "--json", "Wann wurde Oesterheld verhaftet?", home=home).stdout)
    assert not js["abstained"] and "1977" in js["text"]
    assert {"n", "file", "line_start", "line_end", "char_start", "char_end", "quote", "score"} <= set(js["citations"][0])

    empty = run_cli("ask", "   ", home=home)
    assert empty.returncode == 2 and empty.stderr.startswith("error: The question is empty")
    assert "Traceback" not in empty.stderr


@pytest.mark.parametrize(("question", "value", "line"), [
    ("Who wrote the TechCrunch article?", "Ivan Mehta", "Autor: Ivan Mehta, TechCrunch"),
    ("Wann erschien der Artikel von Ivan Mehta?", "2025-07-18", "Veröffentlicht am: 18. Juli 2025"),
    ("When was the October article about Hollywood and AI published?", "2025-10-26", "26/10/2025Netflix hat"),
])
def test_questions_about_an_article_name_the_answer_and_cite_its_line(engine, question, value, line):
    answer = engine.ask(question)
    assert not answer.abstained, answer.text
    assert answer.text.startswith(value) and answer.span is not None and answer.span.normalized == value
    assert normalize(answer.citations[0].quote).startswith(normalize(line))
    assert problems(answer, engine.settings.articles_dir) == []


def test_an_article_that_states_no_author_says_so_instead_of_guessing(engine):
    answer = engine.ask("Wer ist der Autor des Artikels, der sich auf einen BBC-Bericht stützt?")
    assert answer.abstained and answer.citations == []
    assert "nennt keinen Autor" in answer.text


def test_cli_json_for_an_author_question_carries_the_span_and_the_byline(tmp_path):
    js = json.loads(run_cli("ask", "--json", "Who wrote the TechCrunch article?", home=tmp_path / "home").stdout)
    assert not js["abstained"] and js["span"]["normalized"] == "Ivan Mehta"
    first = js["citations"][0]
    assert first["quote"] == "Autor: Ivan Mehta, TechCrunch" and first["file"].startswith("001_") and first["line_start"] == 4


def test_cli_output_cut_short_by_its_reader_ends_without_a_traceback(tmp_path):
    """`rag ask --json … | head -0`: the reader is gone before the answer is written."""
    home = tmp_path / "home"
    assert run_cli("ingest", "-q", home=home).returncode == 0
    env = {**os.environ, "RAG_HOME": str(home), "RAG_ARTICLES_DIR": str(ARTICLES)}
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "--json", "Who wrote the TechCrunch article?"],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, timeout=300)
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_dev_set_quality_regression_guard(engine):
    """A regression guard, not a quality measure: the evidence judge isn't fitted on these
    questions, but its features were designed looking at them, so passing here says the
    method hasn't slipped, not how it does on questions it has never seen."""
    assert len(dev_questions()) >= 20
    summary = evaluate_file(engine, DEV_QUESTIONS)["summary"]
    assert summary["hit@5"] >= 0.85
    assert summary["answer_accuracy"] >= 0.8
    assert summary["citations_valid"] == 1.0
    assert summary["abstain_correct"] == 2
    assert summary["false_abstain"] <= 1


HELD_OUT = ROOT / "eval" / "qa_test.jsonl"


def _held_out(engine):
    report = evaluate_file(engine, HELD_OUT)
    rows, summary = report["rows"], report["summary"]
    near_miss = [r for r in rows if r["abstain_expected"]]
    answerable = [r for r in rows if not r["abstain_expected"]]
    assert len(near_miss) >= 10 and len(answerable) >= 30, (len(near_miss), len(answerable))
    declined = sum(r["abstained"] for r in near_miss) / len(near_miss)
    false_declines = sum(r["abstained"] for r in answerable) / len(answerable)
    return summary, declined, false_declines


def test_quality_on_the_held_out_test_split_does_not_slip(engine):
    """Questions nothing was fitted on (eval/qa_test.jsonl): today's level, as a regression guard
    (measured on its 90 questions: answers right 0.79, near misses declined 30 of 34, 1 of 56
    answerable ones declined)."""
    summary, declined, false_declines = _held_out(engine)
    assert summary["answer_accuracy"] >= 0.74, summary
    assert declined >= 0.75, summary
    assert summary["hit@5"] >= 0.8, summary
    assert false_declines <= 0.05, summary
    assert summary["citations_valid"] == 1.0, summary


@pytest.mark.xfail(strict=True, reason="issue 11 is open: answers right 0.79 of the 0.85 asked (docs/answer-quality.md)")
def test_quality_on_the_held_out_test_split_meets_the_answer_quality_targets(engine):
    """The targets of the answer-quality issue (#11); strict, so it fails loudly once they are met."""
    summary, declined, false_declines = _held_out(engine)
    assert summary["answer_accuracy"] >= 0.85, summary
    assert declined >= 0.85, summary
    assert false_declines <= 0.05, summary


def test_the_judge_declines_what_nothing_is_about_and_says_why(engine):
    answer = engine.ask("What is the boiling point of tungsten?")
    assert answer.abstained and not answer.citations
    assert answer.evidence["verdict"] != "answers"
    assert any("nothing retrieved is about the question" in r for r in answer.evidence["reasons"])
    answered = engine.ask("How much faster was the AI scene made?")
    assert not answered.abstained and answered.evidence["verdict"] == "answers"
    assert 0.0 < answered.evidence["probability"] <= 1.0


def test_rag_fit_judge_reproduces_the_shipped_claim_check_cuts(engine, tmp_path):
    """The claim check's cuts in the repo are what `rag fit-judge` computes on eval/claims.jsonl."""
    from rag.claim_eval import fit_claim_check
    from rag.generation.cuts import Cuts

    shipped = Cuts.load()
    fit_claim_check(engine, ROOT / "eval" / shipped.fitted_on["files"][0], out=tmp_path / "cuts.json")
    refit = Cuts.load(tmp_path / "cuts.json")
    assert refit == shipped and refit.fitted_on == shipped.fitted_on
    assert refit.fitted_on["invented_kept"] == 0


def test_rag_fit_judge_reproduces_the_shipped_weights(engine, tmp_path):
    """The weights in the repo are what `rag fit-judge` computes on the training files."""
    from rag.answering.judge import WEIGHTS_PATH, Weights
    from rag.evaluate import fit_judge

    shipped = Weights.load(WEIGHTS_PATH)
    files = [ROOT / "eval" / f for f in shipped.fitted_on["files"]]
    fit_judge(engine, files, out=tmp_path / "w.json")
    refit = Weights.load(tmp_path / "w.json")
    assert refit.fitted_on == shipped.fitted_on
    assert refit.scope == pytest.approx(shipped.scope, abs=0.02)
    assert refit.threshold == pytest.approx(shipped.threshold, abs=0.05)
    assert refit.ranking.coef == pytest.approx(shipped.ranking.coef, abs=0.05)
    assert refit.answerability.coef == pytest.approx(shipped.answerability.coef, abs=0.05)
