"""Corpus ingest (cold process, warm, unchanged re-ingest) and warm ``Assistant.ask`` latency."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from bench.harness import K, bench_settings, child_env, emit, hit_at, rag_cmd, time_asks, time_search
from bench.measure import p50, percentile, run_child
from rag.assistant import Assistant


def bench_corpus(work: Path, articles: Path, rows: list[dict], args, res: dict) -> Any:
    """Ingest cold, warm and again unchanged; then warm ``Assistant.ask`` and retrieval alone.

    Returns:
        The warm ``Assistant`` on the ingested corpus.
    """
    questions = [r["question"] for r in rows]
    emit("## Corpus ingest")
    if not args.no_cold:
        run = run_child([*rag_cmd(), "ingest", "-q", str(articles)], child_env(work / "cold", articles))
        m = re.search(r"(\d+) added", run.stdout)
        if run.returncode != 0 or not m:
            emit(f"cold ingest failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
        else:
            chunks = int(m.group(1))
            res["ingest_cold"] = {
                "chunks": chunks,
                "seconds": run.seconds,
                "chunks_per_s": chunks / run.seconds,
                "peak_rss_mib": run.peak_rss_mib,
            }
            emit(
                f"ingest, cold (fresh `rag ingest` process): {chunks} chunks in {run.seconds:.2f} s "
                f"= {chunks / run.seconds:.1f} chunks/s (incl. start-up and model load; peak RSS "
                f"{run.peak_rss_mib:.0f} MiB)"
            )

    t = time.perf_counter()
    bot = Assistant(bench_settings(work / "warm", articles), auto_ingest=False)
    bot.embeddings.embed(["warm-up"])
    load_s = time.perf_counter() - t
    emit(f"model and store load, in process: {load_s:.2f} s")
    t, cpu = time.perf_counter(), time.process_time()
    report = bot.ingest(articles)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    res["ingest_warm"] = {
        "chunks": report.added,
        "seconds": wall,
        "cpu_seconds": cpu,
        "chunks_per_s": report.added / wall,
        "sync_seconds": report.seconds,
    }
    emit(
        f"ingest, warm (model loaded, empty index): {report.added} chunks in {wall:.2f} s "
        f"= {report.added / wall:.1f} chunks/s ({cpu:.2f} CPU s; sync_folder {report.seconds:.2f} s)"
    )

    t = time.perf_counter()
    again = bot.ingest(articles)
    wall = time.perf_counter() - t
    res["reingest"] = {
        "embedded": again.added,
        "removed": again.removed,
        "unchanged": again.unchanged,
        "seconds": wall,
    }
    emit(
        f"re-ingest, unchanged corpus: {again.added} chunks embedded (target 0), {again.unchanged} unchanged, "
        f"{wall * 1000:.0f} ms"
    )

    emit()
    emit(
        f"## Warm Assistant.ask, extractive ({len(questions)} questions x {args.repeats} passes, after a warm-up)"
    )
    lat, cpu_lat = time_asks(bot, questions, args.repeats)
    search_lat, passages = time_search(bot, questions, args.repeats)
    res["ask_warm"] = {
        "n": len(lat),
        "p50_ms": p50(lat),
        "p95_ms": percentile(lat, 95),
        "max_ms": max(lat),
        "cpu_p50_ms": p50(cpu_lat),
    }
    res["bot"] = {
        "hit@5": hit_at(passages, rows, K),
        "search_p50_ms": p50(search_lat),
        "chunks": report.added,
    }
    emit(
        f"ask p50 {p50(lat):.2f} ms (target <= 8), p95 {percentile(lat, 95):.2f} ms, max {max(lat):.2f} ms; "
        f"CPU time p50 {p50(cpu_lat):.2f} ms"
    )
    emit(
        f"retrieval only (Retriever.search, k={K}): p50 {p50(search_lat):.2f} ms; hit@{K} {res['bot']['hit@5']}"
    )
    return bot
