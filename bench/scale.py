"""Scale: synthetic corpora of each size, ingest throughput, keyword index load, first ask, query latency."""

from __future__ import annotations

import gc
import resource
import shutil
import time
from pathlib import Path

from bench.cold_start import first_ask
from bench.corpus import build
from bench.harness import bench_settings, emit, time_asks
from bench.measure import p50, peak_rss_mib, percentile
from rag.assistant import Assistant
from rag.retrieval.keyword import KeywordIndex
from rag.sentences import split_sentences
from rag.text import for_embedding


def children_cpu() -> float:
    """CPU seconds of finished child processes (the embedding workers, once an ingest is done)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def embedder_rate(bot, folder: Path, sentences: int = 1500) -> float:
    """Sentences/s of the embedding model alone, one process, on the corpus' own sentences."""
    texts: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        texts.extend(for_embedding(text[a:b]) for a, b in split_sentences(text))
        if len(texts) >= sentences:
            break
    texts = texts[:sentences]
    t = time.perf_counter()
    for lo in range(0, len(texts), 600):  # about an ingest batch (256 chunks)
        bot.embeddings.embed(texts[lo : lo + 600])
    return len(texts) / (time.perf_counter() - t)


def bench_scale(work: Path, articles: Path, rows: list[dict], sizes: list[int], args, res: dict) -> None:
    """Per synthetic corpus size: ingest rate, keyword index load, first ask, query p50 / p95."""
    questions = [r["question"] for r in rows]
    emit()
    emit(f"## Scale: synthetic corpora of {', '.join(map(str, sizes))} chunks (seed {args.seed})")
    out = res.setdefault("scale", [])
    for size in sizes:
        corpus = build(work / f"synth-{size}", size, articles, seed=args.seed)
        home = work / f"home-{size}"
        bot = Assistant(bench_settings(home, corpus.folder), auto_ingest=False)
        bot.embeddings.embed(["warm-up"])
        raw = embedder_rate(bot, corpus.folder)
        t, cpu, kids = time.perf_counter(), time.process_time(), children_cpu()
        report = bot.ingest(corpus.folder)
        wall, cpu, kids = time.perf_counter() - t, time.process_time() - cpu, children_cpu() - kids
        chunks = report.added
        sentences = bot.index.sentences.count()
        t = time.perf_counter()
        bot.index.keyword_index()
        load_s = time.perf_counter() - t
        ids, texts, files = bot.index.all_texts()
        t = time.perf_counter()
        KeywordIndex.build(ids, texts, files)
        bm25_s = time.perf_counter() - t
        del ids, texts, files
        fresh = None if args.no_cold else first_ask(home, corpus.folder, questions[0])
        warmed = None if args.no_cold else first_ask(home, corpus.folder, questions[0], warm=True)
        lat, cpu_lat = time_asks(bot, questions, args.repeats)
        row = {
            "size": size,
            "chunks": chunks,
            "sentences": sentences,
            "files": corpus.files,
            "distinct_sentence_share": round(corpus.distinct_sentence_share, 4),
            "ingest_seconds": wall,
            "ingest_cpu_seconds": cpu,
            "sync_seconds": report.seconds,
            "ingest_chunks_per_s": chunks / wall,
            "ingest_sentences_per_s": sentences / wall,
            "ingest_chunks_per_cpu_s": chunks / max(cpu, 1e-9),
            "ingest_workers_cpu_seconds": kids,
            "ingest_chunks_per_cpu_s_all": chunks / max(cpu + kids, 1e-9),
            "embedder_sentences_per_s": raw,
            "keyword_load_s": load_s,
            "bm25_build_s": bm25_s,
            "first_ask_s": fresh["first_ask_s"] if fresh else None,
            "first_ask_timings_ms": fresh["timings_ms"] if fresh else None,
            "fresh_process_load_s": fresh["load_s"] if fresh else None,
            "first_ask_after_warmup_s": warmed["first_ask_s"] if warmed else None,
            "query_p50_ms": p50(lat),
            "query_p95_ms": percentile(lat, 95),
            "query_cpu_p50_ms": p50(cpu_lat),
            "peak_rss_mib": peak_rss_mib(),
        }
        out.append(row)
        first = (
            f"first ask in a fresh process {fresh['first_ask_s'] * 1000:.0f} ms "
            f"({fresh['first_ask_s'] * 1000 / max(row['query_p50_ms'], 1e-9):.1f}x warm p50; model loaded and "
            f"store open: {fresh['load_s']:.2f} s), after a warm-up question "
            f"{warmed['first_ask_s'] * 1000:.0f} ms ({warmed['first_ask_s'] * 1000 / max(row['query_p50_ms'], 1e-9):.1f}x)"
            if fresh and warmed
            else "first ask skipped (--no-cold)"
        )
        emit(
            f"{chunks:>7} chunks ({corpus.files} files, {sentences} sentences, "
            f"{corpus.distinct_sentence_share:.1%} distinct): "
            f"ingest {wall:.1f} s = {row['ingest_chunks_per_s']:.0f} chunks/s "
            f"= {row['ingest_sentences_per_s']:.0f} sentences/s "
            f"(embedder alone, one process: {raw:.0f} sentences/s; CPU: {cpu:.1f} s here + {kids:.1f} s in "
            f"embedding workers = {row['ingest_chunks_per_cpu_s_all']:.0f} chunks per CPU s; "
            f"sync_folder {report.seconds:.1f} s); "
            f"keyword index load {load_s * 1000:.0f} ms (BM25 build from the store {bm25_s * 1000:.0f} ms); "
            f"{first}; "
            f"ask p50 {row['query_p50_ms']:.2f} ms, p95 {row['query_p95_ms']:.2f} ms "
            f"(CPU p50 {row['query_cpu_p50_ms']:.2f} ms); "
            f"peak RSS {row['peak_rss_mib']:.0f} MiB"
        )
        del bot
        gc.collect()
        if not args.workdir:
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(corpus.folder, ignore_errors=True)
    if len(out) >= 2:
        ratio = out[-1]["query_p50_ms"] / max(out[0]["query_p50_ms"], 1e-9)
        res["scale_p50_ratio"] = ratio
        emit(f"query p50 at {out[-1]['chunks']} / at {out[0]['chunks']}: {ratio:.2f}x (target <= 2x)")
