"""Questions about an article itself (author, date, outlet), on hand-built passages."""

from rag.answering.extractive import extractive_answer
from rag.answering import about
from rag.answering.question import analyze
from rag.retrieval.retriever import Hits, SentenceHit
from rag.types import Passage

HEAD = "Netflix setzt auf KI\n\nVeröffentlicht am: 18. Juli 2025\nAutor: Jane Roe, Examplepost\n"
BODY = "Die Szene entstand zehnmal schneller. Das berichtet die BBC."


def passage(pid, file, text, start=0, **meta):
    return Passage(pid, file, text, start, start + len(text), 1, text.count("\n") + 1, **meta)


WITH = passage("a:0", "a.txt", HEAD, title="Netflix setzt auf KI", outlet="Examplepost", author="Jane Roe",
               published="2025-07-18")
WITH_BODY = passage("a:1", "a.txt", BODY, len(HEAD), title="Netflix setzt auf KI", outlet="Examplepost",
                    author="Jane Roe", published="2025-07-18")
WITHOUT = passage("b:0", "b.txt", "Ein Text über die BBC ohne Autor.", title="Ohne Autor")


def sentences(p):
    out, pos = [], 0
    for part in p.text.split("\n"):
        if part.strip():
            out.append(SentenceHit(p, p.char_start + pos, p.char_start + pos + len(part), 0.0, 0.0, 0.0))
        pos += len(part) + 1
    return out


def hits(question, passages):
    by_file = {}
    for p in (WITH, WITH_BODY, WITHOUT):
        by_file.setdefault(p.file, []).extend(sentences(p))
    return Hits(question, passages, [s for p in passages for s in sentences(p)], False, 1.0, 0.2,
                article=lambda f: by_file[f])


def test_author_date_and_outlet_are_named_and_their_line_is_cited():
    for question, value, quote in [
        ("Who wrote the Examplepost article?", "Jane Roe", "Autor: Jane Roe, Examplepost"),
        ("When was the article published?", "2025-07-18", "Veröffentlicht am: 18. Juli 2025"),
        ("In which outlet did Jane Roe's article appear?", "Examplepost", "Autor: Jane Roe, Examplepost"),
    ]:
        answer = extractive_answer(question, hits(question, [WITH_BODY, WITHOUT]))
        assert not answer.abstained, question
        assert answer.text == f"{value} — {quote} [1]"
        assert answer.citations[0].quote == quote and answer.citations[0].file == "a.txt"
        assert answer.span.normalized == value and answer.span.n == 1


def test_the_article_meant_is_the_one_holding_the_names_the_question_gives():
    q = analyze("Who wrote the article that cites the BBC?")
    assert about.target(q, [WITH, WITHOUT]) is WITHOUT
    answer = extractive_answer(q.text, hits(q.text, [WITH, WITHOUT]))
    assert answer.abstained and answer.text == "The article “Ohne Autor” doesn't name its author."


def test_not_a_question_about_an_article():
    # A book's author, and what an article's author did, go the ordinary way.
    for question in ("Who wrote the novel War and Peace?", "Did the blog's author cancel the licence?"):
        assert not about.applies(analyze(question), hits(question, [WITH_BODY]))


def test_meta_question_kinds_in_both_languages():
    assert analyze("Wann erschien der Artikel von Jane Roe?").about == "date"
    assert analyze("When did the article come out?").about == "date"
    assert analyze("Which outlet published the piece?").about == "outlet"
    assert analyze("What is the publication date of the piece?").about == "date"


def test_the_headline_is_quoted_from_its_line():
    for question in ("What is the headline of the Examplepost article?", "Wie lautet die Überschrift des Artikels?"):
        assert analyze(question).about == "title"
        answer = extractive_answer(question, hits(question, [WITH_BODY, WITHOUT]))
        assert not answer.abstained and answer.text == "Netflix setzt auf KI [1]"
        assert answer.citations[0].quote == "Netflix setzt auf KI" and answer.span.normalized == "Netflix setzt auf KI"
    assert analyze("Who plays the title role?").about is None


def test_sources_and_picture_credit_are_quoted_line_by_line():
    text = "Netflix setzt auf KI. Bild: Netflix\nDie Szene entstand zehnmal schneller.\nit-daily.net – KI bei Netflix\nQuellen:\n- https://example.org/a\n- https://example.org/b\nSchreibe einen Kommentar"
    p = passage("c:0", "c.txt", text, title="Netflix setzt auf KI")
    sents = [SentenceHit(p, s, e, 0.0, 0.0, 0.0) for s, e in __import__("rag.sentences", fromlist=["x"]).split_sentences(text)]
    h = Hits("q", [p], sents, False, 1.0, 0.2, article=lambda f: sents)
    for question in ("Which sources does the article list?", "Welche Quellen nennt der Artikel?"):
        answer = extractive_answer(question, h)
        assert [c.quote for c in answer.citations] == ["it-daily.net – KI bei Netflix", "- https://example.org/a",
                                                       "- https://example.org/b"], question
    credit = extractive_answer("Wem wird das Foto zugeschrieben?", h)
    assert credit.citations[0].quote == "Bild: Netflix" and credit.span.normalized == "Netflix"
    bare = passage("d:0", "d.txt", "Ein Text ohne Quellen.", title="Ohne")
    none = Hits("q", [bare], [SentenceHit(bare, 0, 22, 0.0, 0.0, 0.0)], False, 1.0, 0.2,
                article=lambda f: [SentenceHit(bare, 0, 22, 0.0, 0.0, 0.0)])
    declined = extractive_answer("Which sources does the article cite?", none)
    assert declined.abstained and declined.text == "The article “Ohne” lists no sources."
