"""Generative answers from a real model (``scripts/local-llm``), checked like any other.

These need ``RAG_TEST_LLM_BASE_URL`` (see ``conftest.py``); each asks the real
model, so each takes seconds to a minute on 2 cores.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from rag.answering.citations import problems
from rag.generation.answerer import draft_language
from rag.generation.citation_check import split_claims
from rag.text import normalize
from rag.types import Answer

pytestmark = [pytest.mark.local_llm, pytest.mark.slow]


@pytest.fixture(scope="module")
def bot(engine: Any) -> Any:
    """The shared real engine, answering through the real model server."""
    from rag import Assistant

    url = os.environ["RAG_TEST_LLM_BASE_URL"]
    model = os.environ.get("RAG_TEST_LLM_MODEL", "qwen2.5-coder-1.5b-instruct")
    return Assistant(engine.settings, llm=f"openai:{model}", llm_base_url=url, llm_timeout=240)


def _valid(answer: Answer, bot: Any) -> None:
    assert problems(answer, bot.settings.articles_dir) == []
    if answer.mode == "generative" and not answer.abstained:
        # Every kept claim carries the citation the check gave it.
        for claim in split_claims(answer.text):
            assert claim.markers, f"uncited claim kept: {claim.text!r}"


def test_the_draft_streams_then_a_checked_answer_with_the_figure(bot: Any) -> None:
    events = list(bot.stream("How much faster was the AI scene made?"))
    answer = events[-1]
    assert isinstance(answer, Answer) and len(events) > 3, "the draft didn't stream"
    assert answer.check is not None and "llm_first_token" in answer.timings_ms
    assert any(w in normalize(answer.text) for w in ("ten times", "10 times", "zehnmal", "10×", "10-mal")), answer.text
    _valid(answer, bot)


def test_a_german_question_is_answered_in_german(bot: Any) -> None:
    answer = bot.ask("Wann wurde Oesterheld verhaftet?")
    assert "1977" in answer.text, answer.text
    if answer.mode == "generative":
        assert draft_language(answer.text) in ("de", None), answer.text
    _valid(answer, bot)


def test_a_list_answer_keeps_only_items_the_article_names(bot: Any) -> None:
    answer = bot.ask("Which jobs are especially at risk from generative AI?")
    _valid(answer, bot)
    named = ("entry", "sound", "voice", "concept", "vfx", "ingenieur", "arbeitspl")
    for claim in split_claims(answer.text):
        if answer.mode == "generative" and claim.bullet:
            assert any(w in normalize(claim.text) for w in named), claim.text


def test_out_of_corpus_is_declined(bot: Any) -> None:
    answer = bot.ask("Who won the 2022 football World Cup?")
    assert answer.abstained and answer.citations == []
