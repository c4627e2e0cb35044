"""What every bench section shares: printing, a bench home's settings, fresh processes, timed asks."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.text import normalize

K = 5


def emit(line: str = "") -> None:
    """Print a figure as soon as it is measured."""
    print(line, flush=True)


def bench_settings(home: Path, articles: Path) -> Settings:
    """Settings for a bench home at ``home`` on the corpus ``articles``."""
    # Always the embedded store and the extractive answerer, whatever the environment says.
    return Settings.from_env(home=home, articles_dir=articles).replace(chroma_url=None, llm=None)


def child_env(home: Path, articles: Path) -> dict[str, str]:
    """The environment of a fresh measured process on ``home`` and ``articles``."""
    # PYTHONDONTWRITEBYTECODE (set on some CI and sandbox machines) would make every fresh
    # process compile the project's modules again; a normal install reads cached bytecode.
    drop = ("RAG_CHROMA_URL", "RAG_LLM", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(RAG_HOME=str(home), RAG_ARTICLES_DIR=str(articles), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return env


def rag_cmd() -> list[str]:
    """The ``rag`` command of this environment."""
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui.cli"]


def hit_at(passages: list[list[str]], rows: list[dict[str, Any]], k: int) -> float:
    """hit@k as ``rag.evaluate`` defines it: over answerable questions, a top-k passage holds an evidence string."""
    answerable = [(texts, r) for texts, r in zip(passages, rows, strict=True) if not r.get("abstain")]
    hits = 0
    for texts, row in answerable:
        needles = [normalize(e) for e in row.get("evidence") or [] if e]
        if needles and any(n in normalize(t) for t in texts[:k] for n in needles):
            hits += 1
    return round(hits / max(len(answerable), 1), 4)


def time_asks(bot, questions: list[str], repeats: int) -> tuple[list[float], list[float]]:
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


def time_search(bot, questions: list[str], repeats: int) -> tuple[list[float], list[list[str]]]:
    """Milliseconds per ``Retriever.search``, and each question's top-``K`` passage texts."""
    passages = [[p.text for p in bot.retriever.search(q, k=K).passages] for q in questions]
    out = []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            bot.retriever.search(q, k=K)
            out.append((time.perf_counter() - t) * 1000)
    return out, passages
