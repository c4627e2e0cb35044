"""The bot beside the LangChain tutorial RAG (``bench.baseline``): hit@5 and query p50."""

from __future__ import annotations

from pathlib import Path

from bench import baseline
from bench.harness import K, emit, hit_at
from bench.measure import p50, percentile


def bench_baseline(work: Path, articles: Path, rows: list[dict], args, res: dict) -> None:
    """hit@5 and query p50 of the LangChain tutorial RAG on the same questions, beside the bot's."""
    emit()
    emit(
        "## Baseline: LangChain tutorial RAG (RecursiveCharacterTextSplitter 1000/200, all-MiniLM-L6-v2, "
        "langchain_chroma, top-5)"
    )
    try:
        run = baseline.run(
            articles, [r["question"] for r in rows], work / "baseline", k=K, repeats=args.repeats
        )
    except ImportError as e:
        emit(f"skipped: {e} (pip install 'rag-articles[bench]')")
        return
    res["baseline"] = {
        "hit@5": hit_at(run.passages, rows, K),
        "search_p50_ms": p50(run.latencies_ms),
        "search_p95_ms": percentile(run.latencies_ms, 95),
        "chunks": run.chunks,
        "build_seconds": run.build_seconds,
        "load_seconds": run.load_seconds,
    }
    b, bot = res["baseline"], res.get("bot", {})
    emit(
        f"baseline: {run.chunks} chunks, model load {run.load_seconds:.2f} s, build {run.build_seconds:.2f} s"
    )
    emit(f"{'':24}{'hit@5':>8}{'query p50 ms':>15}{'chunks':>8}")
    if bot:
        emit(
            f"{'bot (Retriever.search)':24}{bot['hit@5']:>8.3f}{bot['search_p50_ms']:>15.2f}{bot['chunks']:>8}"
        )
        emit(
            f"{'bot (Assistant.ask)':24}{bot['hit@5']:>8.3f}{res['ask_warm']['p50_ms']:>15.2f}{bot['chunks']:>8}"
        )
    emit(f"{'baseline':24}{b['hit@5']:>8.3f}{b['search_p50_ms']:>15.2f}{run.chunks:>8}")
