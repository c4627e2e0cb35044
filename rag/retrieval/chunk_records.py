"""How a chunk is kept in a Chroma record, and read back as a ``StoredChunk``.

A chunk record holds the passage text as its document and its file, spans,
sentence spans (JSON) and article fields (title, outlet, published, author) as
metadata; empty fields are left out.
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
        "file": chunk.file,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "line_start": chunk.line_start,
        "line_end": chunk.line_end,
        "sentences": json.dumps(chunk.sentences, separators=(",", ":")),
        **{key: value for key, value in chunk.meta.items() if value},
    }


def stored_chunk(cid: str, text: str, meta: dict) -> StoredChunk:
    """The chunk of record ``cid``, from its document and metadata."""
    passage = Passage(
        id=cid,
        file=str(meta["file"]),
        text=text,
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
