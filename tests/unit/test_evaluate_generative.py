"""``rag eval`` in generative mode: claims kept and removed, fallbacks, declines, retries."""

from __future__ import annotations

from typing import Any

from rag.evaluate import evaluate, summarize
from rag.types import Answer
from tests.llm_fakes import FakeRetriever, passages


def row(check: dict[str, Any] | None, **kw: Any) -> dict[str, Any]:
    base = {"abstain_expected": False, "abstained": False, "rank": 1, "correct": True, "citations": 1,
            "precise_citations": 1, "precise_quotes": 1, "valid": True, "gate": 0.5, "check": check}
    return {**base, **kw}


def check(kept: int = 0, removed: int = 0, fallback: str | None = None, declined: bool = False,
          retry: bool = False) -> dict[str, Any]:
    return {"kept": kept, "removed": removed, "fallback": fallback, "declined": declined, "language_retry": retry}


def test_generative_rows_add_claim_and_fallback_counts() -> None:
    rows = [
        row(check(kept=2, removed=1)),
        row(check(kept=0, removed=2, fallback="unsupported"), correct=False),
        row(check(fallback="timeout"), correct=False),
        row(check(declined=True), abstain_expected=True, abstained=True, citations=0),
        row(check(kept=1, retry=True)),
    ]
    s = summarize(rows, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s["claims_kept"], s["claims_removed"], s["fallbacks"]) == (3, 3, 2)
    assert (s["declines"], s["language_retries"]) == (1, 1)


def test_extractive_rows_have_no_generative_keys() -> None:
    s = summarize([row(None), row(None)], [1.0, 2.0])
    assert not {"claims_kept", "claims_removed", "fallbacks"} & set(s)


class Retriever(FakeRetriever):
    def search(self, question: str, k: int | None = None, *, asked: str | None = None) -> Any:
        hits = super().search(question, k)
        hits.gate_score = 0.5  # type: ignore[attr-defined]
        return hits


class Bot:
    """Answers every question generatively with a fixed check result."""

    def __init__(self) -> None:
        from rag.config import Settings

        self.retriever = Retriever(passages())
        self.settings = Settings.from_env(env={})

    def ask(self, question: str, **_: Any) -> Answer:
        return Answer(question=question, text="Ten times faster.", mode="generative",
                      check=check(kept=1, removed=1))


def test_evaluate_carries_mode_and_check_into_rows_and_summary() -> None:
    report = evaluate(Bot(), [{"id": "q1", "question": "How much faster?", "answer": ["ten times"]}])
    (r,) = report["rows"]
    assert r["mode"] == "generative" and r["check"]["removed"] == 1
    assert report["summary"]["claims_kept"] == 1 and report["summary"]["claims_removed"] == 1
