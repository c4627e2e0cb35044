"""Fresh processes: a cold ``rag ask``, and the first question of a process with the model loaded."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.harness import child_env, emit, rag_cmd
from bench.measure import p50, run_child


def bench_cold_ask(work: Path, articles: Path, rows: list[dict], args, res: dict) -> None:
    """A cold ``rag ask`` in fresh processes on the cold-ingested index, and what it imports."""
    emit()
    emit(f"## Cold `rag ask` (fresh process, ingested index; {args.cold_runs} runs)")
    home = work / "cold"
    if not (home / "chroma").exists():
        emit("skipped: no cold index (the cold ingest failed or was skipped)")
        return
    question = rows[0]["question"]
    runs = []
    for _ in range(args.cold_runs):
        run = run_child([*rag_cmd(), "ask", question], child_env(home, articles))
        if run.returncode != 0:
            emit(f"`rag ask` failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
            return
        runs.append(run)
    times = [r.seconds for r in runs]
    rss = max(r.peak_rss_mib for r in runs)
    res["ask_cold"] = {"runs": times, "median_s": p50(times), "min_s": min(times), "peak_rss_mib": rss}
    emit(
        f"`rag ask {question!r}`: median {p50(times):.2f} s, min {min(times):.2f} s (target <= 1.0 s); "
        f"peak RSS {rss:.0f} MiB"
    )
    probe_code = (
        "import sys, ui.cli, rag.assistant, rag.retrieval.store, rag.retrieval.retriever, rag.answering.extractive; "
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    )
    probe = run_child([sys.executable, "-c", probe_code], child_env(home, articles))
    emit(
        f"torch / sentence-transformers imported on the ask path: {probe.stdout.strip() or probe.stderr[-200:]}"
    )


# A fresh process on an ingested index. "Loaded" is the model and the store opened; while the
# model loads, the Assistant loads the keyword index and lexicon from the read snapshot beside
# it (Assistant._warm_up). The first question pays whatever is still cold. A second fresh
# process does what `rag ui` does at start (one warm-up question) before the timed one.
_FIRST_ASK = """
import json, sys, time
t0 = time.perf_counter()
from rag.assistant import Assistant
import rag.answering.extractive
bot = Assistant(auto_ingest=False)
bot.embeddings.embed(["warm-up"])
bot.index  # no collection is loaded yet (nor chromadb, when a current read snapshot serves reads)
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
                    child_env(home, articles))
    if run.returncode != 0:
        emit(f"first ask in a fresh process failed (exit {run.returncode}): {run.stderr.strip()[-500:]}")
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])
