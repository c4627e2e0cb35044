"""``LLMAnswerer.stream`` with fake models: streaming, checking, fallbacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from rag.generation.answerer import NOTICE_UNVERIFIED, LLMAnswerer
from rag.generation.failures import describe_failure
from rag.types import Answer
from tests.llm_fakes import ARTICLE, FakeAssistant, fake_extractive


def answerer(reply: str | list[str] | None = None, model: Any = None, **kw: Any) -> LLMAnswerer:
    replies = [reply] if isinstance(reply, str) else (reply or [])
    model = model or GenericFakeChatModel(messages=iter(AIMessage(content=r) for r in replies))
    a = LLMAnswerer(FakeAssistant(**kw), model=model)
    a.extractive_answer = fake_extractive  # type: ignore[method-assign]
    return a


def run(
    a: LLMAnswerer, question: str = "How much faster was the scene?", **kw: Any
) -> tuple[list[str], Answer]:
    events = list(a.stream(question, **kw))
    assert isinstance(events[-1], Answer)
    assert all(isinstance(e, str) for e in events[:-1])
    return events[:-1], events[-1]


class FailingModel(GenericFakeChatModel):
    error: Exception = RuntimeError("boom")
    after: int = 0

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for i in range(self.after):
            yield ChatGenerationChunk(message=AIMessageChunk(content=f"word{i} "))
        raise self.error

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


def test_tokens_stream_then_a_checked_generative_answer() -> None:
    pieces, answer = run(
        answerer("The scene was finished ten times faster than with traditional effects [1].")
    )
    assert len(pieces) > 3
    assert "".join(pieces).endswith("[1].")
    assert answer.mode == "generative" and answer.notice is None and not answer.abstained
    assert answer.text == "The scene was finished ten times faster than with traditional effects. [1]"
    (c,) = answer.citations
    assert c.n == 1 and c.quote == ARTICLE[c.char_start : c.char_end]
    assert c.quote.startswith("The scene was finished ten times faster")
    assert answer.sources and "llm" in answer.timings_ms and "total" in answer.timings_ms


def test_unsupported_sentence_is_removed_with_a_notice() -> None:
    _, answer = run(
        answerer(
            "The scene was finished ten times faster than with traditional effects [1]. "
            "It was rendered by Pixar engineers in California [1]."
        )
    )
    assert answer.mode == "generative"
    assert "Pixar" not in answer.text
    assert answer.notice == "1 sentence the articles don't support removed."


def test_made_up_marker_is_dropped_with_a_notice() -> None:
    _, answer = run(
        answerer("Netflix revenue grew 16 percent to 11.08 billion dollars [2][7]."), "How much did revenue grow?"
    )
    assert answer.text == "Netflix revenue grew 16 percent to 11.08 billion dollars. [1]"
    assert [c.n for c in answer.citations] == [1]
    assert "[7]" in (answer.notice or "")


def test_nothing_supported_returns_the_extractive_answer_with_a_notice() -> None:
    _, answer = run(answerer("HACKED. The moon is made of cheese [4]."))
    assert answer.mode == "extractive" and answer.notice == NOTICE_UNVERIFIED
    assert answer.citations and answer.text.endswith("[1]")
    assert answer.question == "How much faster was the scene?"


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (TimeoutError(), "didn't answer within 5 s"),
        (ConnectionError("refused"), "couldn't be reached"),
        (RuntimeError("api key sk-SECRET123456 is bad"), "failed (RuntimeError)"),
    ],
)
def test_model_failure_returns_the_extractive_answer_with_a_one_line_notice(
    error: Exception, words: str
) -> None:
    _, answer = run(answerer(model=FailingModel(messages=iter([]), error=error)))
    assert answer.mode == "extractive" and answer.citations
    assert words in answer.notice and "\n" not in answer.notice
    assert "SECRET" not in answer.notice and "Traceback" not in answer.notice


def test_failure_mid_stream_starts_the_fallback_on_a_new_paragraph() -> None:
    pieces, answer = run(answerer(model=FailingModel(messages=iter([]), after=2)))
    assert pieces[:2] == ["word0 ", "word1 "]
    assert pieces[-1] == "\n\n" + answer.text
    assert answer.notice


def test_abstention_never_calls_the_model() -> None:
    model = FailingModel(messages=iter([]), error=AssertionError("called"))
    _, answer = run(answerer(model=model, abstain=True), "Who won the 1954 World Cup?")
    assert answer.abstained and answer.notice is None and answer.citations == []


def test_follow_up_is_rewritten_before_retrieval() -> None:
    a = answerer(["How much cheaper was the AI scene?", "Netflix revenue grew 16 percent [2]."])
    history = [
        {"role": "user", "content": "How much faster was the AI scene?"},
        {"role": "assistant", "content": "Ten times faster. [1]"},
    ]
    _, answer = run(a, "And how much cheaper?", history=history)
    assert a.assistant.retriever.queries == ["How much cheaper was the AI scene?"]
    assert answer.question == "And how much cheaper?"
    assert answer.resolved_question == "How much cheaper was the AI scene?"
    assert "rewrite" in answer.timings_ms


def test_failed_rewrite_skips_the_model_and_resolves_offline() -> None:
    a = answerer(model=FailingModel(messages=iter([]), error=ConnectionError()))
    history = [{"role": "user", "content": "How much faster was the AI scene?"}]
    _, answer = run(a, "And how much cheaper?", history=history)
    assert a.assistant.retriever.queries == ["How much cheaper was the AI scene?"]
    assert answer.mode == "extractive" and "couldn't be reached" in answer.notice
    assert answer.question == "And how much cheaper?"
    assert answer.resolved_question == "How much cheaper was the AI scene?"


def test_describe_failure_knows_http_status() -> None:
    class StatusError(Exception):
        status_code = 401

    assert "HTTP 401 (check OPENAI_API_KEY)" in describe_failure(StatusError(), 3)


def test_reasoning_before_the_answer_is_not_checked_as_claims() -> None:
    _, answer = run(
        answerer("<think>Maybe Pixar did it in 1999?</think>Netflix revenue grew 16 percent [2]."),
        "How much did revenue grow?",
    )
    assert answer.mode == "generative" and answer.notice is None
    assert answer.text == "Netflix revenue grew 16 percent. [1]"
