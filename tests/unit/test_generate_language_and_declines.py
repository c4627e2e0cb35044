"""``LLMAnswerer.stream``: answers in the question's language, model declines, what the check did."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.generation.answerer import LLMAnswerer, draft_language, language_notice
from rag.generation.prompts import answer_messages
from rag.types import Answer
from tests.llm_fakes import ARTICLE, FakeAssistant, fake_extractive, passages

GERMAN_ARTICLE = (
    "Die Szene wurde zehnmal schneller als mit herkömmlichen Spezialeffekten fertiggestellt.\n"
    "Netflix steigerte den Umsatz um 16 Prozent auf 11,08 Milliarden Dollar.\n"
)
ENGLISH_DRAFT = "The scene was finished ten times faster than with traditional special effects [1]."
GERMAN_DRAFT = "Die Szene wurde zehnmal schneller als mit herkömmlichen Spezialeffekten fertiggestellt [1]."


class RecordingModel(GenericFakeChatModel):
    """Plays the replies in order and keeps the messages it was sent."""

    seen: list[Any] = []

    def _stream(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(messages)
        return super()._stream(messages, *args, **kwargs)


def answerer(replies: list[str], article: str = GERMAN_ARTICLE) -> tuple[LLMAnswerer, RecordingModel]:
    model = RecordingModel(messages=iter(AIMessage(content=r) for r in replies), seen=[])
    a = LLMAnswerer(FakeAssistant(passages(article)), model=model)
    a.extractive_answer = fake_extractive  # type: ignore[method-assign]
    return a, model


def run(a: LLMAnswerer, question: str) -> tuple[str, Answer]:
    events = list(a.stream(question))
    assert isinstance(events[-1], Answer)
    return "".join(e for e in events[:-1] if isinstance(e, str)), events[-1]


def test_a_german_question_answered_in_english_is_asked_again_firmly() -> None:
    a, model = answerer([ENGLISH_DRAFT, GERMAN_DRAFT])
    shown, answer = run(a, "Wie viel schneller wurde die Szene fertiggestellt?")
    assert len(model.seen) == 2
    assert "Antworte auf Deutsch" in model.seen[0][-1].content
    assert "nicht auf Englisch" in model.seen[1][-1].content and "nicht auf Englisch" in model.seen[1][0].content
    assert answer.mode == "generative" and answer.notice is None
    assert answer.text.startswith("Die Szene wurde zehnmal schneller")
    assert answer.check == {"kept": 1, "removed": 0, "fallback": None, "declined": False, "language_retry": True}
    assert shown.startswith(ENGLISH_DRAFT) and shown.endswith(GERMAN_DRAFT)  # the retry follows on screen


def test_still_the_wrong_language_serves_the_checked_answer_with_a_notice() -> None:
    a, model = answerer([ENGLISH_DRAFT, ENGLISH_DRAFT], article=ARTICLE)  # fake vectors don't translate
    _, answer = run(a, "Wie viel faster wurde die scene finished?")
    assert len(model.seen) == 2
    assert answer.mode == "generative" and answer.citations
    assert answer.notice == "Das Sprachmodell hat auf Englisch geantwortet, nicht auf Deutsch."


def test_the_right_language_is_not_asked_again() -> None:
    a, model = answerer([ENGLISH_DRAFT], article=ARTICLE)
    _, answer = run(a, "How much faster was the scene finished?")
    assert len(model.seen) == 1 and answer.check["language_retry"] is False
    assert "Answer in English." in model.seen[0][-1].content


def test_a_model_decline_is_served_as_a_decline_in_the_question_language() -> None:
    a, _ = answerer(["Die Passagen enthalten keine Angaben zum Gewinn im dritten Quartal."])
    shown, answer = run(a, "Wie hoch war der Gewinn von Netflix im dritten Quartal?")
    assert answer.abstained and answer.citations == [] and answer.mode == "generative"
    assert answer.text == "Dazu steht nichts in den Artikeln."
    assert answer.check["declined"] and answer.check["kept"] == 0
    assert shown.endswith(answer.text)


def test_a_decline_followed_by_an_invented_figure_is_still_a_decline() -> None:
    a, _ = answerer(["The passages don't state the profit. It was probably 2 billion dollars [2]."], ARTICLE)
    _, answer = run(a, "How much profit did Netflix make?")
    assert answer.abstained and "2 billion" not in answer.text


def test_an_unsupported_draft_falls_back_to_the_quotes_computed_before_the_model_answered() -> None:
    a, _ = answerer(["Disney rendered the scene on Pixar servers in 3 hours [1]."], ARTICLE)
    calls = []
    original = a.extractive_answer

    def counted(question: str, hits: Any, previous: str | None = None) -> Answer:
        calls.append(question)
        return original(question, hits, previous)

    a.extractive_answer = counted  # type: ignore[method-assign]
    _, answer = run(a, "How much faster was the scene?")
    assert answer.mode == "extractive" and calls == ["How much faster was the scene?"]
    assert answer.check == {"kept": 0, "removed": 1, "fallback": "unsupported", "declined": False,
                            "language_retry": False}


def test_a_checked_answer_that_doesnt_answer_the_question_falls_back() -> None:
    a, _ = answerer(["Netflix revenue grew 16 percent to 11.08 billion dollars [2]."], ARTICLE)
    _, answer = run(a, "Where is the series set?")
    assert answer.mode == "extractive" and "didn't answer the question" in answer.notice
    assert answer.check["fallback"] == "off-topic" and answer.check["kept"] == 1


def test_kept_and_removed_claims_are_counted() -> None:
    draft = ENGLISH_DRAFT + " Netflix revenue grew 18 percent [2]. Netflix revenue grew 16 percent [2]."
    a, _ = answerer([draft], ARTICLE)
    _, answer = run(a, "How much faster was the scene, and how much did revenue grow?")
    assert answer.check["kept"] == 2 and answer.check["removed"] == 1
    assert "18" not in answer.text


def test_draft_language_needs_enough_words() -> None:
    assert draft_language("Buenos Aires [1].") is None
    assert draft_language("Die Szene wurde in Buenos Aires gedreht, sagt der Artikel [1].") == "de"
    assert draft_language("The scene was shot in Buenos Aires, the article says [1].") == "en"
    assert language_notice("de", "en") == "The language model answered in German, not in English."
    assert language_notice(None, "de") is None


def test_the_prompt_names_the_language_and_the_firm_one_insists() -> None:
    ps = passages()
    _, plain = answer_messages("Wie schnell?", ps, "de")
    system, firm = answer_messages("Wie schnell?", ps, "de", firm=True)
    assert plain.content.endswith("in German (Deutsch). Antworte auf Deutsch.")
    assert "Kein englischer Satz" in firm.content and "must be in German" in system.content
