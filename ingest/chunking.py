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

MAX_CHUNK_CHARS = 600
MIN_CHUNK_CHARS = 200
MAX_SENTENCE_CHARS = 1000
# Part of every chunk id: bump it when chunking or embedding input changes,
# so the next ingest re-embeds instead of keeping stale vectors.
PIPELINE_VERSION = "3"

# Tokens after which a period does not end a sentence (German and English).
_ABBREVIATIONS = {
    "z.b", "bzw", "dr", "prof", "mr", "mrs", "ms", "st", "ca", "nr", "vs", "u.a", "d.h", "usw", "etc",
    "mio", "mrd", "std", "jh", "jr", "inc", "co", "sog", "vgl", "evtl", "ggf", "inkl", "bspw", "z.t",
    "u.s", "e.g", "i.e", "no", "abs", "art", "bd", "hrsg", "s", "str",
}
_MONTHS = (
    "januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    "january|february|march|june|july|october|december"
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'“”„»«’)\]]*\s+(?=[\"'“”„»«(\[]?[A-ZÄÖÜ0-9])")
_TOKEN_BEFORE = re.compile(r"(\S+)$")
_NEXT_WORD = re.compile(r"\s*(\w+)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` in ``text``, trimmed of whitespace.

    Line breaks always end a sentence (headings and list items stand alone).
    Periods after abbreviations and day or list numbers ("30. April", "1.")
    do not.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start = pos
        pos += len(line)
        for s, e in _split_line(line):
            spans.extend(_cap(text, start + s, start + e))
    return spans


def _split_line(line: str) -> list[tuple[int, int]]:
    spans = []
    begin = 0
    for m in _BOUNDARY.finditer(line):
        if not _is_boundary(line, m):
            continue
        spans.append((begin, m.end()))
        begin = m.end()
    spans.append((begin, len(line)))
    out = []
    for s, e in spans:
        seg = line[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if e - trail > s + lead:
            out.append((s + lead, e - trail))
    return out


def _is_boundary(line: str, m: re.Match[str]) -> bool:
    mark = line[m.start()]
    if mark != ".":
        return True
    token = _TOKEN_BEFORE.search(line, 0, m.start())
    if not token:
        return True
    word = token.group(1).lower().lstrip("(\"'„“")
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    if word.isdigit() and len(word) <= 2:
        nxt = _NEXT_WORD.match(line, m.end())
        # "30. April" and list numbers ("1. Transparenz") are not sentence ends.
        if token.start() == len(line[: token.start()]) - len(line[: token.start()].lstrip()):
            return False
        if nxt and re.fullmatch(_MONTHS, nxt.group(1).lower()):
            return False
    return True


def _cap(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split an over-long run (no punctuation) at whitespace so embeddings stay meaningful."""
    spans = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
        if cut <= start:
            cut = start + MAX_SENTENCE_CHARS
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))
    return spans


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
