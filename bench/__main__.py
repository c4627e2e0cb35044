"""Performance figures for the bot, side by side with the LangChain tutorial RAG.

Run ``rag bench`` or ``python -m bench`` (``--help`` for options). In one run:

* ingest of the corpus from cold (a fresh ``rag ingest`` process) and warm
  (model loaded, empty index), and a re-ingest of the unchanged corpus;
* warm ``Assistant.ask`` (extractive) p50 / p95 over the dev questions;
* a cold ``rag ask`` in a fresh process on the ingested index;
* peak RSS;
* the baseline: hit@5 and query p50 on the same questions;
* scale: a synthetic corpus of each ``--sizes``: ingest chunks/s next to the
  embedding model's own sentences/s, the keyword index load (and a rebuild
  from the store, for comparison), the first question of a fresh process,
  query p50 / p95, and a plot in ``bench/out/``.

Figures are printed as they are measured, then a summary; ``bench/out/``
gets ``results.json`` and ``scale.png``. Nothing here asserts a time: the
figures depend on the machine and on what else runs on it (the load average
is printed at the start and end).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import load_average, p50, peak_rss_mib, percentile, run_child

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT / "eval" / "dev_questions.jsonl"
DEFAULT_SIZES = (1000, 10_000, 100_000)
K = 5


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag bench", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--questions",
        type=Path,
        default=Path(os.environ.get("RAG_BENCH_QUESTIONS", DEFAULT_QUESTIONS)),
        help=f"JSONL question set (default: {DEFAULT_QUESTIONS})",
    )
    p.add_argument("--articles", type=Path, help="corpus folder (default: RAG_ARTICLES_DIR or data/articles)")
    p.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="synthetic corpus sizes in chunks, comma-separated; '' or 0 skips scale",
    )
    p.add_argument(
        "--repeats", type=int, default=3, help="timed passes over the questions (after a warm-up pass)"
    )
    p.add_argument("--cold-runs", type=int, default=3, help="fresh `rag ask` processes to time")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: sizes 1000 (unless --sizes is given), 1 repeat, 1 cold run",
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the LangChain baseline")
    p.add_argument("--no-cold", action="store_true", help="skip the fresh-process measurements")
    p.add_argument("--seed", type=int, default=13, help="seed of the synthetic corpus")
    p.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out", help="folder for results.json and scale.png"
    )
    p.add_argument(
        "--workdir", type=Path, help="keep temporary indexes here instead of a deleted temp folder"
    )
    return p


def _emit(line: str = "") -> None:
    print(line, flush=True)


def _settings(home: Path, articles: Path):
    from rag.config import Settings

    # Always the embedded store and the extractive answerer, whatever the environment says.
    return Settings.from_env(home=home, articles_dir=articles).replace(chroma_url=None, llm=None)


def _child_env(home: Path, articles: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE (set on some CI and sandbox machines) would make every fresh
    # process compile the project's modules again; a normal install reads cached bytecode.
    drop = ("RAG_CHROMA_URL", "RAG_LLM", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(RAG_HOME=str(home), RAG_ARTICLES_DIR=str(articles), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return env


def _rag_cmd() -> list[str]:
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]


def _hit_at(passages: list[list[str]], rows: list[dict[str, Any]], k: int) -> float:
    """hit@k as ``rag.evaluate`` defines it: over answerable questions, a top-k passage holds an evidence string."""
    from rag.text import normalize

    answerable = [(texts, r) for texts, r in zip(passages, rows, strict=True) if not r.get("abstain")]
    hits = 0
    for texts, row in answerable:
        needles = [normalize(e) for e in row.get("evidence") or [] if e]
        if needles and any(n in normalize(t) for t in texts[:k] for n in needles):
            hits += 1
    return round(hits / max(len(answerable), 1), 4)


def _time_asks(bot, questions: list[str], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per ``Assistant.ask`` (CPU time is less disturbed by other load)."""
    for q in questions:  # warm-up: caches, BM25, lexicon
        bot.ask(q)
    wall, cpu = [], []
    for _ in range(repeats):
        for q in questions:
            t, c = time.perf_counter(), time.process_time()
            bot.ask(q)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def _time_search(bot, questions: list[str], repeats: int) -> tuple[list[float], list[list[str]]]:
    passages = [[p.text for p in bot.retriever.search(q, k=K).passages] for q in questions]
    out = []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            bot.retriever.search(q, k=K)
            out.append((time.perf_counter() - t) * 1000)
    return out, passages


# -- sections -------------------------------------------------------------------------
def bench_corpus(work: Path, articles: Path, rows: list[dict], args, res: dict) -> Any:
    from rag.assistant import Assistant

    questions = [r["question"] for r in rows]
    _emit("## Corpus ingest")
    if not args.no_cold:
        run = run_child([*_rag_cmd(), "ingest", "-q", str(articles)], _child_env(work / "cold", articles))
        m = re.search(r"(\d+) added", run.stdout)
        if run.returncode != 0 or not m:
            _emit(f"cold ingest failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
        else:
            chunks = int(m.group(1))
            res["ingest_cold"] = {
                "chunks": chunks,
                "seconds": run.seconds,
                "chunks_per_s": chunks / run.seconds,
                "peak_rss_mib": run.peak_rss_mib,
            }
            _emit(
                f"ingest, cold (fresh `rag ingest` process): {chunks} chunks in {run.seconds:.2f} s "
                f"= {chunks / run.seconds:.1f} chunks/s (incl. start-up and model load; peak RSS "
                f"{run.peak_rss_mib:.0f} MiB)"
            )

    t = time.perf_counter()
    bot = Assistant(_settings(work / "warm", articles), auto_ingest=False)
    bot.embeddings.embed(["warm-up"])
    load_s = time.perf_counter() - t
    _emit(f"model and store load, in process: {load_s:.2f} s")
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
    _emit(
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
    _emit(
        f"re-ingest, unchanged corpus: {again.added} chunks embedded (target 0), {again.unchanged} unchanged, "
        f"{wall * 1000:.0f} ms"
    )

    _emit()
    _emit(
        f"## Warm Assistant.ask, extractive ({len(questions)} questions x {args.repeats} passes, after a warm-up)"
    )
    lat, cpu_lat = _time_asks(bot, questions, args.repeats)
    search_lat, passages = _time_search(bot, questions, args.repeats)
    res["ask_warm"] = {
        "n": len(lat),
        "p50_ms": p50(lat),
        "p95_ms": percentile(lat, 95),
        "max_ms": max(lat),
        "cpu_p50_ms": p50(cpu_lat),
    }
    res["bot"] = {
        "hit@5": _hit_at(passages, rows, K),
        "search_p50_ms": p50(search_lat),
        "chunks": report.added,
    }
    _emit(
        f"ask p50 {p50(lat):.2f} ms (target <= 8), p95 {percentile(lat, 95):.2f} ms, max {max(lat):.2f} ms; "
        f"CPU time p50 {p50(cpu_lat):.2f} ms"
    )
    _emit(
        f"retrieval only (Retriever.search, k={K}): p50 {p50(search_lat):.2f} ms; hit@{K} {res['bot']['hit@5']}"
    )
    return bot


def bench_cold_ask(work: Path, articles: Path, rows: list[dict], args, res: dict) -> None:
    _emit()
    _emit(f"## Cold `rag ask` (fresh process, ingested index; {args.cold_runs} runs)")
    home = work / "cold"
    if not (home / "chroma").exists():
        _emit("skipped: no cold index (the cold ingest failed or was skipped)")
        return
    question = rows[0]["question"]
    runs = []
    for _ in range(args.cold_runs):
        run = run_child([*_rag_cmd(), "ask", question], _child_env(home, articles))
        if run.returncode != 0:
            _emit(f"`rag ask` failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
            return
        runs.append(run)
    times = [r.seconds for r in runs]
    rss = max(r.peak_rss_mib for r in runs)
    res["ask_cold"] = {"runs": times, "median_s": p50(times), "min_s": min(times), "peak_rss_mib": rss}
    _emit(
        f"`rag ask {question!r}`: median {p50(times):.2f} s, min {min(times):.2f} s (target <= 1.0 s); "
        f"peak RSS {rss:.0f} MiB"
    )
    probe_code = (
        "import sys, ui.cli, rag.assistant, rag.retrieval.store, rag.retrieval.retriever, rag.answering.extractive; "
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    )
    probe = run_child([sys.executable, "-c", probe_code], _child_env(home, articles))
    _emit(
        f"torch / sentence-transformers imported on the ask path: {probe.stdout.strip() or probe.stderr[-200:]}"
    )


def bench_baseline(work: Path, articles: Path, rows: list[dict], args, res: dict) -> None:
    from bench import baseline

    _emit()
    _emit(
        "## Baseline: LangChain tutorial RAG (RecursiveCharacterTextSplitter 1000/200, all-MiniLM-L6-v2, "
        "langchain_chroma, top-5)"
    )
    try:
        run = baseline.run(
            articles, [r["question"] for r in rows], work / "baseline", k=K, repeats=args.repeats
        )
    except ImportError as e:
        _emit(f"skipped: {e} (pip install 'rag-articles[bench]')")
        return
    res["baseline"] = {
        "hit@5": _hit_at(run.passages, rows, K),
        "search_p50_ms": p50(run.latencies_ms),
        "search_p95_ms": percentile(run.latencies_ms, 95),
        "chunks": run.chunks,
        "build_seconds": run.build_seconds,
        "load_seconds": run.load_seconds,
    }
    b, bot = res["baseline"], res.get("bot", {})
    _emit(
        f"baseline: {run.chunks} chunks, model load {run.load_seconds:.2f} s, build {run.build_seconds:.2f} s"
    )
    _emit(f"{'':24}{'hit@5':>8}{'query p50 ms':>15}{'chunks':>8}")
    if bot:
        _emit(
            f"{'bot (Retriever.search)':24}{bot['hit@5']:>8.3f}{bot['search_p50_ms']:>15.2f}{bot['chunks']:>8}"
        )
        _emit(
            f"{'bot (Assistant.ask)':24}{bot['hit@5']:>8.3f}{res['ask_warm']['p50_ms']:>15.2f}{bot['chunks']:>8}"
        )
    _emit(f"{'baseline':24}{b['hit@5']:>8.3f}{b['search_p50_ms']:>15.2f}{run.chunks:>8}")


# A fresh process on an ingested index. "Loaded" is what a process pays whatever the index
# size: the model, chromadb and its client, the answer code. The first question then pays
# what grows with the index: Chroma's HNSW files, the keyword index, the lexicon. A second
# fresh process does what `rag ui` does at start (one warm-up question) before the timed one.
_FIRST_ASK = """
import json, sys, time
t0 = time.perf_counter()
from rag.assistant import Assistant
import rag.answering.extractive
bot = Assistant(auto_ingest=False)
bot.embeddings.embed(["warm-up"])
bot.index  # opens the store (chromadb, its client); no collection is loaded yet
loaded = time.perf_counter()
if sys.argv[2] == "warm":
    bot.ask("Netflix")
t = time.perf_counter()
answer = bot.ask(sys.argv[1])
first = time.perf_counter() - t
t = time.perf_counter(); bot.ask(sys.argv[1]); second = time.perf_counter() - t
print(json.dumps({"load_s": loaded - t0, "first_ask_s": first, "second_ask_s": second,
                  "timings_ms": answer.timings_ms}))
"""


def first_ask(home: Path, articles: Path, question: str, warm: bool = False) -> dict | None:
    """The first ``ask`` of a fresh process with the model loaded and the store open."""
    run = run_child([sys.executable, "-c", _FIRST_ASK, question, "warm" if warm else "cold"],
                    _child_env(home, articles))
    if run.returncode != 0:
        _emit(f"first ask in a fresh process failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the embedding workers, once an ingest is done)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def embedder_rate(bot, folder: Path, sentences: int = 1500) -> float:
    """Sentences/s of the embedding model alone, one process, on the corpus' own sentences."""
    from ingest.chunking import split_sentences
    from rag.text import for_embedding

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
    from bench.corpus import build
    from rag.assistant import Assistant
    from rag.retrieval.keyword import KeywordIndex

    questions = [r["question"] for r in rows]
    _emit()
    _emit(f"## Scale: synthetic corpora of {', '.join(map(str, sizes))} chunks (seed {args.seed})")
    out = res.setdefault("scale", [])
    for size in sizes:
        corpus = build(work / f"synth-{size}", size, articles, seed=args.seed)
        home = work / f"home-{size}"
        bot = Assistant(_settings(home, corpus.folder), auto_ingest=False)
        bot.embeddings.embed(["warm-up"])
        raw = embedder_rate(bot, corpus.folder)
        t, cpu, kids = time.perf_counter(), time.process_time(), _children_cpu()
        report = bot.ingest(corpus.folder)
        wall, cpu, kids = time.perf_counter() - t, time.process_time() - cpu, _children_cpu() - kids
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
        lat, cpu_lat = _time_asks(bot, questions, args.repeats)
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
        _emit(
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
        _emit(f"query p50 at {out[-1]['chunks']} / at {out[0]['chunks']}: {ratio:.2f}x (target <= 2x)")


def summary(res: dict) -> list[str]:
    lines = ["| figure | value | target |", "|---|---|---|"]

    def add(name: str, value: str, target: str = "") -> None:
        lines.append(f"| {name} | {value} | {target} |")

    if c := res.get("ingest_cold"):
        add(
            "ingest, cold `rag ingest` process",
            f"{c['seconds']:.2f} s, {c['chunks_per_s']:.0f} chunks/s ({c['chunks']} chunks)",
        )
    if w := res.get("ingest_warm"):
        add("ingest, warm", f"{w['seconds']:.2f} s, {w['chunks_per_s']:.0f} chunks/s")
    if r := res.get("reingest"):
        add("re-ingest, unchanged", f"{r['embedded']} embedded, {r['seconds'] * 1000:.0f} ms", "0 embedded")
    if a := res.get("ask_warm"):
        add(
            "warm `Assistant.ask` p50 / p95 (CPU p50)",
            f"{a['p50_ms']:.2f} / {a['p95_ms']:.2f} ms ({a['cpu_p50_ms']:.2f} ms)",
            "p50 <= 8 ms",
        )
    if a := res.get("ask_cold"):
        add("cold `rag ask` (fresh process)", f"{a['median_s']:.2f} s (min {a['min_s']:.2f} s)", "<= 1.0 s")
    add("peak RSS, engine (bench process before baseline)", f"{res.get('peak_rss_engine_mib', 0):.0f} MiB")
    if a := res.get("ask_cold"):
        add("peak RSS, `rag ask` process", f"{a['peak_rss_mib']:.0f} MiB")
    if (b := res.get("bot")) and (base := res.get("baseline")):
        add("hit@5: bot / baseline", f"{b['hit@5']:.3f} / {base['hit@5']:.3f}")
        add("retrieval p50: bot / baseline", f"{b['search_p50_ms']:.2f} / {base['search_p50_ms']:.2f} ms")
    for row in res.get("scale", []):
        add(
            f"scale {row['chunks']} chunks: ingest (embedder alone) / keyword load / ask p50",
            f"{row['ingest_chunks_per_s']:.0f} chunks/s = {row['ingest_sentences_per_s']:.0f} sentences/s "
            f"({row['embedder_sentences_per_s']:.0f} sentences/s) / {row['keyword_load_s'] * 1000:.0f} ms / "
            f"{row['query_p50_ms']:.2f} ms",
            ">= 400 chunks/s at 10k; p50 <= 2x smallest",
        )
        if row.get("first_ask_s") is not None:
            add(
                f"scale {row['chunks']} chunks: first ask, fresh process (model loaded, store open) / "
                "after a warm-up question",
                f"{row['first_ask_s'] * 1000:.0f} ms = {row['first_ask_s'] * 1000 / row['query_p50_ms']:.1f}x / "
                f"{row['first_ask_after_warmup_s'] * 1000:.0f} ms = "
                f"{row['first_ask_after_warmup_s'] * 1000 / row['query_p50_ms']:.1f}x warm p50",
                "<= 3x warm p50",
            )
    if "scale_p50_ratio" in res:
        add("ask p50, largest / smallest size", f"{res['scale_p50_ratio']:.2f}x", "<= 2x")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `rag bench -- --quick`: argparse.REMAINDER keeps the separator
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sizes_given = args.sizes != ",".join(map(str, DEFAULT_SIZES))
    if args.quick:
        args.repeats, args.cold_runs = 1, 1
        if not sizes_given:
            args.sizes = "1000"
    sizes = [int(s) for s in args.sizes.replace("_", "").split(",") if s.strip() and int(s) > 0]

    import chromadb

    from rag.config import Settings
    from rag.evaluate import load_questions

    articles = (args.articles or Settings.from_env().articles_dir).resolve()
    rows = load_questions(args.questions)
    started = time.perf_counter()
    res: dict[str, Any] = {
        "command": " ".join(["python -m bench", *argv]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"chromadb {chromadb.__version__}",
        "load_average_start": load_average(),
    }
    _emit(f"# rag bench  {res['started']}  ({res['machine']})")
    _emit(
        f"corpus {articles}; questions {args.questions} ({len(rows)}); load average {res['load_average_start']}"
    )
    _emit()

    tmp = None
    if args.workdir:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="rag-bench-")
        work = Path(tmp.name)
    try:
        bot = bench_corpus(work, articles, rows, args, res)
        del bot
        if not args.no_cold:
            bench_cold_ask(work, articles, rows, args, res)
        res["peak_rss_engine_mib"] = peak_rss_mib()
        _emit(f"peak RSS of the bench process so far (engine only): {res['peak_rss_engine_mib']:.0f} MiB")
        if not args.no_baseline:
            bench_baseline(work, articles, rows, args, res)
            res["peak_rss_after_baseline_mib"] = peak_rss_mib()
            _emit(f"peak RSS after the baseline (torch loaded): {res['peak_rss_after_baseline_mib']:.0f} MiB")
        if sizes:
            bench_scale(work, articles, rows, sizes, args, res)
    finally:
        if tmp is not None:
            tmp.cleanup()

    res["seconds"] = time.perf_counter() - started
    res["load_average_end"] = load_average()
    res["peak_rss_mib"] = peak_rss_mib()
    args.out.mkdir(parents=True, exist_ok=True)
    if res.get("scale"):
        from bench.plot import scale_plot

        png = scale_plot(res["scale"], args.out / "scale.png")
        if png:
            _emit(f"plot: {png}")
    (args.out / "results.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    _emit()
    _emit(
        f"## Summary ({res['seconds']:.0f} s; load average {res['load_average_start']} -> "
        f"{res['load_average_end']}; peak RSS {res['peak_rss_mib']:.0f} MiB)"
    )
    for line in summary(res):
        _emit(line)
    _emit(f"results: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
