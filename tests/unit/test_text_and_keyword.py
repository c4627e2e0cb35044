from rag.retrieval.keyword import BM25
from rag.text import contains, for_embedding, normalize, terms


def test_normalize_treats_typographic_hyphens_and_spaces_as_plain():
    assert normalize("10\u2011mal  Q2\u202f2025") == "10-mal q2 2025"
    assert contains("nicht\u2011englischsprachig", "Nicht-englischsprachig")


def test_terms_fold_stem_and_drop_stopwords():
    assert terms("Die Gebäudeeinsturz-Szene wurde produziert") == ["gebaudeeinsturz", "szen", "produziert"]


def test_for_embedding_removes_table_pipes_and_list_marks():
    assert for_embedding("| 3 Millionen | Filterung |") == "3 Millionen; Filterung"
    assert for_embedding("  • Gewinn: 3,13 Mrd USD") == "Gewinn: 3,13 Mrd USD"


def test_bm25_ranks_and_weights_rare_terms():
    bm = BM25(["a", "b", "c"], ["Netflix Umsatz Quartal", "Netflix Streik Gewerkschaft", "Netflix Netflix Serie"])
    assert bm.search("Streik bei Netflix", 3)[0][0] == "b"
    assert bm.search("Fußball", 3) == []


def test_coverage_counts_words_the_corpus_never_uses():
    bm = BM25(["a"], ["Seit 2022 sind 65 Studios entstanden"])
    assert bm.coverage("2022", "Seit 2022 sind 65 Studios entstanden") == 1.0
    assert bm.coverage("football world cup 2022", "Seit 2022 sind 65 Studios entstanden") < 0.35


def test_coverage_of_translated_concepts():
    bm = BM25(["a", "b"], ["zehnmal schneller produziert", "deutlich günstiger"])
    concepts = [{"schnell": 0.9}]
    assert bm.coverage(concepts, "zehnmal schneller produziert") > 0.85
    assert bm.coverage(concepts, "deutlich günstiger") == 0.0
