"""Bad questions: refused with a message that says what to do, or answered
without crashing; the index is never touched."""

from __future__ import annotations

import pytest

from rag.answering.citations import problems
from rag.errors import InvalidQuestionError

from .conftest import CONTROL, TEN_TIMES, Sandbox, answer_key, run_rag

pytestmark = pytest.mark.slow  # every test here runs the real engine on a copy of the baseline index


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


def test_100k_character_question_is_refused_at_once(control_bot: Sandbox, monkeypatch) -> None:
    question = ("How much faster was the AI scene? " * 3000)[:100_000]

    def no_search(*args, **kwargs):
        raise AssertionError("an over-long question reached retrieval (embedding, search)")

    monkeypatch.setattr(control_bot.bot.retriever, "search", no_search)
    with pytest.raises(InvalidQuestionError) as info:
        control_bot.ask(question)  # refused before any embedding work
    assert info.value.message.startswith("The question is 100,000 characters long; the limit is 2,000.")
    assert "RAG_MAX_QUESTION_CHARS" in info.value.message


# The control question with invisible characters in it: the same figure must come back.
DISGUISED = [
    "\u202eHow much faster\u202c was the \u200bAI\u200d scene?",  # bidi override, zero-width characters
]
# The control question in scripts and languages beyond English and German (the languages the
# answers are built for): the figure with citations that check out, or a decline. Never a
# cited answer that misses the figure: that is a confident wrong answer.
ELSEWHERE = [
    "AIのシーンはどれくらい速く制作されましたか？",  # Japanese
    "كم كان مشهد الذكاء الاصطناعي أسرع؟",  # Arabic, right to left
    "Насколько быстрее была сделана сцена с ИИ?",  # Cyrillic
    "𝐇𝐨𝐰 𝐦𝐮𝐜𝐡 𝐟𝐚𝐬𝐭𝐞𝐫 𝐰𝐚𝐬 𝐭𝐡𝐞 𝐀𝐈 𝐬𝐜𝐞𝐧𝐞?",  # mathematical bold letters
]
# No letter or digit in them: refused with a message.
NO_WORDS = [
    "🤖🎬⏱️❓",  # emoji only
    "\uf8d1\uf8d2\uf8d3 \uf8e0\uf8e1",  # private use area (Klingon pIqaD)
    "?!.,;:-–—…",  # punctuation only
]
# Words, but nothing the articles cover: declined, without citations.
OFF_TOPIC = [
    "<script>alert(1)</script> {{7*7}} $(id) `id`",  # markup and shell syntax
]


@pytest.mark.parametrize("question", DISGUISED)
def test_invisible_characters_do_not_change_the_answer(control_bot: Sandbox, question: str) -> None:
    answer = control_bot.ask(question)
    assert not answer.abstained, answer.text
    assert TEN_TIMES.search(answer.text), answer.text
    assert answer.citations and problems(answer, control_bot.corpus) == []


@pytest.mark.parametrize("question", ELSEWHERE)
def test_other_scripts_get_the_figure_or_a_decline_never_a_wrong_answer(control_bot: Sandbox, question: str) -> None:
    answer = control_bot.ask(question)
    assert answer.text.strip()
    assert answer.abstained or TEN_TIMES.search(answer.text), f"a cited answer without the figure: {answer.text}"
    assert bool(answer.citations) != answer.abstained, answer  # cited when answered, uncited when declined
    assert problems(answer, control_bot.corpus) == []


@pytest.mark.parametrize("question", NO_WORDS)
def test_question_without_letters_or_digits_is_refused(control_bot: Sandbox, question: str) -> None:
    with pytest.raises(InvalidQuestionError, match="has no words in it"):
        control_bot.ask(question)


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_markup_and_shell_syntax_is_declined(control_bot: Sandbox, question: str) -> None:
    answer = control_bot.ask(question)
    assert answer.abstained and answer.citations == [], answer.text
    assert "<script>" not in answer.text


def test_the_control_answer_survives_a_run_of_bad_questions(control_bot: Sandbox) -> None:
    """Self-contained: every bad question above, then the control question, on one engine."""
    for question in ["", "\x00\x00", "x" * 100_000, *DISGUISED, *ELSEWHERE, *NO_WORDS, *OFF_TOPIC]:
        try:
            control_bot.ask(question)
        except InvalidQuestionError:
            pass
    assert answer_key(control_bot.ask(CONTROL)) == answer_key(control_bot.baseline.answer)


def test_cli_reports_bad_questions_cleanly(control_bot: Sandbox) -> None:
    done = run_rag("ask", "   ", home=control_bot.home)
    assert done.returncode == 2 and done.stderr.startswith("error: The question is empty."), done.stderr
    done = run_rag("ask", "x" * 100_000, home=control_bot.home)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: The question is 100,000 characters long; the limit is 2,000.")
    for out in (done.stdout, done.stderr):
        assert "Traceback" not in out
