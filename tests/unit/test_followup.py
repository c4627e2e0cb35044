"""Follow-up questions resolved offline from the conversation (``rag.answering.followup``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rag.answering.followup import clarification, resolve
from rag.evaluate import evaluate, summarize

ROOT = Path(__file__).resolve().parents[2]
FOLLOWUP_SETS = [ROOT / "eval" / "followups_train.jsonl", ROOT / "eval" / "followups_test.jsonl"]
STANDALONE_SETS = [ROOT / "eval" / n for n in ("qa_train.jsonl", "qa_test.jsonl", "dev_questions.jsonl", "calibration.jsonl")]


def chat(*questions: str) -> list[dict[str, str]]:
    """History with these user turns, each followed by an answer."""
    history = []
    for q in questions:
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": "An answer. [1]"}]
    return history


def rows(paths: list[Path]) -> list[dict]:
    return [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- follow-ups are made standalone ----------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        # a bare aspect asks the new thing about the old subject
        ("Warum wurde Oesterheld verhaftet?", "Und wann?", "Wann wurde Oesterheld verhaftet?"),
        ("Wann wurde Oesterheld verhaftet?", "Und warum?", "Warum wurde Oesterheld verhaftet?"),
        ("How much faster was the AI scene?", "And how much cheaper?", "How much cheaper was the AI scene?"),
        ("How much faster was the AI scene?", "How much cheaper?", "How much cheaper was the AI scene?"),
        ("How much faster was the AI scene?", "Why?", "Why was the AI scene faster?"),
        ("Wie viel schneller war die KI-Szene?", "Und warum?", "Warum war die KI-Szene schneller?"),
        (
            "What does CVL Economics estimate about jobs in the entertainment industry?",
            "Over what period?",
            "Over what period does CVL Economics estimate about jobs in the entertainment industry?",
        ),
        # aspects named by a noun keep the old subject alongside
        ("How much cheaper was the AI scene?", "And the time?", "What about the time (the AI scene)?"),
        ("Wie viel günstiger war die KI-Szene?", "Und die Zeit?", "Und die Zeit (die KI-Szene)?"),
        # pronouns get the person they stand for
        ("Who is Ted Sarandos?", "What did he say about AI?", "What did Ted Sarandos say about AI?"),
        ("Wer ist Yves Bergquist?", "Wo arbeitet er?", "Wo arbeitet Yves Bergquist?"),
        ("Who is Ted Sarandos?", "Und was sagte er über KI?", "Was sagte Ted Sarandos über KI?"),
        (
            "Wer ist Yves Bergquist?",
            "Und von wem wird die Technologie laut ihm angenommen?",
            "Von wem wird die Technologie laut Yves Bergquist angenommen?",
        ),
        (
            "Which regime did Héctor Germán Oesterheld openly oppose?",
            "And what had happened to his daughters by the time of his arrest?",
            "What had happened to Héctor Germán Oesterheld's daughters by the time of his arrest?",
        ),
        ("What did James Cameron say about AI?", "And what did he do next?", "What did James Cameron do next?"),
        ("Wie viel schneller war die KI-Szene?", "Wer hat sie gemacht?", "Wer hat die KI-Szene gemacht?"),
        # "what about X" asks the old question about X
        ("When was Veo 2 released?", "What about Sora?", "When was Sora released?"),
        (
            "Wann verklagten Disney und NBCUniversal Midjourney?",
            "Und was ist mit Warner Bros?",
            "Wann verklagten Warner Bros Midjourney?",
        ),
        # a German verb after the asked noun ends the noun phrase; the noun asked for is carried
        ("Welche Verbindung nutzt Netflix laut it-daily?", "Und wozu?", "Wozu nutzt Netflix laut it-daily Verbindung?"),
        # a new time for the same question
        ("What was Netflix's revenue in Q2 2025?", "And in 2024?", "What was Netflix's revenue in 2024?"),
        (
            "Wie hoch war der Umsatz von Netflix im zweiten Quartal 2025?",
            "Und im dritten Quartal?",
            "Wie hoch war der Umsatz von Netflix im dritten Quartal 2025?",
        ),
    ],
)
def test_follow_up_is_made_standalone(previous: str, question: str, expected: str) -> None:
    assert resolve(question, chat(previous)) == expected


@pytest.mark.parametrize(
    ("previous", "question", "carried"),
    [
        # "it" with nothing to stand for in the question: the old subject goes along
        (
            "Who wrote the TechCrunch article about Netflix's first GenAI footage?",
            "And when was it published?",
            "TechCrunch article about Netflix's first GenAI footage",
        ),
        ("What was Netflix's revenue in Q2 2025?", "How much did it grow?", "Netflix's revenue in Q2 2025"),
        ("What was Netflix's revenue in Q2 2025?", "And its profit?", "Netflix's revenue in Q2 2025"),
        ("How much faster was the AI scene?", "Who made it?", "the AI scene"),
        ("Wann kündigte Netflix eine zweite Staffel von „Eternauta“ an?", "Wird es danach noch weitere geben?",
         "Netflix eine zweite Staffel von „Eternauta“"),
        ("Was versteht man unter „Formulaic Content“?", "Und was könnte das konkret sein?", "„Formulaic Content“"),
        ("Wann verklagten Disney und NBCUniversal Midjourney?", "Warum taten sie das?", "Midjourney"),
        ("How much faster was the AI scene?", "How long did it take to make it?", "the AI scene"),
        # a name of its own doesn't make it a new question when a pronoun still points back
        ("How many entertainment jobs does CVL Economics expect to be affected?", "How many of them in California?",
         "CVL Economics"),
        ("Wann feierte die erste Staffel von „Eternauta“ Premiere?", "Und was kündigte Netflix einen Tag danach an?",
         "Eternauta"),
        # "Prozent", "Stadt": what is asked, capitalised as every German noun, not a name
        ("Wie viel Umsatz meldete Netflix im Q3 2025?", "Und um wie viel Prozent stieg er gegenüber dem Vorjahr?",
         "Netflix"),
        ("In welcher Serie setzte Netflix erstmals GenAI ein?", "Und in welcher Stadt spielt die eingestürzte Szene?",
         "Netflix"),
    ],
)
def test_referring_follow_up_carries_the_previous_subject(previous: str, question: str, carried: str) -> None:
    out = resolve(question, chat(previous))
    assert out != question
    assert carried in out
    assert not out.lower().startswith(("and ", "und "))


def test_the_previous_question_is_resolved_first() -> None:
    history = chat("How much faster was the AI scene?", "And how much cheaper?")
    assert resolve("Why?", history) == "Why was the AI scene cheaper?"
    assert resolve("Und wann?", history) == "Wann (the AI scene)?"  # another language: the subject alongside


def test_only_user_turns_count_and_the_last_one_leads() -> None:
    history = [
        {"role": "user", "content": "Wer ist Ted Sarandos?"},
        {"role": "assistant", "content": "Yves Bergquist sagt etwas. [1]"},
        {"role": "user", "content": "Wer ist Yves Bergquist?"},
        {"role": "assistant", "content": "Ted Sarandos ist Co-CEO. [1]"},
    ]
    assert resolve("Wo arbeitet er?", history) == "Wo arbeitet Yves Bergquist?"
    assert resolve("Wo arbeitet er?", [{"role": "assistant", "content": "Hallo"}]) == "Wo arbeitet er?"


def test_after_a_who_question_he_or_she_is_the_person_answered() -> None:
    history = [
        {"role": "user", "content": "Who wrote the TechCrunch article about Netflix?"},
        {"role": "assistant", "content": "Ivan Mehta — Autor: Ivan Mehta, TechCrunch [1]"},
    ]
    assert resolve("When did he publish it?", history).startswith("When did Ivan Mehta publish it")
    german = [
        {"role": "user", "content": "Wer hat vor einem kompletten Ersatz menschlicher Künstler gewarnt?"},
        {"role": "assistant", "content": "Jonathan Taplin — Dagegen warnt Jonathan Taplin vom USC … [1]"},
    ]
    assert resolve("Und wo arbeitet er?", german) == "Wo arbeitet Jonathan Taplin?"
    # and further on: the earlier follow-up is resolved with the answer before it, too
    longer = [*german, {"role": "user", "content": "Und wo arbeitet er?"},
              {"role": "assistant", "content": "Dagegen warnt Jonathan Taplin vom USC Annenberg Innovation Lab [1]"}]
    assert "Jonathan Taplin" in resolve("Und wann hat er das gesagt?", longer)
    # not after a question that isn't "who", nor when that question names its person
    other = [{"role": "user", "content": "What did the blog say?"}, {"role": "assistant", "content": "Ted Sarandos … [1]"}]
    assert "Ted Sarandos" not in resolve("Where does he work?", other)


def test_a_bare_and_or_pronoun_repeats_the_previous_question() -> None:
    assert resolve("Und?", chat("Wer ist Ted Sarandos?")) == "Wer ist Ted Sarandos?"
    assert resolve("And he?", chat("Who is Ted Sarandos?")) == "Who is Ted Sarandos?"


# -- questions that stand on their own are left alone ----------------------------------


@pytest.mark.parametrize(
    ("previous", "question"),
    [
        ("Who is Ted Sarandos?", "Who won the 2022 football World Cup?"),
        ("Who is Ted Sarandos?", "When was Oesterheld arrested?"),
        ("Who is Ted Sarandos?", "What is diffusion?"),
        ("Who is Ted Sarandos?", "Diffusion models?"),
        ("Which country does the Eternauta comic come from?", "What does Eyeline Studios describe as its mission?"),
        ("What was Netflix's revenue in Q2 2025?", "Is it true that the AI scene was ten times faster?"),
        ("How much faster was the AI scene?", "How much did it cost to produce the Sora clip?"),
        ("Wie hoch war der Umsatz von Netflix im zweiten Quartal 2025?", "Gibt es eine zweite Staffel von Eternauta?"),
        ("Wie hoch war der Umsatz von Netflix?", "Wie viele Datenpunkte sammelt Netflix pro Nutzer?"),
        ("Wer ist Yves Bergquist?", "Wie lange ist es her, dass die Serie in Deutschland die Chartspitze erreichte?"),
        ("Wozu werten die Algorithmen von Netflix das Verhalten aus?", "Welche Farbe hat ein Eisbär unter seinem Fell?"),
        ("Wann wurde das Buch veröffentlicht?", "Wer hat das Buch geschrieben?"),
        # "it" stands for the "to …" that follows
        ("Wer verkündet, dass KI Filme besser machen soll?", "How much did it cost to produce the collapse scene?"),
    ],
)
def test_a_topic_switch_is_not_merged(previous: str, question: str) -> None:
    assert resolve(question, chat(previous)) == question


def test_without_history_the_question_comes_back_as_asked() -> None:
    assert resolve("  Und   wann? ", []) == "Und wann?"
    assert resolve("Why?", []) == "Why?"


def test_the_follow_up_sets_are_decided_right() -> None:
    """Every follow-up of eval/followups_*.jsonl is resolved, every topic switch left alone."""
    wrong = []
    for row in rows(FOLLOWUP_SETS):
        out = resolve(row["question"], chat(*row["turns"]))
        if (out != row["question"]) == row["switch"]:
            wrong.append((row["id"], row["question"], out))
    assert not wrong
    assert len(rows(FOLLOWUP_SETS)) >= 20


def test_standalone_questions_after_unrelated_ones_are_never_merged() -> None:
    """Each question of the answerable and near-miss sets, asked after a random other one."""
    questions = [r["question"] for r in rows(STANDALONE_SETS)]
    assert len(questions) > 150
    merged = []
    for seed in range(3):
        rng = random.Random(seed)
        for q in questions:
            previous = rng.choice([p for p in questions if p != q])
            out = resolve(q, chat(previous))
            if out != q:
                merged.append((previous, q, out))
    assert not merged


# -- nothing to refer to ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Why?", "\u201cWhy?\u201d \u2013 about what?"),
        ("When?", "\u201cWhen?\u201d \u2013 about what?"),
        ("it", "What does \u201cit\u201d refer to?"),
        ("What about it?", "What does \u201cit\u201d refer to?"),
        ("They?", "What does \u201cThey\u201d refer to?"),
        ("Und er?", "Worauf bezieht sich „er“?"),
        ("Was ist das?", "Worauf bezieht sich „das“?"),
        ("Warum?", "„Warum?“ – worauf bezieht sich die Frage?"),
        ("Wie viel?", "„Wie viel?“ – worauf bezieht sich die Frage?"),
    ],
)
def test_a_question_with_nothing_to_look_up_gets_asked_back(question: str, asks: str) -> None:
    text = clarification(question)
    assert text is not None and text.startswith(asks)
    assert "[1]" not in text


@pytest.mark.parametrize(
    "question",
    ["Netflix?", "When was it published?", "How much faster was the AI scene?", "Wann wurde Oesterheld verhaftet?",
     "Who is Sarandos?", "2024?"],
)
def test_a_question_with_something_to_look_up_is_answered(question: str) -> None:
    assert clarification(question) is None


def test_the_assistant_asks_back_without_quoting(tmp_path: Path) -> None:
    """No model is loaded and no index touched: the reply is the question back."""
    from rag import Assistant

    bot = Assistant(home=tmp_path, auto_ingest=False)
    events = list(bot.stream("Why?"))
    answer = events[-1]
    assert events[:-1] == [answer.text]
    assert answer.mode == "clarify" and not answer.abstained
    assert answer.citations == [] and answer.sources == [] and answer.span is None
    assert answer.text == clarification("Why?")
    assert bot._index is None and bot._embeddings is None
    assert json.loads(answer.to_json())["mode"] == "clarify"


# -- the eval scores conversations ------------------------------------------------------


class RecordingBot:
    """Stands in for an Assistant: records what it was asked, resolves like the engine."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        from rag.retrieval.retriever import Hits

        self.asked: list[tuple[str, list | None]] = []
        self.settings = SimpleNamespace(articles_dir=ROOT / "data" / "articles")
        self.retriever = SimpleNamespace(search=lambda q, k=5: Hits(q, [], [], True, 0.0, 0.25))

    def ask(self, question, *, history=None, k=None):
        from rag.types import Answer

        self.asked.append((question, history))
        standalone = resolve(question, history or [])
        return Answer(
            question=question,
            text=f"answer to {standalone}",
            resolved_question=standalone if standalone != question else None,
        )


def test_eval_asks_the_turns_first_and_counts_merged_switches() -> None:
    bot = RecordingBot()
    questions = [
        {"id": "f", "turns": ["Warum wurde Oesterheld verhaftet?"], "question": "Und wann?", "switch": False,
         "answer": ["Wann wurde Oesterheld"]},
        {"id": "s", "turns": ["Who is Ted Sarandos?"], "question": "Who won the 2022 World Cup?", "switch": True,
         "answer": ["World Cup"]},
    ]
    report = evaluate(bot, questions)
    assert bot.asked[0] == ("Warum wurde Oesterheld verhaftet?", None)
    assert bot.asked[1][0] == "Und wann?"
    assert bot.asked[1][1][0] == {"role": "user", "content": "Warum wurde Oesterheld verhaftet?"}
    first, second = report["rows"]
    assert first["resolved"] == "Wann wurde Oesterheld verhaftet?" and first["correct"]
    assert second["resolved"] is None and second["switch"] is True
    assert report["summary"]["switches_merged"] == 0
    assert report["summary"]["followup_accuracy"] == 1.0


def test_summary_counts_a_merged_switch_and_only_then_has_the_keys() -> None:
    base = {"abstain_expected": False, "abstained": False, "rank": 1, "citations": 1, "precise_citations": 1,
            "precise_quotes": 1, "valid": True, "gate": 0.5}
    merged = {**base, "correct": False, "switch": True, "resolved": "Who is X? And Y"}
    followup = {**base, "correct": True, "switch": False, "resolved": "When was X arrested?"}
    s = summarize([merged, followup], [1.0, 2.0])
    assert s["switches_merged"] == 1 and s["followup_accuracy"] == 1.0
    plain = summarize([{**base, "correct": True}], [1.0])
    assert "switches_merged" not in plain and "followup_accuracy" not in plain
