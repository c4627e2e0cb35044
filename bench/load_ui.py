"""Load on the chat page's API: concurrent users asking through gradio_client.

Run ``python -m bench.load_ui`` to start the page in-process (real engine,
settings from ``RAG_*``) on a free loopback port, or ``--url`` to load a page
that is already running. Prints p50/p95 latency and the error count; the
target is zero errors. Exit status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

QUESTIONS = [
    "How much faster was the AI scene?",
    "Wie viel schneller wurde die KI-Szene produziert?",
    "Which Netflix series was the first to show final footage made with generative AI?",
    "In which city does the collapsing building stand?",
    "What did Ted Sarandos say about AI?",
    "Wer ist Co-CEO von Netflix?",
    "What is the capital of France?",
]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (``q`` in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def run_load(
    url: str, *, users: int, questions: int, auth: tuple[str, str] | None = None
) -> dict[str, object]:
    """Have ``users`` clients each ask ``questions`` questions at the same time.

    Args:
        url: The page's URL.
        users: Concurrent clients, each with its own gradio_client session.
        questions: Questions per client, taken round-robin from ``QUESTIONS``.
        auth: ``(user, password)`` when the page has basic auth.

    Returns:
        ``latencies_ms`` (successful requests), ``engine_ms`` (the engine's own time per
        answer, from its ``timings_ms``), ``errors`` (messages), ``wall_s`` and ``cpu_s``
        (this process' CPU time: the clients', and the page's when it runs in-process).
    """
    from gradio_client import Client  # lazy: a dev extra, only for this load test

    latencies: list[float] = []
    engine: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(users)

    def user(u: int) -> None:
        try:
            client = Client(url, auth=auth, verbose=False)
        except Exception as e:  # noqa: BLE001 - every failure counts as an error
            with lock:
                errors.extend([f"connect: {e}"] * questions)
            start.abort()
            return
        try:
            start.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        for i in range(questions):
            question = QUESTIONS[(u + i) % len(QUESTIONS)]
            t0 = time.perf_counter()
            try:
                answer = client.predict(question, api_name="/ask")
                if not isinstance(answer, dict) or "text" not in answer:
                    raise ValueError(f"unexpected reply {answer!r:.80}")
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"{question}: {e}")
                continue
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                total = (answer.get("timings_ms") or {}).get("total")
                if isinstance(total, (int, float)):
                    engine.append(float(total))

    t0, cpu0 = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    return {
        "latencies_ms": latencies,
        "engine_ms": engine,
        "errors": errors,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - cpu0,
    }


def _start_local() -> tuple[object, str, tuple[str, str] | None]:
    # lazy: gradio and the engine load only when this starts its own page
    from rag import Assistant, Settings
    from ui.gradio_app import create_app, parse_auth, serve

    settings = Settings.from_env()
    bot = Assistant(settings)
    bot.ask(QUESTIONS[0])  # load the model and index before timing
    auth = parse_auth(settings.ui_auth)
    app = create_app(bot, settings)
    url = serve(app, host="127.0.0.1", port=None, auth=auth, block=False, quiet=True)
    return app, url, auth


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.load_ui", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="load a running page instead of starting one")
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--questions", type=int, default=5, help="questions per user (default 5)")
    parser.add_argument("--auth", help="user:password for a page with basic auth")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    app = None
    if args.url:
        from ui.gradio_app import parse_auth  # lazy: gradio takes seconds to import

        url, auth = args.url, parse_auth(args.auth)
    else:
        print("starting the page with the real engine…", file=sys.stderr)
        app, url, auth = _start_local()
    try:
        result = run_load(url, users=args.users, questions=args.questions, auth=auth)
    finally:
        if app is not None:
            app.close()

    lat: list[float] = result["latencies_ms"]  # type: ignore[assignment]
    errors: list[str] = result["errors"]  # type: ignore[assignment]
    total = args.users * args.questions
    print(f"users={args.users} questions/user={args.questions} requests={total} url={url}")
    print(
        f"ok={len(lat)} errors={len(errors)} wall={result['wall_s']:.1f}s throughput={len(lat) / result['wall_s']:.1f}/s"
    )
    if lat:
        print(
            f"latency ms: p50={percentile(lat, 50):.0f} p95={percentile(lat, 95):.0f} "
            f"mean={statistics.fmean(lat):.0f} max={max(lat):.0f}"
        )
    eng: list[float] = result["engine_ms"]  # type: ignore[assignment]
    if eng:
        print(f"engine ms (inside the answer): p50={percentile(eng, 50):.0f} p95={percentile(eng, 95):.0f}")
    where = "clients" if args.url else "clients and page"
    per_request = result["cpu_s"] * 1000 / max(1, total)  # type: ignore[operator]
    print(f"cpu={result['cpu_s']:.1f}s in this process ({where}), {per_request:.0f} ms/request")
    for message in errors[:5]:
        print(f"error: {message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
