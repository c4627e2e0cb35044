"""Keyword search: the project's BM25 (``rag.retrieval.keyword``) against the ``bm25s`` library.

``python -m bench.bm25s_compare [QUESTIONS.jsonl ...]`` ingests the bundled
articles into a temporary index, then runs ``rag eval`` over each question set
twice: with the project's keyword index, and with ``bm25s`` ranking the chunks
and files instead (same tokens, ``rag.text.terms``; same concept weights: one
``get_scores`` per term, times its weight). Everything else (dense retrieval,
fusion, the answer) is the same code, so a difference in hit@k is the keyword
ranking's. It also prints the time to build and to load each index.

Needs ``pip install bm25s`` (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.evaluate import evaluate_file
from rag.retrieval.keyword import BM25, KeywordIndex
from rag.text import terms

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETS = (ROOT / "eval" / "dev_questions.jsonl", ROOT / "eval" / "qa_test.jsonl")
KEYS = ("hit@1", "hit@3", "hit@5", "mrr", "answer_accuracy")


class BM25SRanker:
    """``rag.retrieval.keyword.BM25``'s ``search`` on ``bm25s``; ``coverage`` stays the project's (it needs IDF only)."""

    def __init__(self, ids: list[str], tokens: list[list[str]], ours, method: str) -> None:
        import bm25s  # lazy: an optional comparison dependency

        self.ids = ids
        self._ours = ours
        self._bm = bm25s.BM25(method=method, k1=1.2, b=0.75)
        self._bm.index(tokens, show_progress=False)
        self.idf = ours.idf
        self.unseen_idf = ours.unseen_idf

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, concepts, n: int) -> list[tuple[str, float]]:
        scores = np.zeros(len(self.ids), dtype=np.float32)
        matched = False
        for concept in concepts:
            for term, weight in concept.items():
                if term in self._bm.vocab_dict:
                    scores += self._bm.get_scores([term]) * weight
                    matched = True
        if not matched:
            return []
        n = min(n, int(np.count_nonzero(scores)))
        if n <= 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top]

    def coverage(self, concepts, present) -> float:
        return self._ours.coverage(concepts, present)


def _summary(bot, path: Path) -> dict:
    summary = evaluate_file(bot, path, k=5)["summary"]
    return {k: summary[k] for k in KEYS}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bm25s_compare", description=__doc__.split("\n\n")[0])
    p.add_argument("questions", nargs="*", type=Path, default=list(DEFAULT_SETS))
    p.add_argument("--methods", default="lucene,robertson", help="bm25s scoring methods to try")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rag-bm25s-") as tmp:
        bot = Assistant(home=Path(tmp), articles_dir=ROOT / "data" / "articles", auto_ingest=False)
        bot.ingest(ROOT / "data" / "articles")
        retriever = bot.retriever
        rows: dict[str, dict] = {}
        for path in args.questions:
            rows[f"rag.retrieval.keyword  {path.name}"] = _summary(bot, path)

        ids, texts, files = bot.index.all_texts()
        t = time.perf_counter()
        ours = KeywordIndex.build(ids, texts, files)
        build_s = time.perf_counter() - t
        saved = Path(tmp) / "kw.npz"
        ours.save(saved)
        t = time.perf_counter()
        KeywordIndex.load(saved)
        load_s = time.perf_counter() - t
        print(f"rag.retrieval.keyword: build {build_s * 1000:.1f} ms, load {load_s * 1000:.1f} ms ({len(ids)} chunks)")

        tokens = [terms(text) for text in texts]
        by_file: dict[str, list[str]] = {}
        for toks, file in zip(tokens, files, strict=True):
            by_file.setdefault(file, []).extend(toks)
        for method in args.methods.split(","):
            t = time.perf_counter()
            chunk_ranker = BM25SRanker(ids, tokens, ours.chunks, method)
            file_ranker = BM25SRanker(list(by_file), list(by_file.values()),
                                      BM25(list(by_file), counts=[Counter(v) for v in by_file.values()]), method)
            print(f"bm25s {method}: build {(time.perf_counter() - t) * 1000:.1f} ms")

            def patched(chunk_ranker=chunk_ranker, file_ranker=file_ranker):
                retriever._bm25, retriever._file_bm25 = chunk_ranker, file_ranker
                retriever._checked = time.monotonic() + 1e9  # never reload over the patch
                return chunk_ranker

            retriever.keyword_index()  # counts and file map as usual
            retriever.keyword_index = patched
            for path in args.questions:
                rows[f"bm25s/{method:9} {path.name}"] = _summary(bot, path)
            del retriever.keyword_index
            retriever.invalidate()

    width = max(map(len, rows))
    print(f"{'':{width}}  " + "  ".join(f"{k:>15}" for k in KEYS))
    for name, summary in rows.items():
        print(f"{name:{width}}  " + "  ".join(f"{summary[k]:>15}" for k in KEYS))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
