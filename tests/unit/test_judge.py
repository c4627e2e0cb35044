"""The evidence judge: features, verdicts, fitting and the shipped weights."""

import json
from pathlib import Path

import pytest

from rag.answering.extractive import answer_span
from rag.answering.fit_judge import Example, fit
from rag.answering.judge import ANSWERABILITY, RANKING, WEIGHTS_PATH, Weights, default_weights, judge
from rag.answering.values import typed_values
from rag.answering.question import analyze
from rag.retrieval.retriever import Hits, SentenceHit
from rag.types import Passage

ROOT = Path(__file__).resolve().parents[2]
TEXT = (
    "Netflix im Wandel\n"
    "Netflix meldete für das zweite Quartal 2025 einen Gewinn von 3,13 Milliarden Dollar. "
    "Der Streamingdienst setzt zunehmend auf künstliche Intelligenz. "
    "Gedreht wurde die Szene in Buenos Aires."
)


def hits_for(question: str, sims: dict[str, float], text: str = TEXT) -> Hits:
    p = Passage("p1", "a.txt", text, 0, len(text), 1, 2)
    sentences = []
    for phrase, sim in sims.items():
        s = text.index(phrase)
        sentences.append(SentenceHit(p, s, s + len(phrase), similarity=sim, lexical=0.2, score=sim + 0.05, rank=0))
    return Hits(question, [p], sentences, abstain=False, gate_score=max(sims.values()), threshold=None)


PROFIT = "Netflix meldete für das zweite Quartal 2025 einen Gewinn von 3,13 Milliarden Dollar."
AI = "Der Streamingdienst setzt zunehmend auf künstliche Intelligenz."
PLACE = "Gedreht wurde die Szene in Buenos Aires."


def test_a_typed_question_prefers_the_sentence_holding_a_value_of_its_type():
    judged = judge("How much profit did Netflix make?", hits_for("q", {AI: 0.50, PROFIT: 0.45}))
    assert judged[0].sentence.text == PROFIT
    assert any("has a number" in r for r in judged[0].reasons)
    assert any("holds no number" in r for r in judged[1].reasons)


def test_a_heading_ranks_below_a_sentence_that_says_something():
    judged = judge("Was macht Netflix?", hits_for("q", {"Netflix im Wandel": 0.50, AI: 0.47}))
    assert judged[0].sentence.text == AI
    assert "a heading or caption" in judged[1].reasons


def test_a_year_the_passage_never_mentions_lowers_the_probability_and_is_named():
    asked_2025 = judge("How much profit did Netflix make in 2025?", hits_for("q", {PROFIT: 0.5}))[0]
    asked_2019 = judge("How much profit did Netflix make in 2019?", hits_for("q", {PROFIT: 0.5}))[0]
    assert asked_2019.probability < asked_2025.probability
    assert "the passage doesn't mention 2019" in asked_2019.reasons
    assert asked_2019.features["constraints_in_passage"] == 0.0 and asked_2025.features["constraints_in_passage"] == 1.0


def test_quarters_are_matched_in_words_too():
    third = judge("What did Netflix earn in Q3 2025?", hits_for("q", {PROFIT: 0.5}))[0]
    second = judge("What did Netflix earn in the second quarter of 2025?", hits_for("q", {PROFIT: 0.5}))[0]
    assert third.features["constraints_in_sentence"] == 0.5 and second.features["constraints_in_sentence"] == 1.0


def test_only_the_best_candidate_can_answer_and_the_cut_decides():
    hits = hits_for("q", {PROFIT: 0.5, AI: 0.3, PLACE: 0.2})
    always = judge("How much profit did Netflix make?", hits, threshold=0.0)
    never = judge("How much profit did Netflix make?", hits, threshold=1.01)
    assert [j.verdict for j in always] == ["answers", "partly", "partly"]
    assert {j.verdict for j in never} == {"doesn't"}
    assert all(0.0 <= j.probability <= 1.0 for j in always)


def test_nothing_retrieved_is_nothing_judged():
    empty = Hits("q", [], [], abstain=True, gate_score=0.0, threshold=None)
    assert judge("Who?", empty) == []


def test_fitting_learns_to_rank_the_right_sentence_first(tmp_path):
    examples = []
    for i in range(12):
        # The answer holds the asked value but is a little less similar than a distractor.
        examples.append(Example("How much profit did Netflix make?", hits_for("q", {AI: 0.50 + i / 100, PROFIT: 0.45}),
                                ("3,13 Milliarden",), True))
        examples.append(Example("Where was the scene shot?", hits_for("q", {AI: 0.52, PLACE: 0.44 + i / 100}),
                                ("Buenos Aires",), True))
        examples.append(Example("Who directed the scene?", hits_for("q", {AI: 0.30, PLACE: 0.28}), (), False))
    weights = fit(examples)
    assert weights.ranking.names == RANKING and weights.answerability.names == ANSWERABILITY
    assert weights.fitted_on["questions"] == 36 and weights.fitted_on["answerable"] == 24
    judged = judge("How much profit did Netflix make?", hits_for("q", {AI: 0.55, PROFIT: 0.45}), weights)
    assert judged[0].sentence.text == PROFIT
    path = tmp_path / "w.json"
    weights.save(path)
    assert Weights.load(path) == Weights.load(path) and Weights.load(path).threshold == pytest.approx(weights.threshold, abs=1e-4)


def test_the_shipped_weights_name_the_training_files_and_hold_no_test_split():
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    files = data["fitted_on"]["files"]
    assert files and all((ROOT / "eval" / f).is_file() for f in files)
    assert not any("test" in f or "dev" in f for f in files)
    w = default_weights()
    assert 0.0 < w.threshold < 1.0
    assert len(w.ranking.coef) == len(RANKING) and len(w.answerability.coef) == len(ANSWERABILITY)


def test_a_follow_up_sees_what_the_previous_answer_quoted_and_what_comes_after():
    from rag.answering.judge import conversation_context

    hits = hits_for("q", {PROFIT: 0.5, AI: 0.4, PLACE: 0.3})
    previous = f"$3.13 billion — {PROFIT} [1]"
    context = conversation_context(hits.sentences, previous)
    by_text = {s.text: context.get(id(s)) for s in hits.sentences}
    assert by_text[PROFIT] == (True, False)
    assert by_text[AI] == (False, True), "the sentence right after the quote"
    assert by_text[PLACE] is None
    assert conversation_context(hits.sentences, None) == {}
    judged = judge("Und was noch?", hits, previous=previous)
    after = next(j for j in judged if j.sentence.text == AI)
    assert after.features["follows_quote"] == 1.0 and "comes right after the previous answer's quote" in after.reasons


@pytest.mark.parametrize(
    ("question", "text", "values"),
    [
        # a number must be of the unit asked for
        ("How much does Google charge for Veo 3?", "In Studien bevorzugten 59% der Befragten Veo 3.", []),
        ("How many episodes does the season have?", "Die Serie erreichte 96% auf Rotten Tomatoes.", []),
        ("Wie viel Geld hat Netflix gespart?", "KI soll Filme „zehn Prozent besser“ machen.", []),
        ("What share of the hours was not in English?", "95 Mrd Std in H1 2025; 1⁄3 davon nicht englisch.", ["1⁄3"]),
        # "per day" is a rate: the count is asked for, not a time
        ("How many searches per day feed the system?", "| 3 Millionen tägliche Suchanfragen |", ["3 Millionen"]),
        ("For how many days did SAG-AFTRA strike?", "SAG-AFTRA führte einen 118-tägigen Streik.", ["118-tägigen"]),
        # "how often" is answered by a multiple
        ("Wie oft fährt die Straßenbahn über die Brücke?", "Sie fährt täglich zwölfmal über die Brücke.", ["zwölfmal"]),
        # a resolution is a value of its own
        ("What resolution is Sora limited to?", "Begrenzung auf 1080p-Auflösung mit maximal 20 Sekunden", ["1080p"]),
        ("In welcher Auflösung erzeugt Veo 2 Videos?", "Veo 2 kann Videos in 4K-Auflösung generieren", ["4K"]),
        ("How many seconds can a Sora video last?", "Begrenzung auf 1080p-Auflösung mit maximal 20 Sekunden",
         ["20 Sekunden"]),
        # "how much better" is a share or a multiple; a rating may be a percentage
        ("How much better should AI make films?", "KI soll Filme „zehn Prozent besser“ machen.", ["zehn Prozent"]),
        ("How much faster was the scene made?", "Die Szene wurde zehnmal schneller produziert.", ["zehnmal"]),
        ("What rating did the series get?", "Die Serie erreichte 96% auf Rotten Tomatoes.", ["96%"]),
    ],
)
def test_typed_values_fit_the_asked_unit(question: str, text: str, values: list[str]) -> None:
    assert [v.text for v in typed_values(analyze(question), text)] == values


def test_the_value_shown_is_the_one_next_to_the_questions_words_in_either_spelling() -> None:
    text = ("CVL Economics schätzt, dass 204.000 Positionen in der Unterhaltungsindustrie betroffen sein werden "
            "– in Kalifornien allein 62.000 Arbeitsplätze.")
    hits = hits_for("q", {text: 0.5}, text=text)
    span = answer_span("How many of the affected jobs are in California?", hits.sentences[0], hits.sentences)
    assert span is not None and span.normalized == "62,000"


def test_an_article_that_names_nothing_the_question_names_cannot_answer_it() -> None:
    def with_article(question: str) -> Hits:
        h = hits_for(question, {PROFIT: 0.6, PLACE: 0.5})
        return Hits(h.question, h.passages, h.sentences, False, h.gate_score, None, article=lambda f: h.sentences)

    graz = judge("Wann öffnet die Kasse des Kinos in Graz?", with_article("Wann öffnet die Kasse des Kinos in Graz?"))
    assert all(j.probability == 0.0 and j.verdict == "doesn't" for j in graz)
    assert any("the article never names" in r for r in graz[0].reasons)
    # one name it does know is enough; where and when something was said ("im Juli") names nothing
    for question in ("In welcher Stadt in Graz oder Buenos Aires wurde gedreht?", "Was meldete Netflix im Juli?"):
        assert not any("never names" in r for j in judge(question, with_article(question)) for r in j.reasons)
    # a one-word name counts as what the lexicon took it for ("Argentina" -> "argentinien")
    h = with_article("What was filmed in Argentina?")
    translated = Hits(h.question, h.passages, h.sentences, False, h.gate_score, None, article=h.article,
                      translations={"argentina": ("buenos",)})
    assert any("never names" in r for j in judge(h.question, h) for r in j.reasons)
    assert not any("never names" in r for j in judge(h.question, translated) for r in j.reasons)


def _top(question: str, text: str) -> object:
    return judge(question, hits_for(question, {text: 0.7}, text))[0]


def test_who_needs_someone_named_a_company_or_a_group_of_people() -> None:
    nobody = _top("Wer leitet Eyeline Studios?", "Netflix setzte auf die Partnerschaft mit Eyeline Studios.")
    assert nobody.probability == 0.0 and nobody.verdict == "doesn't"
    for text in ("Die kreative Hauptarbeit übernehmen immer noch die Autoren.",
                 "Die Firma Eyeline Studios arbeitet mit Scanline VFX zusammen."):
        assert not any("names no one" in r or r == "" for r in _top("Wer übernimmt die Hauptarbeit?", text).reasons)
    # "whose" is often answered by a reference ("das Unternehmen … ihrer Abteilung")
    whose = _top("Whose VFX department is Eyeline Studios?", "Das Unternehmen setzt auf Eyeline Studios, ihre VFX-Abteilung.")
    assert whose.probability > 0.0


def test_a_person_in_another_role_or_a_date_of_another_event_does_not_answer() -> None:
    cfo = _top("Who is Netflix's chief financial officer?", "Ted Sarandos, Co-CEO von Netflix, sprach von einem Erfolg.")
    assert cfo.probability == 0.0 and any("who is CFO" in r for r in cfo.reasons)
    born = _top("Wann wurde Oesterheld geboren?", "Oesterheld wurde 1977 verhaftet.")
    assert born.probability == 0.0 and any("when or where it was born" in r for r in born.reasons)
    stated = _top("Wann wurde Oesterheld geboren?", "Oesterheld wurde 1919 in Buenos Aires geboren.")
    assert not any("when or where" in r for r in stated.reasons)
    director = _top("Who directed the film?", "Regie führte der Mexikaner Rodrigo Prieto.")
    assert not any("who is director" in r for r in director.reasons)


def test_a_value_of_another_version_does_not_answer_for_the_one_asked() -> None:
    text = "Veo 2 kann Videos in 4K-Auflösung mit über zwei Minuten Länge generieren, während Veo 3 Audio bietet."
    veo3 = _top("What video resolution does Veo 3 support?", text)
    assert veo3.probability == 0.0 and any("about Veo 2, not Veo 3" in r for r in veo3.reasons)
    assert not any("not Veo 2" in r for r in _top("How long can the clips generated by Veo 2 be?", text).reasons)
    only = _top("What can Veo 3 do?", "Veo 2 kann Videos in 4K-Auflösung generieren.")
    assert any("statement is about Veo 2" in r for r in only.reasons)


def test_asked_for_a_name_a_sentence_must_hold_one() -> None:
    daughters = _top("Wie hießen die vier Töchter von Oesterheld?", "Seine vier Töchter waren bereits „verschwunden“.")
    assert daughters.probability == 0.0 and any("names nothing" in r for r in daughters.reasons)
    called = _top("What are the grassroots protests called?", "Basisproteste wie „Kill the Machine“ Events finden statt.")
    assert not any("names nothing" in r for r in called.reasons)


def test_a_period_is_a_span_of_dates_or_of_time_and_an_age_is_no_duration() -> None:
    period = analyze("In welchem Zeitraum erwarten Führungskräfte eine größere Rolle der KI?")
    assert [v.normalized for v in typed_values(period, "in den nächsten drei Jahren")] == ["3 years"]
    assert [v.normalized for v in typed_values(period, "von 2024 bis 2032")] == ["2024", "2032"]
    held = analyze("Wie lange wurde Oesterheld gefangen gehalten?")
    assert typed_values(held, "Seine Töchter, damals zwischen 19 und 25 Jahre alt, waren tot.") == []
    # a value the question holds, however spaced, is no answer
    assert typed_values(analyze("Wie viele wurden befragt, als 67 % Sorgen äußerten?"), "67% der Kreativen") == []


def test_a_person_the_article_introduced_counts_when_named_by_surname() -> None:
    text = "Ted Sarandos ist Co-CEO von Netflix. Sarandos verweist auf den Film „Pedro Paramo“."
    whole = hits_for("q", {"Ted Sarandos ist Co-CEO von Netflix.": 0.3, "Sarandos verweist auf den Film „Pedro Paramo“.": 0.7}, text)
    alone = Hits("q", whole.passages, whole.sentences[1:], False, 0.7, None)
    question = "Which Netflix executive mentioned Pedro Paramo?"
    assert judge(question, alone)[0].probability == 0.0  # nothing says "Sarandos" is a person
    introduced = Hits("q", whole.passages, whole.sentences[1:], False, 0.7, None, article=lambda f: whole.sentences)
    assert judge(question, introduced)[0].probability > 0.0


def test_a_figure_must_measure_what_is_asked() -> None:
    revenue = "Netflix vermeldete einen Umsatzsprung von 16 Prozent auf 11 Milliarden Dollar."
    profit = _top("How much net profit did Netflix make?", revenue)
    assert profit.probability == 0.0 and any("figure is no profit" in r for r in profit.reasons)
    assert not any("figure is no" in r for r in _top("How much revenue did Netflix make?", revenue).reasons)
    assert any("figure is no spending" in r for r in _top("How much does Netflix spend on content?", revenue).reasons)


def test_asked_for_a_day_a_year_does_not_answer() -> None:
    day = analyze("An welchem Tag endete der Streik?")
    assert typed_values(day, "Der Streik 2023 dauerte 118 Tage.") == []
    assert [v.normalized for v in typed_values(day, "Am 9. November 2023 endete der Streik.")] == ["2023-11-09"]
    assert [v.normalized for v in typed_values(analyze("In which month did it begin?"), "im Februar 2024")] == ["2024-02"]


def test_millions_of_the_counted_thing_count_it() -> None:
    text = "Jede Sekunde generieren Millionen von Abonnenten Datenpunkte."
    assert [v.normalized for v in typed_values(analyze("Wie viele Abonnenten erzeugen Datenpunkte?"), text)] == ["millions"]
    assert typed_values(analyze("How many data points does Netflix gather?"), text) == []


def test_a_date_of_another_season_does_not_answer() -> None:
    text = "Bereits einen Tag nach der Premiere der ersten Staffel am 30. April 2025 kündigte Netflix eine zweite Staffel an."
    second = _top("What is the release date of the second season?", text)
    assert second.probability == 0.0 and any("about season 1, not season 2" in r for r in second.reasons)
    assert not any("not season" in r for r in _top("Wann feierte die erste Staffel Premiere?", text).reasons)
