"""Sentence-aware chunks that remember where they came from.

Every sentence and chunk is a ``(start, end)`` span into the file's text, so
a citation can always be checked against the file: ``text[start:end]``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field

from ingest.metadata import extract
from rag.sentences import split_sentences

MAX_CHUNK_CHARS = 600
MIN_CHUNK_CHARS = 200
# Part of every chunk id: bump it when chunking or embedding input changes,
# so the next ingest re-embeds instead of keeping stale vectors.
PIPELINE_VERSION = "3"

@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences from one file."""

    id: str
    file: str
    text: str
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    sentences: tuple[tuple[int, int], ...]
    """Sentence spans in file offsets."""
    meta: dict[str, str] = field(default_factory=dict, compare=False)
    """The article's ``ingest.metadata.ArticleMeta`` fields, shared by its chunks."""

    def sentence_texts(self) -> list[str]:
        return [self.text[s - self.char_start : e - self.char_start] for s, e in self.sentences]


class LineIndex:
    """Maps character offsets to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)


def chunk_text(
    file: str,
    text: str,
    *,
    max_chars: int = MAX_CHUNK_CHARS,
    min_chars: int = MIN_CHUNK_CHARS,
    meta: dict[str, str] | None = None,
) -> list[Chunk]:
    """Group sentences into chunks of at most ``max_chars``.

    A chunk closes at a paragraph break once it holds ``min_chars``, so short
    headings travel with the paragraph they introduce.
    """
    if meta is None:
        meta = extract(text).to_dict()
    sentences = split_sentences(text)
    lines = LineIndex(text)
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for span in sentences:
        if current:
            size = span[1] - current[0][0]
            new_paragraph = "\n" in text[current[-1][1] : span[0]]
            chunk_len = current[-1][1] - current[0][0]
            if size > max_chars or (new_paragraph and chunk_len >= min_chars):
                groups.append(current)
                current = []
        current.append(span)
    if current:
        groups.append(current)

    chunks = []
    for group in groups:
        start, end = group[0][0], group[-1][1]
        body = text[start:end]
        stamp = "\0".join(meta.values())
        digest = hashlib.sha256(f"{PIPELINE_VERSION}\0{file}\0{start}\0{body}\0{stamp}".encode()).hexdigest()[:24]
        chunks.append(
            Chunk(
                id=digest,
                file=file,
                text=body,
                char_start=start,
                char_end=end,
                line_start=lines.line(start),
                line_end=lines.line(max(start, end - 1)),
                sentences=tuple(group),
                meta=meta,
            )
        )
    return chunks
