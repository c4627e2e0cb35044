from pathlib import Path

import pytest

from rag.answering.question import analyze
from rag.answering.spans import find
from ingest.metadata import extract, iso_date

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"


def test_metadata_of_the_bundled_articles():
    meta = {f.name[:3]: extract(f.read_text(encoding="utf-8")) for f in sorted(ARTICLES.glob("*.txt"))}
    assert meta["001"].title == "Netflix integriert GenAI erstmals in eigene Produktionen"
    assert (meta["001"].author, meta["001"].outlet, meta["001"].published) == ("Ivan Mehta", "TechCrunch", "2025-07-18")
    assert meta["003"].published == "2025-07-18"
    # A teaser of another article ("Microsoft verleiht Copilot …") and its date (25/10) are not
    # this article's; the dateline run into its first sentence ("26/10/2025Netflix hat …") is.
    assert meta["004"].title == "Netflix hat Milliarden in künstliche Intelligenz investiert"
    assert meta["004"].published == "2025-10-26"
    assert all(m.title for m in meta.values())


def test_metadata_from_front_matter_and_html_head():
    front = extract("---\ntitle: Hallo Welt\nsite: Spiegel\ndate: 2024-03-05\n---\nText hier.")
    assert (front.title, front.outlet, front.published) == ("Hallo Welt", "Spiegel", "2024-03-05")
    head = ('<html><head><title>Ein Titel</title><meta property="og:site_name" content="BBC">'
            '<meta name="author" content="Jane Doe"><meta property="article:published_time" content="2025-07-18T10:00">'
            "</head></html>")
    html = extract("Ein Titel\nText.", markup=head)
    assert (html.title, html.outlet, html.author, html.published) == ("Ein Titel", "BBC", "Jane Doe", "2025-07-18")


def test_iso_dates_in_german_and_english_forms():
    assert iso_date("Veröffentlicht am: 18. Juli 2025") == "2025-07-18"
    assert iso_date("18.07.2025, 18:21") == "2025-07-18"
    assert iso_date("July 18, 2025") == "2025-07-18"
    assert iso_date("kein Datum") == ""


def test_spans_are_normalised_to_read_in_any_language():
    def norm(text, kind):
        return [s.normalized for s in find(text, kind)]

    assert norm("zehnmal schneller, in 10‑mal kürzerer Zeit", "number") == ["10×", "10×"]
    assert norm("mit 3,13 Milliarden USD Gewinn", "number") == ["$3.13 billion"]
    assert norm("62.000 Jobs und 1⁄3 davon", "number") == ["62,000", "1/3"]
    assert norm("zehn Prozent besser", "number") == ["10%"]
    assert norm("am 30. April 2025 kündigte Netflix eine zweite Staffel an", "number") == []
    assert norm("der zehnmonatige Streik", "duration") == ["10 months"]
    assert norm("Veröffentlicht am: 18. Juli 2025", "date") == ["2025-07-18"]
    assert norm("aus den späten 1950er Jahren, 1977 verhaftet", "date") == ["1950s", "1977"]
    assert norm("wie sich ab den 70er Jahren Effekte durchsetzten", "date") == ["1970s"]
    assert norm("ein zentraler Punkt der Hollywood‑Streiks 2023.", "date") == ["2023"]  # a year ending the sentence
    assert norm("Die Kasse öffnet um 18 Uhr, Einlass 17:30 Uhr; doors at 6 pm.", "date") == ["18:00", "17:30", "18:00"]
    # a month without its year, a time said relative to now ("May" alone is also a verb)
    assert norm("Die Veröffentlichung im Dezember; noch in diesem Jahr; later this year. May we?", "date") == [
        "December", "noch in diesem Jahr", "later this year"]
    assert norm("Bereits einen Tag nach der Premiere, vor einigen Wochen", "duration") == ["1 day", "a few weeks"]
    assert norm("Laut Netflix-Co-CEO Ted Sarandos sei", "person") == ["Ted Sarandos"]
    assert norm("Sein Schöpfer Héctor Germán Oesterheld, der", "person") == ["Héctor Germán Oesterheld"]
    assert norm("über die Schauspielerin und ihren Ex Ben Affleck", "person") == ["Ben Affleck"]
    assert norm("„Das sind echte Menschen“, betonte Sarandos.", "person") == ["Sarandos"]  # the speaker
    assert norm("Laut Sarandos ist das so.", "person") == ["Sarandos"]
    assert norm("Beim Earnings Call erklärte Co‑CEO Ted Sarandos:", "organisation") == []
    assert norm("Künstliche Intelligenz ist nicht aufzuhalten.", "person") == []  # an adjective leads
    assert norm("Autor: Ivan Mehta, TechCrunch", "organisation") == ["TechCrunch"]


@pytest.mark.parametrize(
    "text",
    [
        "Eine Szene, die den Einsturz eines Gebäudes in Buenos Aires zeigt",  # a place
        "vom Entertainment Technology Center der University of Southern California",
        "In Nutzerstudien bevorzugten 59% der Befragten Veo 3",  # German nouns, capitalised
        "während Algorithmen Handlungsvariationen vorschlagen",
        "Zwischen Effizienz und Branchenbedenken",  # a heading led by a preposition
    ],
)
def test_capitalised_words_that_are_no_person(text: str) -> None:
    assert [s.normalized for s in find(text, "person")] == []


def test_question_analysis_in_english_and_german():
    q = analyze("What was Netflix's revenue in Q3 2025?")
    assert (q.kind, q.lang, q.years, q.quarters) == ("number", "en", ("2025",), ("q3",))
    assert "netflix" in q.focus and "revenue" in q.focus and "Netflix" in q.names
    assert analyze("Wann wurde Oesterheld verhaftet?").kind == "date"
    assert analyze("Wann wurde Oesterheld verhaftet?").lang == "de"
    assert analyze("How long did the video game strike last?").kind == "duration"
    assert analyze("Who is the CFO of Netflix?").kind == "person"
    assert analyze("Welche Berufe sind besonders gefährdet?").kind == "list"
    assert analyze("Is Sora limited to 1080p?").kind == "yesno"
    assert analyze("Produziert irgendein Hollywood-Studio schneller als Netflix?").kind == "yesno"
    assert analyze("How much revenue did Netflix make in the second quarter?").units == ("money",)  # an ordinal
    assert analyze("What share of the hours was not in English?").units == ("percent",)
    assert analyze("When AI suggests plot variations, do writers still do the creative work?").kind == "yesno"
    assert analyze("Wenn die KI Drehbücher schreibt, sind Autoren dann überflüssig?").kind == "yesno"
    assert analyze("When the series launched, how many people watched it?").kind == "number"
    assert analyze("Which other AI video tools are named?").kind == "list"
    assert analyze("Warum ist die Szene wichtig?").kind == "reason"
    author = analyze("Who wrote the TechCrunch article?")
    assert (author.kind, author.about) == ("person", "author") and "wrote" not in author.focus
    assert analyze("When was the TechCrunch article published?").about == "date"
    assert analyze("What is the maximum clip length Veo 3 can generate?").kind == "duration"
    assert analyze("What video resolution does Veo 3 support?").kind == "number"
    assert analyze("In welchem Zeitraum fand der Streik statt?").kind == "date"
    assert analyze("Which Netflix executive named a project where AI was put to work?").kind == "person"  # "where" relative
    assert analyze("Und wo spielt die Serie?").kind == "place"
    assert analyze("In welchem Stadtviertel von Buenos Aires steht das Gebäude?").kind == "place"
    assert analyze("What is the release date of the second season?").kind == "date"
    assert analyze("What operating margin did Netflix report?").units == ("percent",)
    subject = analyze("Welche Tätigkeiten hält der Autor des Artikels für fragwürdig?")  # the author asks nothing
    assert subject.kind != "person" and analyze("Wie heißt der Autor des Artikels?").kind == "person"
    assert analyze("For which quarter does the article report revenue of $11.5 billion?").kind == "date"
    rate = analyze("At what yearly rate is the market expected to grow?")  # a share per year, not a time
    assert (rate.kind, rate.units) == ("number", ("percent",))
