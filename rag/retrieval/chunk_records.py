"""How a chunk is kept in a Chroma record, and read back as a ``StoredChunk``.

A chunk record's metadata holds the passage text (``text``), its file, spans,
sentence spans (JSON) and article fields (title, outlet, published, author);
empty fields are left out. The text is not a Chroma document: documents cost
Chroma a full-text index that nothing here searches (at 10k chunks, 12-16 CPU-s
of writes against 7-9). Records from before keep their text as the document,
and both are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rag.types import Passage


@dataclass(frozen=True)
class StoredChunk:
    """A passage with its sentence spans (file offsets)."""

    passage: Passage
    sentences: tuple[tuple[int, int], ...]


def chunk_record_metadata(chunk) -> dict:
    """The metadata of the record of ``chunk`` (``ingest.chunking.Chunk``)."""
    return {
        "text": chunk.text,
        "file": chunk.file,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
        "sentences": json.dumps(chunk.sentences, separators=(",", ":")),
        **{key: value for key, value in chunk.meta.items() if value},
    }


def record_text(document: str | None, meta: dict) -> str:
    """The passage text of a record: its metadata's, or (records from before) its document."""
    return document if document is not None else str(meta.get("text", ""))


def stored_chunk(cid: str, document: str | None, meta: dict) -> StoredChunk:
    """The chunk of record ``cid``, from its metadata (and document, for records from before)."""
    passage = Passage(
        id=cid,
        file=str(meta["file"]),
        text=record_text(document, meta),
        char_start=int(meta["char_start"]),
        char_end=int(meta["char_end"]),
        line_start=int(meta["line_start"]),
        line_end=int(meta["line_end"]),
        title=str(meta.get("title", "")),
        outlet=str(meta.get("outlet", "")),
        published=str(meta.get("published", "")),
        author=str(meta.get("author", "")),
    )
    spans = tuple((int(s), int(e)) for s, e in json.loads(meta.get("sentences") or "[]"))
    return StoredChunk(passage, spans)
