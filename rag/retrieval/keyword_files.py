"""The keyword index saved next to the Chroma index, and how a reader knows it matches.

Data derived from the chunks is kept under ``$RAG_HOME/<kind>/`` (``keyword``,
``lexicon``; also with a Chroma server: each machine keeps its own copy). The
keyword index is named in the chunk collection's metadata (``KEYWORD_GENERATION``)
so a reader can tell whether its copy matches (``KeywordIndexFiles.keyword_index``),
and ingest brings it up to date by the chunks it added and removed.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.retrieval.chunk_records import StoredChunk
from rag.retrieval.chroma_client import BATCH
from rag.retrieval.keyword import KeywordIndex

log = logging.getLogger(__name__)

# Chunk-collection metadata naming the keyword index that matches the chunks ("" while an
# ingest is changing them). See ``PassageIndex.keyword_index``.
KEYWORD_GENERATION = "keyword_generation"


class KeywordIndexFiles:
    """``PassageIndex``'s handling of the saved keyword index (a mixin).

    Uses the index's ``settings``, ``name``, ``_chunk_collection()``,
    ``set_chunk_metadata()``, ``manifest()``, ``get()`` and ``all_texts()``.
    """

    def derived_path(self, kind: str) -> Path:
        """``$RAG_HOME/<kind>/<collection>-<tag>.npz``; the tag names the store (embedded or server URL)."""
        target = self.settings.chroma_url or "embedded"
        tag = hashlib.sha1(f"{target}|{self.name}".encode()).hexdigest()[:12]
        return self.settings.home / kind / f"{self.name}-{tag}.npz"

    def keyword_key(self) -> str | None:
        """``<collection id>:<generation>`` of the keyword index that matches the chunks; None while unknown."""
        col = self._chunk_collection()
        generation = (col.metadata or {}).get(KEYWORD_GENERATION)
        return f"{col.id}:{generation}" if generation else None

    def _set_keyword_generation(self, generation: str) -> None:
        self.set_chunk_metadata(**{KEYWORD_GENERATION: generation})

    def keyword_index(self):
        """The keyword index (``rag.retrieval.keyword.KeywordIndex``) of the chunks as they are now.

        Ingest saves it under ``derived_path("keyword")`` and records its key in the
        chunk collection's metadata, so loading it is a file read. If the key doesn't
        match (an ingest died midway or is running, another machine ingested into the
        same server, an index from before this file existed), it is brought up to date
        from the store: by the chunks added and removed since the saved copy, or from
        scratch. A copy that matches a stable key is saved for the next process.
        """
        path = self.derived_path("keyword")
        key = self.keyword_key()
        if key:
            found = KeywordIndex.load(path, key)
            if found is not None:
                return found
        index = self._rebuild_keyword_index(path)
        if key and key == self.keyword_key():
            index.key = key
            self._save_quietly(index, path)
        return index

    def _rebuild_keyword_index(self, path: Path, counts: dict | None = None):
        """Bring the saved copy up to date with the store, or build one (``counts``: known term counts)."""
        t0 = time.perf_counter()
        base = KeywordIndex.load(path)
        col_id = str(self._chunk_collection().id)
        if base is not None and base.key.split(":", 1)[0] == col_id:
            now = self.manifest()
            known = set(base.ids)
            added_ids = [cid for cid in now if cid not in known]
            removed = [cid for cid in base.ids if cid not in now]
            stored: dict[str, StoredChunk] = {}
            for lo in range(0, len(added_ids), BATCH):
                stored.update(self.get(added_ids[lo : lo + BATCH]))
            added = [(cid, stored[cid].passage.text, stored[cid].passage.file) for cid in added_ids if cid in stored]
            index = base.update(added, removed, counts=counts)
            how = f"updated by {len(added)} added and {len(removed)} removed chunks"
        else:
            ids, texts, files = self.all_texts()
            index = KeywordIndex.build(ids, texts, files, counts=counts)
            how = f"built from {len(ids)} chunks"
        log.info("Keyword index %s in %.2f s.", how, time.perf_counter() - t0)
        return index

    @staticmethod
    def _save_quietly(index, path: Path) -> bool:
        try:
            index.save(path)
        except OSError as e:
            log.warning("Can't save the keyword index to %s (%s); it will be rebuilt when needed.", path, e)
            return False
        return True

    def begin_change(self) -> str | None:
        """Before chunks are added or removed: mark the keyword index out of date; returns its key."""
        key = self.keyword_key()
        if key is not None:
            self._set_keyword_generation("")
        return key

    def commit_keyword_index(self, previous_key: str | None, added: Sequence = (), removed: Iterable[str] = (),
                             counts: dict | None = None, was_empty: bool = False) -> None:
        """After an ingest's changes: save the keyword index of the chunks now stored and record its key.

        ``added`` (``ingest.chunking.Chunk``) and ``removed`` (ids) are the changes since the
        index of ``previous_key``; only the added chunks are tokenized (unless ``counts`` has
        their term counts already). Without a saved index of that key, it is updated or built
        from the store instead.
        """
        path = self.derived_path("keyword")
        base = KeywordIndex.load(path, previous_key) if previous_key else None
        if base is None and was_empty:  # the first ingest: nothing to read back
            base = KeywordIndex.build([], [], [])
        if base is not None:
            index = base.update(((c.id, c.text, c.file) for c in added), removed, counts=counts)
        else:
            index = self._rebuild_keyword_index(path, counts)
        generation = uuid.uuid4().hex[:16]
        index.key = f"{self._chunk_collection().id}:{generation}"
        if self._save_quietly(index, path):
            self._set_keyword_generation(generation)

    def keyword_index_current(self) -> bool:
        """A saved keyword index matches the recorded key (nothing to do for an unchanged corpus)."""
        key = self.keyword_key()
        return bool(key) and KeywordIndex.load(self.derived_path("keyword"), key) is not None
