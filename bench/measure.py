"""Small timing helpers: percentiles, peak RSS, a timed child process."""

from __future__ import annotations

import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[min(max(round(q), 1), 99) - 1]


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux
        return "n/a"


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mib: float


# Linux carries a process's peak RSS across fork and exec, so a child forked
# straight from the (large) bench process would report at least the bench's
# own RSS. A small launcher forks the measured command instead and reports the
# command's own wall time and peak RSS.
_LAUNCHER = """
import json, os, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss}, fh)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_child(cmd: list[str], env: dict[str, str], timeout: float = 600.0) -> ChildRun:
    """Run ``cmd`` in a fresh process; return its wall time, output and own peak RSS."""
    with tempfile.TemporaryDirectory(prefix="rag-bench-child-") as tmp:
        stats = Path(tmp) / "stats.json"
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(stats), *cmd],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        try:
            got = json.loads(stats.read_text())
        except (OSError, ValueError):
            got = {"seconds": float("nan"), "maxrss_kib": 0}
    return ChildRun(got["seconds"], proc.returncode, out, err, got["maxrss_kib"] / 1024)
