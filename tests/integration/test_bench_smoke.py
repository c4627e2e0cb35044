"""The benchmark runs end to end on a tiny corpus and prints every figure.

Nothing is timed here: the figures depend on the machine. This only checks
that each section ran and printed its numbers, and that the files are written.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    {
        "id": "s1",
        "question": "How much faster was the AI scene?",
        "lang": "en",
        "evidence": ["10"],
        "answer": ["10"],
    },
    {
        "id": "s2",
        "question": "In welcher Stadt steht das einstürzende Gebäude?",
        "lang": "de",
        "evidence": ["Buenos Aires"],
        "answer": ["Buenos Aires"],
    },
    {
        "id": "s3",
        "question": "Who won the 2022 football World Cup?",
        "lang": "en",
        "evidence": [],
        "answer": [],
        "abstain": True,
    },
]
NUMBER = r"\d+(?:\.\d+)?"


@pytest.mark.slow
def test_quick_bench_prints_all_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    articles = tmp_path / "articles"
    articles.mkdir()
    for path in sorted((ROOT / "data" / "articles").glob("*.txt"))[:2]:
        shutil.copy(path, articles / path.name)
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    out = tmp_path / "out"

    code = main(
        [
            "--quick",
            "--articles",
            str(articles),
            "--questions",
            str(questions),
            "--sizes",
            "40,80",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out

    assert code == 0
    expected = [
        rf"ingest, cold .*: {NUMBER} chunks in {NUMBER} s = {NUMBER} chunks/s",
        rf"ingest, warm .*: {NUMBER} chunks in {NUMBER} s = {NUMBER} chunks/s",
        r"re-ingest, unchanged corpus: 0 chunks embedded",
        rf"ask p50 {NUMBER} ms .*p95 {NUMBER} ms",
        rf"`rag ask .*`: median {NUMBER} s",
        r"torch / sentence-transformers imported on the ask path: \[\]",
        rf"peak RSS of the bench process so far .*: {NUMBER} MiB",
        rf"bot \(Retriever.search\)\s+{NUMBER}\s+{NUMBER}",
        rf"baseline\s+{NUMBER}\s+{NUMBER}\s+\d+",
        rf"\s+40 chunks .*ingest {NUMBER} s = {NUMBER} chunks/s = {NUMBER} sentences/s "
        rf"\(embedder alone, one process: {NUMBER} sentences/s.*keyword index load {NUMBER} ms "
        rf"\(BM25 build from the store {NUMBER} ms\); first ask in a fresh process {NUMBER} ms "
        rf"\({NUMBER}x warm p50.*after a warm-up question {NUMBER} ms.*ask p50 {NUMBER} ms",
        rf"\s+80 chunks .*ask p50 {NUMBER} ms",
        rf"query p50 at 80 / at 40: {NUMBER}x",
        r"\| warm `Assistant.ask` p50 / p95 \(CPU p50\) \|",
    ]
    for pattern in expected:
        assert re.search(pattern, printed), f"missing /{pattern}/ in:\n{printed}"

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["reingest"]["embedded"] == 0
    assert [r["chunks"] for r in results["scale"]] == [40, 80]
    for row in results["scale"]:
        assert row["first_ask_s"] > 0 and row["first_ask_after_warmup_s"] > 0
        assert row["embedder_sentences_per_s"] > 0 and row["keyword_load_s"] > 0
    assert {"hit@5", "search_p50_ms"} <= set(results["baseline"]) and {"hit@5"} <= set(results["bot"])
    assert (out / "scale.png").stat().st_size > 1000
