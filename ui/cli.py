"""The ``rag`` command: ingest | ask | chat | eval | ui | slack | bench."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.assistant import Assistant
from rag.errors import ConfigError, RagError
from rag.types import Answer
from ui.render import short_quote


def _assistant(args: argparse.Namespace) -> Assistant:
    overrides = {}
    if getattr(args, "k", None):
        overrides["k"] = args.k
    return Assistant(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    report = bot.ingest(args.folder, progress=not args.quiet)
    for skipped in report.skipped:
        print(f"skipped {skipped.file}: {skipped.reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    bot = _assistant(args)
    question = " ".join(args.question)
    if args.json:
        print(bot.ask(question).to_json(indent=2))
        return 0
    answer = None
    pieces: list[str] = []
    for event in bot.stream(question):
        if isinstance(event, Answer):
            answer = event
        else:
            print(event, end="", flush=True)
            pieces.append(event)
    assert answer is not None
    if pieces:
        print()
    if answer.mode == "generative" and "".join(pieces).strip() != answer.text.strip():
        # The draft streamed as the model wrote it; this is what survived the citation check.
        print("\nchecked answer:\n" + answer.text)
    if answer.resolved_question and answer.resolved_question.strip() != question.strip():
        print(f"note: understood as: {answer.resolved_question}", file=sys.stderr)
    if answer.quote_language and answer.citations:
        language = _LANGUAGES.get(answer.quote_language, answer.quote_language)
        print(f"note: quoted from the {language} original", file=sys.stderr)
    if answer.notice:
        print(f"note: {answer.notice}", file=sys.stderr)
    for line in citation_lines(answer, dim=_dim()):
        print(line)
    return 0


_LANGUAGES = {
    "de": "German", "en": "English", "fr": "French", "es": "Spanish", "it": "Italian", "nl": "Dutch",
}


def citation_lines(answer, limit: int = 160, *, dim: bool = False) -> list[str]:
    """One line per citation: the article's name, then its file and lines, then the quote.

    ``[1] Title — Outlet, 2025-07-18 · file:lines "quote"``; without a title,
    ``[1] file:lines "quote"``. ``dim`` greys the file and lines (for a terminal).
    """
    lines: list[str] = []
    for c in answer.citations:
        where = f"{c.file}:{c.lines}"
        if dim:
            where = f"\033[2m{where}\033[0m"
        quote = f'"{short_quote(c.quote, limit)}"'
        lines.append(f"[{c.n}] {c.label} · {where} {quote}" if c.title else f"[{c.n}] {where} {quote}")
    return lines


def _dim() -> bool:
    """Grey text only on a terminal that wants colour."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


CHAT_EXIT = ("exit", "quit", ":q")
CHAT_HISTORY_TURNS = 6


def cmd_chat(args: argparse.Namespace) -> int:
    """A conversation on stdin: each answer knows the questions before it.

    One question a line; an empty line is skipped; ``exit``, ``quit`` or end of
    input (Ctrl-D) ends it. Each answer is printed with its citation lines and,
    for a follow-up, an "Understood as: …" line first. ``--json`` prints each
    Answer as one JSON line instead.
    """
    if not args.verbose:
        logging.getLogger("rag").setLevel(logging.WARNING)  # keep the conversation readable
    bot = _assistant(args)
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print(f"Ask about the articles ({' or '.join(CHAT_EXIT[:2])} to stop).")
    history: list[dict[str, str]] = []
    while True:
        try:
            line = input("> ") if interactive else sys.stdin.readline()
        except EOFError:
            line = ""
            if interactive:
                print()
            break
        if not line:  # end of input
            break
        question = line.strip()
        if not question:
            continue
        if question.lower() in CHAT_EXIT:
            break
        try:
            answer = bot.ask(question, history=history[-2 * CHAT_HISTORY_TURNS :] or None)
        except RagError as e:  # an empty or too long question, a store that went away: say so, go on
            print(f"error: {e.message}", file=sys.stderr, flush=True)
            continue
        if answer.mode != "clarify":
            # A reply asking what "it" means is not a turn to resolve the next question against.
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        if args.json:
            print(answer.to_json(), flush=True)
            continue
        if answer.resolved_question:
            print(f"Understood as: {answer.resolved_question}")
        print(answer.text)
        if answer.quote_language and answer.citations:
            print(f"note: quoted from the {_LANGUAGES.get(answer.quote_language, answer.quote_language)} original")
        if answer.notice:
            print(f"note: {answer.notice}")
        for cite in citation_lines(answer, dim=_dim()):  # the same lines as `rag ask`
            print(cite)
        print(flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.claim_eval import evaluate_claims, is_claims_file  # lazy: only `rag eval` scores files
    from rag.evaluate import evaluate_file, format_report  # lazy: only `rag eval` scores files

    bot = _assistant(args)
    if is_claims_file(args.file):
        report = evaluate_claims(bot, args.file)
        for row in report["rows"] if args.json else [r for r in report["rows"] if not r["right"]]:
            print(json.dumps(row, ensure_ascii=False) if args.json else f"FAIL {row['id']}: {row['claim']!r} "
                  f"{'removed' if row['supported'] else 'kept'} {row['reasons']}")
        print(json.dumps(report["summary"]))
        return 0
    report = evaluate_file(bot, args.file, k=args.k or 5)
    if not args.json:
        print(format_report(report))
    else:
        for row in report["rows"]:
            print(json.dumps(row, ensure_ascii=False))
        print(json.dumps(report["summary"]))
    return 0


JUDGE_TRAINING = ("eval/qa_train.jsonl", "eval/qa_more_train.jsonl", "eval/calibration.jsonl", "eval/followups_train.jsonl")
CLAIMS_TRAINING = "eval/claims.jsonl"


def cmd_fit_judge(args: argparse.Namespace) -> int:
    from rag.claim_eval import fit_claim_check  # lazy: only `rag fit-judge` fits
    from rag.evaluate import fit_judge  # lazy: only `rag fit-judge` fits

    files = args.files or [Path(f) for f in JUDGE_TRAINING]
    claims = args.claims or Path(CLAIMS_TRAINING)
    missing = [str(f) for f in [*files, claims] if not f.is_file()]
    if missing:
        msg = f"No training file at {', '.join(missing)}. Run `rag fit-judge` from the project folder or name the files."
        raise ConfigError(msg)
    bot = _assistant(args)
    fitted = fit_judge(bot, files, out=args.out)
    fitted["claim_check"] = fit_claim_check(bot, claims, out=args.cuts_out, cv=args.cv)
    print(json.dumps(fitted, ensure_ascii=False, indent=2))
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from ui.gradio_app import launch  # lazy: gradio takes seconds to import

    launch(host=args.host, port=args.port)
    return 0


def cmd_slack(args: argparse.Namespace) -> int:
    from ui.slack_bot import main as slack_main  # lazy: slack_bolt is an extra

    return slack_main(port=args.port) or 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.__main__ import main as bench_main  # lazy: the benchmark is a dev tool

    return bench_main(args.bench_args) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited answers about a folder of news articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index a folder of articles (default: data/articles)")
    p.add_argument("folder", nargs="?", help="folder to ingest (default: RAG_ARTICLES_DIR or data/articles)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.add_argument("--k", type=int, help="passages to retrieve")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation on stdin: follow-up questions are understood")
    p.add_argument("--json", action="store_true", help="print each Answer as one JSON line")
    p.add_argument("--k", type=int, help="passages to retrieve")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="score a JSONL question set (or a set of labelled drafts for the claim check)")
    p.add_argument("file")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--json", action="store_true", help="one JSON row per question, then the summary last")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("fit-judge", help="refit the evidence judge and the claim check on written sets")
    p.add_argument("files", nargs="*", type=Path, help=f"JSONL question sets (default: {' '.join(JUDGE_TRAINING)})")
    p.add_argument("--out", type=Path, help="where to write the weights (default: the package's judge_weights.json)")
    p.add_argument("--claims", type=Path, help=f"labelled drafts for the claim check's cuts (default: {CLAIMS_TRAINING})")
    p.add_argument("--cuts-out", type=Path, help="where to write the cuts (default: the package's support_cuts.json)")
    p.add_argument("--cv", action="store_true", help="also cross-validate the claim check's cuts over the file's folds")
    p.set_defaults(func=cmd_fit_judge)

    p = sub.add_parser("ui", help="open the chat page")
    p.add_argument("--host", help="default RAG_UI_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, help="default RAG_UI_PORT or 7860")
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("slack", help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN is set)")
    p.add_argument("--port", type=int, help="HTTP mode port (default RAG_SLACK_PORT or 3000)")
    p.set_defaults(func=cmd_slack)

    p = sub.add_parser("bench", help="print performance figures (see bench/)")
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # The bench has its own options (--quick, --sizes ...); hand them over untouched.
        argv = ["bench", "--", *argv[1:]] if len(argv) > 1 and argv[1] != "--" else argv
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("chromadb", "httpx", "urllib3", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except RagError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`rag ask --json … | head`): stop quietly, as other commands do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
