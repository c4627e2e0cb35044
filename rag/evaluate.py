"""Score a JSONL question set: retrieval, answers, citations and abstention.

Each line has ``id``, ``question``, ``lang``, ``evidence`` (strings a
supporting passage contains), ``answer`` (strings a correct answer contains)
and optionally ``abstain: true``. Comparisons ignore case and typographic
hyphens and spaces, and a string of up to four characters must start a word
(``rag.text.contains``).

Metrics (rates over the answerable questions unless said otherwise):
    hit@1/3/5, mrr: a retrieved passage contains an evidence string.
    answer_accuracy: the answer isn't declined and contains an answer string.
    citation_precision: share of all citations given to answerable questions
        that point into a passage containing an evidence string.
    quote_precision: the stricter share whose quoted span itself contains an
        evidence or answer string.
    span_accuracy: of the answers that lead with a value (``Answer.span``), the share
        whose value holds an answer string (only when some answer has one).
    citations_valid: share of answers whose markers and quotes check out
        against the files (``rag.answering.citations.problems``).
    abstain_correct / false_abstain: counts of declined questions that should
        / shouldn't have been.
    turns: earlier questions of a conversation (a follow-up row); they are
        asked first and passed as history.
    followup_accuracy, switches_merged (sets with a ``switch`` field): the
        answer accuracy over the follow-ups (``switch: false``), and how many
        topic switches (``switch: true``) were merged with the earlier turn
        (their answer has a ``resolved_question``).
    p50_ms: median wall time of ``Assistant.ask``.
    claims_kept, claims_removed, fallbacks, declines, language_retries
        (generative mode only): claims the citation check kept and removed over
        all answers; answers where the extractive answer was served instead of
        the model's (timeout, error, nothing supported); declines (the model's
        own or the retriever's); drafts asked again in the question's language.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from rag.answering.citations import problems
from rag.errors import ConfigError
from rag.text import contains


def load_questions(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        msg = f"No question file at {path}. Give a JSONL file such as ../shared/eval/dev_questions.jsonl."
        raise ConfigError(msg)
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            msg = f"{path}:{i} is not valid JSON ({e.msg})."
            raise ConfigError(msg) from None
        if "question" not in row:
            msg = f"{path}:{i} has no 'question' field."
            raise ConfigError(msg)
        rows.append(row)
    return rows


def _has_any(text: str, needles: list[str]) -> bool:
    return any(contains(text, n) for n in needles if n)


def evaluate(bot, questions: list[dict[str, Any]], k: int = 5) -> dict[str, Any]:
    """Run every question through ``bot`` and compute the metrics."""
    rows = []
    latencies = []
    depth = max(k, 5)
    for q in questions:
        history = _history(bot, q.get("turns") or [], k)
        t0 = time.perf_counter()
        answer = bot.ask(q["question"], k=k, history=history or None)
        latencies.append((time.perf_counter() - t0) * 1000)
        hits = bot.retriever.search(answer.resolved_question or q["question"], k=depth)
        evidence = q.get("evidence") or []
        rank = next((i for i, p in enumerate(hits.passages, 1) if evidence and _has_any(p.text, evidence)), None)
        should_abstain = bool(q.get("abstain"))
        support = evidence + (q.get("answer") or [])
        passages = {p.id: p.text for p in answer.sources}
        rows.append(
            {
                "id": q.get("id"),
                "question": q["question"],
                "abstain_expected": should_abstain,
                "abstained": answer.abstained,
                "rank": rank,
                "gate": round(hits.gate_score, 4),
                "judge": (answer.evidence or {}).get("probability"),
                "span_right": None if answer.span is None or answer.abstained else _has_any(
                    f"{answer.span.text} {answer.span.normalized}", q.get("answer") or []),
                "correct": (not answer.abstained) and _has_any(answer.text, q.get("answer") or []),
                "citations": len(answer.citations),
                "precise_citations": sum(_has_any(passages.get(c.passage_id, ""), evidence) for c in answer.citations),
                "precise_quotes": sum(_has_any(c.quote, support) for c in answer.citations),
                "valid": not problems(answer, bot.settings.articles_dir) if answer.citations else True,
                "answer": answer.text,
                "resolved": answer.resolved_question,
                "switch": q.get("switch"),
                "files": [c.file for c in answer.citations],
                "ms": round(latencies[-1], 2),
                "mode": answer.mode,
                "check": answer.check,
            }
        )
    return {"rows": rows, "summary": summarize(rows, latencies)}


def summarize(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    answerable = [r for r in rows if not r["abstain_expected"]]
    n_ans = max(len(answerable), 1)
    cited = sum(r["citations"] for r in answerable)

    def hit(depth: int) -> float:
        return round(sum(1 for r in answerable if r["rank"] and r["rank"] <= depth) / n_ans, 4)

    summary = {
        "n": len(rows),
        "hit@1": hit(1),
        "hit@3": hit(3),
        "hit@5": hit(5),
        "mrr": round(sum(1 / r["rank"] for r in answerable if r["rank"]) / n_ans, 4),
        "answer_accuracy": round(sum(r["correct"] for r in answerable) / n_ans, 4),
        "citation_precision": round(sum(r["precise_citations"] for r in answerable) / cited, 4) if cited else 0.0,
        "quote_precision": round(sum(r["precise_quotes"] for r in answerable) / cited, 4) if cited else 0.0,
        "citations_valid": round(sum(r["valid"] for r in rows) / max(len(rows), 1), 4),
        "abstain_correct": sum(1 for r in rows if r["abstain_expected"] and r["abstained"]),
        "false_abstain": sum(1 for r in answerable if r["abstained"]),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else 0.0,
    }
    spans = [r["span_right"] for r in answerable if r.get("span_right") is not None]
    if spans:
        summary["span_accuracy"] = round(sum(spans) / len(spans), 4)
    if any(r.get("switch") is not None for r in rows):
        followups = [r for r in answerable if r.get("switch") is False]
        summary["followup_accuracy"] = round(sum(r["correct"] for r in followups) / max(len(followups), 1), 4)
        summary["switches_merged"] = sum(1 for r in rows if r.get("switch") and r.get("resolved") is not None)
    checked = [r["check"] for r in rows if r.get("check")]
    if checked:
        summary["claims_kept"] = sum(c["kept"] for c in checked)
        summary["claims_removed"] = sum(c["removed"] for c in checked)
        summary["fallbacks"] = sum(1 for c in checked if c.get("fallback"))
        summary["declines"] = sum(1 for c in checked if c.get("declined") and c.get("kept") == 0)
        summary["language_retries"] = sum(1 for c in checked if c.get("language_retry"))
    return summary


def evaluate_file(bot, path: str | Path, k: int = 5) -> dict[str, Any]:
    return evaluate(bot, load_questions(path), k=k)


def format_report(report: dict[str, Any]) -> str:
    lines = []
    for r in report["rows"]:
        if r["abstain_expected"]:
            status = "ok  " if r["abstained"] else "FAIL"
            lines.append(f"{status} {r['id']}: declined={r['abstained']} gate={r['gate']}")
        else:
            status = "ok  " if r["correct"] else "FAIL"
            lines.append(f"{status} {r['id']}: rank={r['rank']} gate={r['gate']} {r['answer'][:100]!r}")
        if r.get("resolved"):
            lines.append(f"       understood as: {r['resolved']}")
    lines.append("")
    lines.append("  ".join(f"{k}={v}" for k, v in report["summary"].items()))
    return "\n".join(lines)


def _history(bot, turns: list, k: int) -> list[dict[str, str]]:
    """Earlier turns of a conversation row, asked in order, as chat history."""
    history: list[dict[str, str]] = []
    for turn in turns:
        question = turn if isinstance(turn, str) else turn["question"]
        answer = bot.ask(question, k=k, history=history or None)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    return history


def _history_with(bot, turns: list[str], weights) -> list[dict[str, str]]:
    """Earlier turns answered offline by the judge with ``weights``, as chat history."""
    from rag.answering.extractive import extractive_answer  # with the fitter
    from rag.answering.followup import previous_answer, resolve  # with the fitter

    history: list[dict[str, str]] = []
    for turn in turns:
        standalone = resolve(turn, history) if history else turn
        hits = bot.retriever.search(standalone, k=bot.settings.k, asked=turn)
        previous = previous_answer(history) if standalone != turn else None
        answer = extractive_answer(standalone, hits, previous, weights)
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": answer.text}]
    return history


def fit_judge(bot, paths: list[str | Path], out: Path | None = None) -> dict[str, Any]:
    """Refit the evidence judge on question files (``rag fit-judge``) and save its weights.

    Follow-up rows are resolved against their earlier questions (the offline resolution
    reads the user's turns only). What the previous answer quoted comes from answering the
    earlier turns with a first fit made without it; the weights in use play no part, so a
    refit always writes the same weights.
    """
    from rag.answering.fit_judge import Example, fit  # lazy: only `rag fit-judge` fits
    from rag.answering.followup import previous_answer, resolve  # with the fitter
    from rag.answering.judge import WEIGHTS_PATH, default_weights  # with the fitter

    out = out or WEIGHTS_PATH
    # Two rounds, so a refit never depends on the weights it replaces: the first without
    # what the previous turns quoted, the second with those turns answered by the first.
    weights = None
    for _ in range(2):
        examples = []
        for path in paths:
            for q in load_questions(path):
                turns = [t if isinstance(t, str) else t["question"] for t in q.get("turns") or []]
                history = _history_with(bot, turns, weights) if turns and weights else []
                question = resolve(q["question"], history or [{"role": "user", "content": t} for t in turns])
                hits = bot.retriever.search(question, k=bot.settings.k, asked=q["question"])
                previous = previous_answer(history) if question != q["question"] else None
                examples.append(Example(question, hits, tuple(q.get("answer") or ()), not q.get("abstain"), previous,
                                        question != q["question"]))
        weights = fit(examples, [Path(p) for p in paths])
    weights.save(out)
    default_weights.cache_clear()
    return {"threshold": weights.threshold, "second_quote": weights.second_quote, **weights.fitted_on,
            "ranking": dict(zip(weights.ranking.names, weights.ranking.coef, strict=True)),
            "answerability": dict(zip(weights.answerability.names, weights.answerability.coef, strict=True))}
