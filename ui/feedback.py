"""Local store for 👍/👎 feedback on answers: one JSON object per line."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class FeedbackStore:
    """Appends feedback records to a JSONL file (created on first write).

    Args:
        path: The JSONL file, usually ``Settings.feedback_path``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def add(
        self,
        *,
        rating: str,
        question: str,
        answer: str,
        citations: Sequence[Mapping[str, Any]] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """Store one rating and return the record written.

        Args:
            rating: ``"up"``, ``"down"`` or another feedback label.
            question: The question as asked.
            answer: The answer text shown (or the error message).
            citations: ``Citation.to_dict()`` of each citation in the answer.
            **extra: More fields to keep, e.g. ``mode`` or ``abstained``.
        """
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            "rating": rating,
            "question": question,
            "answer": answer,
            "citations": [dict(c) for c in citations],
            **extra,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
        return record

    def read(self) -> list[dict[str, Any]]:
        """All records stored so far, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
