"""The summary table printed at the end of a bench run."""

from __future__ import annotations


def summary(res: dict) -> list[str]:
    """The summary table (Markdown rows) of the figures in ``res``."""
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
