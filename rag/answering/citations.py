"""``[n]`` markers <-> passages: building, renumbering and checking citations."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.chunking import LineIndex
from ingest.loaders import load
from rag.types import Answer, Citation, Passage

MARKER = re.compile(r"\[(\d{1,3})\]")


def cite(n: int, passage: Passage, char_start: int, char_end: int, score: float) -> Citation:
    """A citation of the span ``[char_start, char_end)`` (file offsets) inside ``passage``.

    Raises:
        ValueError: The span is not inside the passage.
    """
    lo, hi = char_start - passage.char_start, char_end - passage.char_start
    if not (0 <= lo < hi <= len(passage.text)):
        msg = f"span {char_start}-{char_end} is outside passage {passage.id} ({passage.char_start}-{passage.char_end})"
        raise ValueError(msg)
    return Citation(
        n=n,
        file=passage.file,
        line_start=passage.line_start + passage.text.count("\n", 0, lo),
        line_end=passage.line_start + passage.text.count("\n", 0, hi - 1),
        char_start=char_start,
        char_end=char_end,
        quote=passage.text[lo:hi],
        score=round(float(score), 4),
        passage_id=passage.id,
        title=passage.title,
        outlet=passage.outlet,
        published=passage.published,
    )


def markers(text: str) -> list[int]:
    """The marker numbers in ``text``, in order of appearance."""
    return [int(m) for m in MARKER.findall(text)]


def problems(answer: Answer, corpus_dir: str | Path) -> list[str]:
    """Everything wrong with an answer's citations; empty when all check out.

    Checks that every marker has a citation, every citation is used, and every
    quote is exactly the file's text at its offsets and lines.
    """
    found = []
    numbers = {c.n for c in answer.citations}
    for n in markers(answer.text):
        if n not in numbers:
            found.append(f"[{n}] in the text has no citation")
    used = set(markers(answer.text))
    texts: dict[str, str] = {}
    for c in answer.citations:
        if c.n not in used:
            found.append(f"citation [{c.n}] is not used in the text")
        if c.file not in texts:
            texts[c.file] = load(Path(corpus_dir) / c.file, c.file).text
        text = texts[c.file]
        if text[c.char_start : c.char_end] != c.quote:
            found.append(f"[{c.n}] quote differs from {c.file}[{c.char_start}:{c.char_end}]")
        lines = LineIndex(text)
        if (lines.line(c.char_start), lines.line(c.char_end - 1)) != (c.line_start, c.line_end):
            found.append(f"[{c.n}] lines {c.line_start}-{c.line_end} don't match its offsets")
    if answer.abstained and answer.citations:
        found.append("a declined answer has citations")
    return found
