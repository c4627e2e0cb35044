"""Bad questions: refused with a message that says what to do, or answered
without crashing; the index is never touched."""

from __future__ import annotations

import time

import pytest

from rag.citations import problems
from rag.errors import InvalidQuestionError

from .conftest import CONTROL, Sandbox, answer_key, run_rag


@pytest.fixture(autouse=True)
def index_stays_the_same(control_bot: Sandbox):
    yield
    assert control_bot.count() == control_bot.baseline.count


@pytest.mark.parametrize("question", ["", "   ", "\n\t\u00a0 \u3000", "\x00\x00"])
def test_empty_question(control_bot: Sandbox, question: str) -> None:
    with pytest.raises(InvalidQuestionError, match="The question is empty. Ask something about the articles"):
        control_bot.ask(question)


def test_question_that_is_not_text(control_bot: Sandbox) -> None:
    with pytest.raises(InvalidQuestionError, match="must be text"):
        control_bot.bot.ask(None)  # type: ignore[arg-type]


def test_100k_character_question_is_refused_at_once(control_bot: Sandbox) -> None:
    question = ("How much faster was the AI scene? " * 3000)[:100_000]
    t0 = time.perf_counter()
    with pytest.raises(InvalidQuestionError) as info:
        control_bot.ask(question)
    assert time.perf_counter() - t0 < 1.0  # refused before any embedding work
    assert info.value.message.startswith("The question is 100,000 characters long; the limit is 2,000.")
    assert "RAG_MAX_QUESTION_CHARS" in info.value.message


@pytest.mark.parametrize(
    "question",
    [
        "AIのシーンはどれくらい速く制作されましたか？",  # Japanese
        "كم كان مشهد الذكاء الاصطناعي أسرع؟",  # Arabic, right to left
        "Насколько быстрее была сделана сцена с ИИ?",  # Cyrillic
        "🤖🎬⏱️❓",  # emoji only
        "\uf8d1\uf8d2\uf8d3 \uf8e0\uf8e1",  # private use area (Klingon pIqaD)
        "\u202eHow much faster\u202c was the \u200bAI\u200d scene?",  # bidi override, zero-width characters
        "𝐇𝐨𝐰 𝐦𝐮𝐜𝐡 𝐟𝐚𝐬𝐭𝐞𝐫 𝐰𝐚𝐬 𝐭𝐡𝐞 𝐀𝐈 𝐬𝐜𝐞𝐧𝐞?",  # mathematical bold letters
        "?!.,;:-–—…",  # punctuation only
        "<script>alert(1)</script> {{7*7}} $(id) `id`",  # markup and shell syntax
    ],
)
def test_question_in_an_unexpected_script_gets_an_answer_or_a_decline(control_bot: Sandbox, question: str) -> None:
    answer = control_bot.ask(question)
    assert answer.text.strip()
    if answer.abstained:
        assert answer.citations == []
    else:
        assert answer.citations and problems(answer, control_bot.corpus) == []


def test_the_control_answer_survives_all_of_that(control_bot: Sandbox) -> None:
    assert answer_key(control_bot.ask(CONTROL)) == answer_key(control_bot.baseline.answer)


def test_cli_reports_bad_questions_cleanly(control_bot: Sandbox) -> None:
    done = run_rag("ask", "   ", home=control_bot.home)
    assert done.returncode == 2 and done.stderr.startswith("error: The question is empty."), done.stderr
    done = run_rag("ask", "x" * 100_000, home=control_bot.home)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: The question is 100,000 characters long; the limit is 2,000.")
    for out in (done.stdout, done.stderr):
        assert "Traceback" not in out
