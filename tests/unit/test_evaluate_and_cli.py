import pytest

from ui.cli import build_parser, main
from rag.errors import ConfigError
from rag.evaluate import load_questions, summarize


def row(rank=None, abstain_expected=False, abstained=False, correct=False, cites=1, precise=1, gate=0.5):
    return {"abstain_expected": abstain_expected, "abstained": abstained, "rank": rank, "correct": correct,
            "citations": cites, "precise_citations": precise, "precise_quotes": precise, "valid": True, "gate": gate}


def test_summary_rates_and_counts():
    rows = [row(rank=1, correct=True), row(rank=3, correct=False, precise=0), row(rank=None, abstained=True, cites=0, precise=0),
            row(abstain_expected=True, abstained=True, cites=0, precise=0),
            row(abstain_expected=True, abstained=False, cites=0, precise=0)]
    s = summarize(rows, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert s["n"] == 5
    assert (s["hit@1"], s["hit@3"], s["hit@5"]) == (round(1 / 3, 4), round(2 / 3, 4), round(2 / 3, 4))
    assert s["mrr"] == round((1 + 1 / 3) / 3, 4)
    assert s["answer_accuracy"] == round(1 / 3, 4)
    assert s["citation_precision"] == 0.5
    assert (s["abstain_correct"], s["false_abstain"], s["p50_ms"]) == (1, 1, 3.0)


def test_question_file_errors_are_clear(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "ok"}\n{not json}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"q.jsonl:2 is not valid JSON"):
        load_questions(bad)
    bad.write_text('{"question": "ok"}\n\n{"q": "no question key"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"q.jsonl:3 has no 'question' field"):
        load_questions(bad)


def test_cli_reports_errors_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    assert main(["eval", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No question file") and "Traceback" not in err


def test_cli_parser_knows_every_command():
    parser = build_parser()
    for argv in (["ingest"], ["ask", "x", "--json"], ["eval", "f", "--json"], ["ui"], ["slack"], ["bench"]):
        assert parser.parse_args(argv).command == argv[0]
    assert parser.parse_args(["ask", "x", "--json"]).json is True
    assert parser.parse_args(["ask", "x"]).json is False
    assert parser.parse_args(["ask", "How", "much?"]).question == ["How", "much?"]
    assert parser.parse_args(["fit-judge", "a.jsonl", "--out", "w.json"]).files[0].name == "a.jsonl"


def test_fit_judge_names_a_missing_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAG_HOME", str(tmp_path))
    assert main(["fit-judge", str(tmp_path / "none.jsonl")]) == 2
    assert "No training file" in capsys.readouterr().err
