"""Follow-up questions are rewritten into standalone ones before retrieval."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import Field

from rag.generation.rewrite import clean_rewrite, rewrite_question

HISTORY = [
    {"role": "user", "content": "How much faster was the AI scene?"},
    {"role": "assistant", "content": "Ten times faster. [1]"},
]


class RecordingModel(FakeListChatModel):
    calls: list[Any] = Field(default_factory=list)

    def invoke(self, input: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(input)
        return super().invoke(input, *args, **kwargs)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("How much cheaper was the AI scene?", "How much cheaper was the AI scene?"),
        ("Standalone question: How much cheaper was it?", "How much cheaper was it?"),
        (
            '"Wie viel billiger war die KI-Szene?"\nExplanation: resolved "it"',
            "Wie viel billiger war die KI-Szene?",
        ),
        ("", None),
        ("   \n  ", None),
        ("?!", None),
        ("x" * 2000, None),
    ],
)
def test_clean_rewrite(reply: str, expected: str | None) -> None:
    assert clean_rewrite(reply, "And how much cheaper?") == expected


def test_follow_up_is_rewritten_from_history() -> None:
    model = RecordingModel(responses=["How much cheaper was the AI scene in El Eternauta?"])
    out = rewrite_question(model, "And how much cheaper?", HISTORY)
    assert out == "How much cheaper was the AI scene in El Eternauta?"
    (messages,) = model.calls
    assert "How much faster was the AI scene?" in messages[-1].content
    assert "And how much cheaper?" in messages[-1].content


def test_no_history_means_no_model_call() -> None:
    model = RecordingModel(responses=["should not be used"])
    assert rewrite_question(model, "How much faster was it?", []) == "How much faster was it?"
    assert rewrite_question(model, "How much faster was it?", [{"role": "assistant", "content": "Hi"}]) == (
        "How much faster was it?"
    )
    assert model.calls == []


def test_unusable_reply_falls_back_to_the_offline_resolution() -> None:
    model = RecordingModel(responses=[""])
    assert rewrite_question(model, "And how much cheaper?", HISTORY) == "How much cheaper was the AI scene?"


def test_unusable_reply_keeps_a_topic_switch_as_asked() -> None:
    model = RecordingModel(responses=["?!"])
    question = "Who won the 2022 football World Cup?"
    assert rewrite_question(model, question, HISTORY) == question
