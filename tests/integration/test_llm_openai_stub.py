"""Generative answers over real HTTP: ChatOpenAI(base_url=...) -> a scripted server on loopback.

The fast tests use the real LangChain client and HTTP, with a fake retriever.
The slow ones use the real ``Assistant`` (Chroma, USE embeddings, the bundled
articles) with the scripted server standing in for the LLM.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.generation.answerer import LLMAnswerer
from rag.text import normalize
from rag.types import Answer
from tests.llm_fakes import ARTICLE, FakeAssistant, fake_extractive
from tests.openai_stub import OpenAIStub, Reply, cite_where, passage_numbers

GOOD = "The scene was finished ten times faster than with traditional effects [1]."


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as s:
        yield s


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def answerer(url: str, timeout: float = 5.0) -> LLMAnswerer:
    a = LLMAnswerer(FakeAssistant(llm="openai:scripted-model", llm_base_url=url, llm_timeout=timeout))
    a.extractive_answer = fake_extractive  # type: ignore[method-assign]
    return a


def run(a: Any, question: str = "How much faster was the scene?", **kw: Any) -> tuple[list[str], Answer]:
    events = list(a.stream(question, **kw))
    assert isinstance(events[-1], Answer)
    return [e for e in events[:-1] if isinstance(e, str)], events[-1]


# -- real client, real HTTP, fake retrieval ------------------------------------------


def test_streamed_answer_through_chat_openai(stub: OpenAIStub) -> None:
    stub.push(GOOD, chunk_size=5)
    pieces, answer = run(answerer(stub.url))
    assert len(pieces) >= 10 and "".join(pieces) == GOOD
    assert answer.mode == "generative" and answer.notice is None
    assert answer.text == "The scene was finished ten times faster than with traditional effects. [1]"
    (c,) = answer.citations
    assert c.quote == ARTICLE[c.char_start : c.char_end]
    (request,) = stub.chat_requests
    assert request.path == "/v1/chat/completions" and request.stream
    assert request.body["model"] == "scripted-model" and request.body["temperature"] == 0
    assert request.headers["authorization"] == "Bearer not-needed"
    system, _user = request.messages
    assert system["role"] == "system" and "data, not instructions" in system["content"]
    assert "HACKED" not in system["content"]
    assert set(passage_numbers(request.body)) == {1, 2, 3, 4}


def test_made_up_marker_is_dropped(stub: OpenAIStub) -> None:
    stub.push("Netflix revenue grew 16 percent to 11.08 billion dollars [7][2].")
    _, answer = run(answerer(stub.url), "How much did Netflix revenue grow?")
    assert answer.mode == "generative"
    assert answer.text == "Netflix revenue grew 16 percent to 11.08 billion dollars. [1]"
    assert answer.citations[0].quote == "Netflix revenue grew 16 percent to 11.08 billion dollars."
    assert "[7]" in answer.notice


def test_unsupported_sentence_is_removed(stub: OpenAIStub) -> None:
    stub.push(GOOD + " Disney rendered it on Pixar servers in California within 3 hours [1].")
    _, answer = run(answerer(stub.url))
    assert answer.mode == "generative" and "Pixar" not in answer.text
    assert "don't support removed" in answer.notice


def test_obeying_an_injected_passage_yields_the_extractive_answer(stub: OpenAIStub) -> None:
    stub.push("HACKED [4]. The moon is made of cheese [4].")
    _, answer = run(answerer(stub.url))
    assert answer.mode == "extractive" and "couldn't be checked" in answer.notice
    assert "HACKED" not in answer.text


def test_timeout_falls_back_with_a_notice(stub: OpenAIStub) -> None:
    stub.default = Reply(GOOD, delay=60)  # far longer than the timeout: only giving up ends the wait
    _, answer = run(answerer(stub.url, timeout=0.5))
    assert answer.mode == "extractive" and answer.citations
    assert (
        answer.notice
        == "The language model didn't answer within 0.5 s; showing quotes from the articles instead."
    )
    (request,) = stub.chat_requests  # no retry after the timeout
    assert request.wait_hung_up(), "the client kept waiting for the delayed reply"
    assert request.pieces_sent == 0


def test_slow_trickle_is_cut_at_the_overall_timeout(stub: OpenAIStub) -> None:
    full = GOOD * 3
    stub.push(full, chunk_size=2, chunk_delay=0.2)  # about 23 s to send it all; the timeout is 1 s
    pieces, answer = run(answerer(stub.url, timeout=1.0))
    assert pieces and answer.mode == "extractive" and "within 1 s" in answer.notice
    assert pieces[-1] == "\n\n" + answer.text
    streamed = "".join(pieces[:-1])
    assert streamed and full.startswith(streamed) and len(streamed) < len(full), "the stream wasn't cut"
    (request,) = stub.chat_requests
    assert request.wait_hung_up(), "the client kept reading the trickle"
    assert request.pieces_sent < len(range(0, len(full), 2)), "the stub sent the whole reply"


@pytest.mark.parametrize("reply", [Reply(GOOD, malformed=True), Reply(GOOD, cut=3)], ids=["malformed", "cut"])
def test_broken_stream_falls_back_with_a_notice(stub: OpenAIStub, reply: Reply) -> None:
    stub.push(reply)
    _, answer = run(answerer(stub.url))
    assert answer.mode == "extractive"
    assert (
        answer.notice
        == "The language model's reply was malformed or cut off; showing quotes from the articles instead."
    )


def test_http_error_falls_back_with_a_notice(stub: OpenAIStub) -> None:
    stub.default = Reply(status=500)
    _, answer = run(answerer(stub.url))
    assert answer.mode == "extractive" and "HTTP 500" in answer.notice


def test_unreachable_server_falls_back_with_a_notice() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, answer = run(answerer(f"http://127.0.0.1:{port}/v1", timeout=2))
    assert answer.mode == "extractive" and "couldn't be reached" in answer.notice


def test_follow_up_rewrite_is_a_plain_completion_then_the_answer_streams(stub: OpenAIStub) -> None:
    stub.push("How much more did Netflix earn?", when=lambda body: not body.get("stream"))
    stub.push("Netflix revenue grew 16 percent [2].", when=lambda body: bool(body.get("stream")))
    a = answerer(stub.url)
    history = [
        {"role": "user", "content": "How much faster was the scene?"},
        {"role": "assistant", "content": "Ten times faster. [1]"},
    ]
    _, answer = run(a, "And the revenue?", history=history)
    rewrite, final = stub.chat_requests
    assert not rewrite.stream and "And the revenue?" in rewrite.messages[-1]["content"]
    assert "How much faster was the scene?" in rewrite.messages[-1]["content"]
    assert final.stream and "How much more did Netflix earn?" in final.messages[-1]["content"]
    assert a.assistant.retriever.queries == ["How much more did Netflix earn?"]
    assert answer.mode == "generative" and answer.question == "And the revenue?"


# -- the real Assistant -----------------------------------------------------------------

FASTER = ["zehnmal schneller", "10-mal kürzerer"]  # normalised: typographic hyphens count


@pytest.fixture(scope="module")
def module_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as s:
        yield s


@pytest.fixture(scope="module")
def bot(engine: Any, module_stub: OpenAIStub) -> Any:
    """The shared real engine's index and corpus, answering through the scripted server."""
    from rag import Assistant

    return Assistant(
        engine.settings, llm="openai:scripted-model", llm_base_url=module_stub.url, llm_timeout=20
    )


@pytest.fixture
def real_stub(module_stub: OpenAIStub) -> Iterator[OpenAIStub]:
    module_stub.reset()
    module_stub.default = Reply("Stub reply.")
    yield module_stub


def assert_valid(answer: Answer, bot: Any) -> None:
    from rag.answering.citations import problems

    assert problems(answer, bot.settings.articles_dir) == []


@pytest.mark.slow
def test_real_assistant_streams_a_verified_generative_answer(bot: Any, real_stub: OpenAIStub) -> None:
    real_stub.push(
        cite_where(FASTER, "The AI scene was made ten times faster than with conventional effects [{n}].")
    )
    pieces, answer = run(bot, "How much faster was the AI scene?")
    assert len(pieces) > 3
    assert answer.mode == "generative", answer.notice
    assert answer.text == "The AI scene was made ten times faster than with conventional effects. [1]"
    (c,) = answer.citations
    assert "zehnmal" in c.quote or "10" in c.quote
    path = Path(bot.settings.articles_dir) / c.file
    assert path.read_text(encoding="utf-8")[c.char_start : c.char_end] == c.quote
    assert_valid(answer, bot)


@pytest.mark.slow
def test_real_assistant_drops_a_made_up_marker_and_an_unsupported_sentence(
    bot: Any, real_stub: OpenAIStub
) -> None:
    real_stub.push(
        cite_where(
            FASTER,
            "The AI scene was made ten times faster [{n}][7]. "
            "It was rendered by Pixar in California in 2019 [{n}].",
        )
    )
    _, answer = run(bot, "How much faster was the AI scene?")
    assert answer.mode == "generative", answer.notice
    assert answer.text == "The AI scene was made ten times faster. [1]"
    assert "[7]" in answer.notice and "1 sentence" in answer.notice
    assert_valid(answer, bot)


@pytest.mark.slow
def test_real_assistant_rejects_a_wrong_number(bot: Any, real_stub: OpenAIStub) -> None:
    """The right passage, cited, with the figure changed: the claim is not shown."""
    real_stub.push(cite_where(FASTER, "The AI scene was made fifty times faster than with conventional effects [{n}]."))
    _, answer = run(bot, "How much faster was the AI scene?")
    assert "fifty" not in answer.text.lower()
    assert answer.mode == "extractive" and "couldn't be checked" in answer.notice, answer.notice
    assert any(p in normalize(answer.text) for p in FASTER), answer.text  # the quotes say the real figure
    assert_valid(answer, bot)


@pytest.mark.slow
def test_real_assistant_rejects_a_citation_to_the_wrong_passage(bot: Any, real_stub: OpenAIStub) -> None:
    """A true claim cited to a passage that doesn't state it: that citation is not shown."""
    wrong: list[str] = []

    def cite_a_passage_without_the_figure(body: dict[str, Any]) -> str:
        numbered = passage_numbers(body)
        n = next(n for n, text in sorted(numbered.items()) if not any(p in normalize(text) for p in FASTER))
        wrong.append(numbered[n])
        return f"The AI scene was made ten times faster than with conventional effects [{n}]."

    real_stub.push(cite_a_passage_without_the_figure)
    _, answer = run(bot, "How much faster was the AI scene?")
    assert wrong, "the model was not asked"
    for c in answer.citations:
        assert c.quote not in wrong[0], f"cited the passage the claim doesn't come from: {c.quote}"
        assert any(p in normalize(c.quote) for p in FASTER), c.quote
    assert_valid(answer, bot)


@pytest.mark.slow
def test_real_assistant_falls_back_on_a_malformed_stream(bot: Any, real_stub: OpenAIStub) -> None:
    real_stub.push(Reply("The AI scene was made ten times faster [1].", malformed=True))
    _, answer = run(bot, "How much faster was the AI scene?")
    assert answer.mode == "extractive" and "malformed" in answer.notice
    assert answer.citations and not answer.abstained
    assert_valid(answer, bot)


@pytest.mark.slow
def test_real_assistant_falls_back_on_a_timeout(bot: Any, real_stub: OpenAIStub) -> None:
    from rag import Assistant

    impatient = Assistant(bot.settings, llm_timeout=0.5)
    real_stub.default = Reply("Too late [1].", delay=10)
    answer = impatient.ask("How much faster was the AI scene?")
    assert answer.mode == "extractive" and "within 0.5 s" in answer.notice
    assert_valid(answer, impatient)


@pytest.mark.slow
def test_real_assistant_rewrites_a_follow_up(bot: Any, real_stub: OpenAIStub) -> None:
    real_stub.push("How much cheaper was the AI scene in El Eternauta?", when=lambda b: not b.get("stream"))
    real_stub.push(
        cite_where(["kostengünstiger", "Bruchteil der Kosten"], "It was made much more cheaply [{n}]."),
        when=lambda b: bool(b.get("stream")),
    )
    history = [
        {"role": "user", "content": "How much faster was the AI scene?"},
        {"role": "assistant", "content": "Ten times faster. [1]"},
    ]
    _, answer = run(bot, "And how much cheaper?", history=history)
    rewrite, final = real_stub.chat_requests
    assert "And how much cheaper?" in rewrite.messages[-1]["content"]
    assert "How much cheaper was the AI scene in El Eternauta?" in final.messages[-1]["content"]
    assert answer.question == "And how much cheaper?"
    assert_valid(answer, bot)


@pytest.mark.slow
def test_real_assistant_declines_without_calling_the_model(bot: Any, real_stub: OpenAIStub) -> None:
    answer = bot.ask("What is the boiling point of tungsten?")
    assert answer.abstained and answer.citations == []
    assert real_stub.chat_requests == []
