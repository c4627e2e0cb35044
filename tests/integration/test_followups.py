"""Follow-up questions understood offline, through every front-end, with the real engine.

The engine is the real ``Assistant`` (Chroma, USE embeddings, the bundled articles)
and no chat model: follow-ups are resolved by ``rag.answering.followup``. Each
front-end passes the conversation: the Python API (``history=``), the Slack bot
(the thread, read back through ``conversations.replies`` from the local Web API
stand-in), ``rag chat`` (its own conversation on stdin) and the chat page
(``/ask`` through ``gradio_client``).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.evaluate import evaluate_file
from tests.slack_fixtures import CHANNEL, blocks_text, mention, running_bot
from tests.ui_fixtures import running_app
from ui.feedback import FeedbackStore
from ui.gradio_app import create_app
from ui.page_handlers import ChatHandlers

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "data" / "articles"
ARRESTED_WHY = "Warum wurde Oesterheld verhaftet?"
ARRESTED_WHEN = "Wann wurde Oesterheld verhaftet?"
FASTER = "How much faster was the AI scene?"
CHEAPER = "How much cheaper was the AI scene?"
OFF_TOPIC = "Who won the 2022 football World Cup?"


def turns(*pairs: tuple[str, Any]) -> list[dict[str, str]]:
    history = []
    for question, answer in pairs:
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    return history


# -- the Python API ---------------------------------------------------------------------


def test_api_german_follow_up_is_answered_about_the_previous_subject(engine) -> None:
    first = engine.ask(ARRESTED_WHY)
    assert not first.abstained and first.resolved_question is None
    alone = engine.ask("Und wann?")
    assert alone.mode == "clarify" and not alone.citations  # nothing to refer to: asked back

    answer = engine.ask("Und wann?", history=turns((ARRESTED_WHY, first)))
    assert answer.question == "Und wann?"
    assert answer.resolved_question == ARRESTED_WHEN
    assert not answer.abstained and "1977" in answer.text
    assert answer.citations and all("Oesterheld" in c.quote or "1977" in c.quote for c in answer.citations[:1])
    assert json.loads(answer.to_json())["resolved_question"] == ARRESTED_WHEN


def test_api_english_follow_up_and_a_topic_switch(engine) -> None:
    first = engine.ask(FASTER)
    history = turns((FASTER, first))
    cheaper = engine.ask("And how much cheaper?", history=history)
    assert cheaper.resolved_question == CHEAPER
    assert not cheaper.abstained and cheaper.citations
    assert any(w in cheaper.text for w in ("Bruchteil", "günstiger", "kostengünstiger"))

    switch = engine.ask(OFF_TOPIC, history=history)
    assert switch.resolved_question is None and switch.abstained and switch.citations == []


def test_api_pronoun_follow_up_names_the_person(engine) -> None:
    first = engine.ask("Wer ist Yves Bergquist?")
    answer = engine.ask(
        "Und von wem wird die Technologie laut ihm angenommen?", history=turns(("Wer ist Yves Bergquist?", first))
    )
    assert answer.resolved_question == "Von wem wird die Technologie laut Yves Bergquist angenommen?"
    assert "Studio-Gruppen" in answer.text


def test_a_follow_up_is_also_scored_against_the_users_own_words(engine) -> None:
    """The resolution carries the old subject into retrieval; what the user asked now is scored on its own."""
    resolved = "Who warns against it instead (Yves Bergquist call AI video technology)?"
    hits = engine.retriever.search(resolved, asked="Who warns against it instead?")
    assert hits.sentences and all(s.asked_similarity is not None for s in hits.sentences)
    warns = next(s for s in hits.sentences if "warnt Jonathan Taplin" in s.text)
    calls = next(s for s in hits.sentences if "Bergquist" in s.text and "bezeichnet" in s.text)
    assert warns.asked_lexical > calls.asked_lexical  # "warns" starts "warnt"
    assert all(s.asked_similarity is None for s in engine.retriever.search(resolved).sentences)

    first = engine.ask("What does Yves Bergquist call AI video technology?")
    answer = engine.ask("Who warns against it instead?",
                        history=turns(("What does Yves Bergquist call AI video technology?", first)))
    assert answer.resolved_question and "Taplin" in answer.text


def test_api_one_word_without_history_is_asked_back_not_quoted(engine) -> None:
    for question, language_word in (("Why?", "about what?"), ("it", "refer to?"), ("Und er?", "Worauf bezieht sich")):
        events = list(engine.stream(question))
        answer = events[-1]
        assert answer.mode == "clarify" and not answer.abstained, question
        assert answer.citations == [] and answer.sources == [] and answer.span is None
        assert language_word in answer.text and "[1]" not in answer.text
        assert events[:-1] == [answer.text]


def test_follow_up_sets_score_with_their_turns(engine) -> None:
    """``rag eval`` asks each row's turns first; no topic switch is merged."""
    for name in ("followups_train.jsonl", "followups_test.jsonl"):
        report = evaluate_file(engine, ROOT / "eval" / name)
        summary = report["summary"]
        assert summary["switches_merged"] == 0, name
        assert summary["citations_valid"] == 1.0, name
        follow_ups = [r for r in report["rows"] if not r["switch"]]
        assert follow_ups and all(r["resolved"] for r in follow_ups), name
        # The extractive answerer, not the resolution, bounds this; it guards against regressions.
        assert summary["followup_accuracy"] >= 0.7, (name, summary)


# -- Slack: a signed event in a thread --------------------------------------------------


def test_slack_thread_follow_up_without_a_chat_model(engine) -> None:
    assert not engine.settings.llm
    with running_bot(engine) as bot:
        first = mention(ARRESTED_WHY)
        bot.api.threads[(CHANNEL, first["ts"])] = [{**first}]  # Slack lists the parent message first
        assert bot.send(first) == 200
        bot.api.wait_for("chat.postMessage")
        follow_up = mention("Und wann?", thread_ts=first["ts"])
        bot.api.threads[(CHANNEL, first["ts"])].append({**follow_up})
        assert bot.send(follow_up) == 200
        second = bot.api.wait_for("chat.postMessage", 2)[1]
        bot.settle()

    assert second["thread_ts"] == first["ts"]
    text = blocks_text(second)
    assert f"Understood as: {ARRESTED_WHEN}" in text
    assert "1977" in text and "*Sources*" in text
    replies = bot.api.calls_to("conversations.replies")
    assert [c["ts"] for c in replies] == [first["ts"]]  # only the reply in the thread reads the thread


# -- rag chat on stdin --------------------------------------------------------------------


def run_chat(stdin: str, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAG_HOME": str(home), "RAG_ARTICLES_DIR": str(ARTICLES)}
    env.pop("RAG_LLM", None)
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", "chat", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )


@pytest.fixture(scope="module")
def chat_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("chat-home")
    env = {**os.environ, "RAG_HOME": str(home), "RAG_ARTICLES_DIR": str(ARTICLES)}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", "-q"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return home


def test_rag_chat_keeps_the_conversation(chat_home: Path) -> None:
    out = run_chat(f"{ARRESTED_WHY}\nUnd wann?\n\n{OFF_TOPIC}\nquit\n{FASTER}\n", chat_home)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    blocks = [b.splitlines() for b in out.stdout.strip().split("\n\n")]
    assert len(blocks) == 3  # "quit" ended it: the question after it was never asked
    first, second, third = blocks
    assert not first[0].startswith("Understood as:") and first[1].startswith("[1] ")
    assert second[0] == f"Understood as: {ARRESTED_WHEN}"
    assert "1977" in second[1]
    assert second[2].startswith("[1] ") and ".txt:" in second[2] and second[2].endswith('"')
    assert third == ["The articles don't cover this question."]  # a new topic: not merged, declined


def test_rag_chat_json_ends_at_end_of_input_and_asks_back(chat_home: Path) -> None:
    out = run_chat("Why?\nHow much faster was the AI scene?\nAnd how much cheaper?", chat_home, "--json")
    assert out.returncode == 0, out.stderr
    why, faster, cheaper = (json.loads(line) for line in out.stdout.splitlines())
    assert why["mode"] == "clarify" and why["citations"] == [] and "about what?" in why["text"]
    assert faster["resolved_question"] is None and faster["citations"]
    assert cheaper["resolved_question"] == CHEAPER and cheaper["citations"]


def test_rag_chat_reports_a_bad_line_and_goes_on(chat_home: Path) -> None:
    out = run_chat("?\nexit\n", chat_home)
    assert out.returncode == 0
    assert out.stderr.startswith("error: That has no words in it") and out.stdout == ""


# -- the chat page ----------------------------------------------------------------------


def test_page_api_two_message_chat_through_gradio_client(engine) -> None:
    from gradio_client import Client

    with running_app(create_app(engine, engine.settings)) as url:
        client = Client(url, verbose=False)
        first = client.predict(ARRESTED_WHY, api_name="/ask")
        assert first["resolved_question"] is None and "1977" in first["text"]
        history = [{"role": "user", "content": ARRESTED_WHY}, {"role": "assistant", "content": first["text"]}]
        second = client.predict("Und wann?", history=history, api_name="/ask")
        switch = client.predict(OFF_TOPIC, history=history, api_name="/ask")
        alone = client.predict("Und wann?", api_name="/ask")

    assert second["question"] == "Und wann?" and second["resolved_question"] == ARRESTED_WHEN
    assert "1977" in second["text"] and second["citations"]
    assert switch["resolved_question"] is None and switch["abstained"]
    assert alone["mode"] == "clarify" and alone["citations"] == [] and alone["resolved_question"] is None


def test_page_chat_shows_how_a_follow_up_was_understood(engine, tmp_path: Path) -> None:
    handlers = ChatHandlers(engine, FeedbackStore(tmp_path / "feedback.jsonl"))
    turns = handlers.add_question(FASTER, [])[-1]
    turns = list(handlers.respond(turns))[-1][2]
    turns = handlers.add_question("And how much cheaper?", turns)[-1]
    chat, _, turns = list(handlers.respond(turns))[-1][:3]

    answer = turns[-1]["answer"]
    assert answer["question"] == "And how much cheaper?" and answer["resolved_question"] == CHEAPER
    shown = html.unescape(re.sub(r"<[^>]+>", " ", chat[-1]["content"]))
    assert f"Understood as: {CHEAPER}" in " ".join(shown.split())
    assert "cite-1-1" in chat[-1]["content"]
    assert "Understood as" not in chat[1]["content"]  # the first question stood on its own
