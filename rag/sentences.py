"""The one sentence splitter: ingest, answering and the claim check all cut text here.

Spans are ``(start, end)`` offsets into the text, so a sentence can always be
found again in its file.
"""

from __future__ import annotations

import re

MAX_SENTENCE_CHARS = 1000

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
