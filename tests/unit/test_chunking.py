from ingest.chunking import LineIndex, chunk_text
from rag.sentences import split_sentences


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_splits_on_sentence_ends_and_line_breaks():
    text = "Erster Satz. Zweiter Satz! Dritter?\nÜberschrift ohne Punkt\nNoch ein Satz."
    assert texts(text) == ["Erster Satz.", "Zweiter Satz!", "Dritter?", "Überschrift ohne Punkt", "Noch ein Satz."]


def test_keeps_abbreviations_dates_and_list_numbers_together():
    text = "Die Premiere war am 30. April 2025 in Buenos Aires. Das gilt z.B. für Dr. Müller.\n1. Transparenz"
    assert texts(text) == [
        "Die Premiere war am 30. April 2025 in Buenos Aires.",
        "Das gilt z.B. für Dr. Müller.",
        "1. Transparenz",
    ]


def test_handles_typographic_spaces_and_quotes():
    text = "Er sagte: „Das ist neu.“ Danach ging er.\u202fVeröffentlicht am: 18.\u202fJuli\u202f2025"
    assert texts(text) == ["Er sagte: „Das ist neu.“", "Danach ging er.", "Veröffentlicht am: 18.\u202fJuli\u202f2025"]


def test_caps_runaway_sentences():
    text = "wort " * 1000
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= 1000 for s, e in spans)


def test_chunks_are_verbatim_spans_with_lines():
    text = "Titel\n\n" + " ".join(f"Satz Nummer {i} steht hier." for i in range(60)) + "\nEnde des Textes."
    chunks = chunk_text("a.txt", text)
    assert len(chunks) > 1
    lines = LineIndex(text)
    for c in chunks:
        assert text[c.char_start : c.char_end] == c.text
        assert c.line_start == lines.line(c.char_start)
        assert c.line_end == lines.line(c.char_end - 1)
        assert len(c.text) <= 600
        for s, e in c.sentences:
            assert c.char_start <= s < e <= c.char_end
    assert chunks[0].text.startswith("Titel")  # a heading travels with its paragraph


def test_chunk_ids_are_stable_and_follow_content():
    a = chunk_text("a.txt", "Ein Satz. Noch einer.")
    assert [c.id for c in a] == [c.id for c in chunk_text("a.txt", "Ein Satz. Noch einer.")]
    assert a[0].id != chunk_text("b.txt", "Ein Satz. Noch einer.")[0].id
    assert a[0].id != chunk_text("a.txt", "Ein Satz. Noch einer!")[0].id


def test_line_index():
    idx = LineIndex("a\nbb\n\nccc")
    assert [idx.line(i) for i in (0, 1, 2, 4, 5, 6)] == [1, 1, 2, 2, 3, 4]
