"""The scale plot: query latency and ingest throughput against corpus size."""

from __future__ import annotations

from pathlib import Path


def scale_plot(rows: list[dict], path: Path) -> Path | None:
    """Write a PNG with two panels; returns its path, or None without matplotlib."""
    try:  # lazy: matplotlib is optional; without it there is no plot
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # after use("Agg"), so no display is needed
    except ImportError:
        return None
    sizes = [r["chunks"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(sizes, [r["query_p50_ms"] for r in rows], "o-", label="p50")
    left.plot(sizes, [r["query_p95_ms"] for r in rows], "s--", label="p95")
    left.set_xscale("log")
    left.set_xlabel("chunks in the index")
    left.set_ylabel("Assistant.ask, warm (ms)")
    left.set_title("Query latency")
    left.set_ylim(bottom=0)
    left.legend()
    left.grid(True, alpha=0.3)
    right.plot(sizes, [r["ingest_chunks_per_s"] for r in rows], "o-", label="wall")
    right.plot(sizes, [r["ingest_chunks_per_cpu_s"] for r in rows], "s--", label="per CPU second")
    right.axhline(500, color="grey", linestyle=":", label="target 500/s")
    right.set_xscale("log")
    right.set_xlabel("chunks in the corpus")
    right.set_ylabel("chunks / s")
    right.set_title("Ingest throughput")
    right.set_ylim(bottom=0)
    right.legend()
    right.grid(True, alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
