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

This module is the command line and the run; each section lives in the module
named for what it measures: ``ingest_and_ask``, ``cold_start``,
``baseline_compare``, ``scale``; ``summary`` prints the table and ``harness``
holds what they share.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.baseline_compare import bench_baseline
from bench.cold_start import bench_cold_ask
from bench.harness import emit
from bench.ingest_and_ask import bench_corpus
from bench.measure import load_average, peak_rss_mib
from bench.plot import scale_plot
from bench.scale import bench_scale
from bench.summary import summary
from rag.config import Settings
from rag.evaluate import load_questions

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT / "eval" / "dev_questions.jsonl"
DEFAULT_SIZES = (1000, 10_000, 100_000)


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

    import chromadb  # takes seconds to import: `--help` and a bad flag answer at once

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
    emit(f"# rag bench  {res['started']}  ({res['machine']})")
    emit(
        f"corpus {articles}; questions {args.questions} ({len(rows)}); load average {res['load_average_start']}"
    )
    emit()

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
        emit(f"peak RSS of the bench process so far (engine only): {res['peak_rss_engine_mib']:.0f} MiB")
        if not args.no_baseline:
            bench_baseline(work, articles, rows, args, res)
            res["peak_rss_after_baseline_mib"] = peak_rss_mib()
            emit(f"peak RSS after the baseline (torch loaded): {res['peak_rss_after_baseline_mib']:.0f} MiB")
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
        png = scale_plot(res["scale"], args.out / "scale.png")
        if png:
            emit(f"plot: {png}")
    (args.out / "results.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    emit()
    emit(
        f"## Summary ({res['seconds']:.0f} s; load average {res['load_average_start']} -> "
        f"{res['load_average_end']}; peak RSS {res['peak_rss_mib']:.0f} MiB)"
    )
    for line in summary(res):
        emit(line)
    emit(f"results: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
