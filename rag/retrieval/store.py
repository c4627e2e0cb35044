"""The chunk and sentence collections of one corpus and embedding model, in Chroma.

``<name>__<model>`` holds the chunks (the passages answers cite) and ``<name>__<model>__s``
their sentences, whose vectors rank passages finely and pick what an extractive answer
quotes. The model's id is in the name: another ``RAG_EMBEDDINGS`` starts a new index.
Opening Chroma is ``chroma_client``, the record layout ``chunk_records``, the saved keyword
index and its key ``keyword_files``; reads come from ingest's read snapshot while it
matches (``snapshot``), all in ``rag.retrieval``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import EmbeddingModelError, StoreUnavailableError
from rag.retrieval.chroma_client import BATCH, LEXICON, SENTENCES, collection_name, make_client, server_unreachable
from rag.retrieval.chunk_records import StoredChunk, chunk_record_metadata, record_text, stored_chunk
from rag.retrieval.embedding_interface import NamedEmbeddings
from rag.retrieval.keyword_files import KeywordIndexFiles
from rag.retrieval.snapshot import Snapshot, SnapshotReader, snapshot_base, write_snapshot

log = logging.getLogger(__name__)


class PassageIndex(KeywordIndexFiles):
    """The chunk and sentence collections of one corpus and embedding model (and its saved keyword index)."""

    def __init__(self, settings: Settings, embeddings: NamedEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.name = collection_name(settings.collection, embeddings.model_id)
        self._lock = threading.Lock()
        # Embedded Chroma keeps each collection's vector index in this process' memory and
        # never sees what another process (a `rag ingest` next to a running page or bot)
        # writes. Writers stamp this file; readers that see a new stamp reload from disk.
        self._stamp_path = None if settings.chroma_url else settings.home / "chroma.generation"
        self._stamp = self._read_stamp()
        self._client_obj = None
        self._open: dict[str, Any] = {}
        self.chunks = _Live(self, self.name)
        self.sentences = _Live(self, self.name + SENTENCES)
        self.collection_names = [self.name, self.name + SENTENCES, self.name + LEXICON]
        self._snapshots = SnapshotReader(snapshot_base(self))

    @property
    def _client(self):
        with self._lock:
            if self._client_obj is None:
                self._stamp = self._read_stamp()
                self._client_obj = make_client(self.settings)
            return self._client_obj

    def _snapshot(self) -> Snapshot | None:
        """The read snapshot, if the embedded store hasn't been written since it was taken."""
        return None if self._stamp_path is None else self._snapshots.current(self._read_stamp())

    def reads_from_snapshot(self) -> bool:
        """Whether questions are answered from the read snapshot (without opening Chroma)."""
        return self._snapshot() is not None

    def write_snapshot(self) -> bool:
        """After an ingest: save what answering reads, unless the current snapshot has it."""
        return self._snapshot() is None and write_snapshot(self)

    def _collection(self, name: str):
        try:
            col = self._client.get_or_create_collection(
                name=name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": self.embeddings.model_id},
                embedding_function=None,
            )
        except Exception as e:
            raise self._error(e) from None
        stored = (col.metadata or {}).get("embedding_model")
        if stored and stored != self.embeddings.model_id:
            msg = (
                f"The collection '{name}' was built with the embedding model '{stored}', "
                f"not '{self.embeddings.model_id}'. Set RAG_COLLECTION to another name or RAG_EMBEDDINGS back."
            )
            raise EmbeddingModelError(msg)
        return col

    def _error(self, e: Exception) -> Exception:
        if self.settings.chroma_url:
            return server_unreachable(self.settings.chroma_url, e)
        msg = f"The index at {self.settings.home / 'chroma'} can't be used: {e}"
        return StoreUnavailableError(msg)

    def _call(self, fn, *args, **kwargs):
        self._reload_if_stale()
        try:
            return fn(*args, **kwargs)
        except StoreUnavailableError:
            raise
        except Exception as e:
            if self._stamp_path is None:
                raise self._error(e) from None
        # Embedded: another process may have written since this one loaded (e.g. "Error
        # finding id" for a vector it added). Reload from disk and try once more.
        log.info("Reloading the index from disk after an error; another process may have changed it.")
        try:
            self._reload()
            return fn(*args, **kwargs)
        except StoreUnavailableError:
            raise
        except Exception as e:
            raise self._error(e) from None

    def _live(self, name: str):
        """The open Chroma collection ``name`` (reopened after a reload)."""
        col = self._open.get(name)
        if col is None:
            col = self._open[name] = self._collection(name)
        return col

    def _read_stamp(self) -> tuple[int, int] | None:
        if self._stamp_path is None:
            return None
        try:
            st = self._stamp_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _wrote(self) -> None:
        """Tell other processes' indexes that the store changed."""
        if self._stamp_path is None:
            return
        tmp = self._stamp_path.with_name(f".{self._stamp_path.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            tmp.write_text(f"{os.getpid()} {time.time_ns()}\n")
            os.replace(tmp, self._stamp_path)  # a new inode: readers can't miss it
        except OSError as e:
            log.warning("Can't stamp %s (%s); other processes may answer from an older index.", self._stamp_path, e)
            return
        self._stamp = self._read_stamp()

    def _reload_if_stale(self) -> None:
        if self._stamp_path is not None and self._read_stamp() != self._stamp:
            self._reload()

    def _reload(self) -> None:
        """Open the store afresh from disk, dropping Chroma's cached in-memory copy."""
        from chromadb.api.shared_system_client import SharedSystemClient  # chromadb loads on first use only

        with self._lock:
            stamp = self._read_stamp()
            # Not stopped: collection objects handed out earlier keep working until dropped.
            SharedSystemClient._identifier_to_system.pop(str(self.settings.home / "chroma"), None)
            self._client_obj = make_client(self.settings)
            self._open = {}
            self._stamp = stamp

    @property
    def version(self) -> tuple[int, int] | None:
        """Changes whenever any process writes the embedded store (None for a server)."""
        return self._read_stamp()

    def side_collection(self, suffix: str):
        """Another collection of this corpus and model (e.g. ``"__t"`` for the lexicon)."""
        return _Live(self, self.name + suffix)

    # -- chunk-collection metadata (notes about data derived from the chunks) ----
    def _chunk_collection(self):
        """The chunk collection with current metadata (a server's can change under us)."""
        if self.settings.chroma_url:
            return self._call(self._client.get_collection, self.name)
        self._reload_if_stale()
        return self._live(self.name)

    def chunk_metadata(self) -> dict:
        """The chunk collection's metadata, as stored now."""
        if snap := self._snapshot():
            return dict(snap.chunk_metadata)
        return dict(self._chunk_collection().metadata or {})

    def set_chunk_metadata(self, **values: Any) -> None:
        """Merge ``values`` into the chunk collection's metadata (notes about derived data)."""
        col = self._chunk_collection()
        self._call(col.modify, metadata={**(col.metadata or {}), **values})
        self._open.pop(self.name, None)  # reopened with the new metadata
        self._wrote()

    def flush(self) -> None:
        """Have embedded Chroma save its vector indexes now (after an ingest).

        Chroma saves a collection's HNSW index every ``sync_threshold`` (1000) writes and
        keeps later ones only in its log, which every process that opens the collection
        replays into the index: up to 1000 inserts, 0.4 s before the first answer at 10k
        chunks. Opened with a threshold of 2, a rewrite of one stored record (same vector,
        document and metadata) makes it save at once and clear the log. A collection
        keeps the threshold it was opened with, hence the reopening, before and after.
        """
        if self.settings.chroma_url:
            return  # a server keeps its indexes in its own memory
        with warnings.catch_warnings():
            # Chroma warns that a collection without an embedding function is "legacy".
            warnings.simplefilter("ignore", DeprecationWarning)
            self._flush()

    def _flush(self) -> None:
        names = self.collection_names
        restore: dict[str, dict] = {}
        try:
            for name in names:
                col = self._live(name)
                hnsw = (col.configuration_json or {}).get("hnsw") or {}
                restore[name] = {"sync_threshold": hnsw.get("sync_threshold") or 1000}
                col.modify(configuration={"hnsw": {"sync_threshold": 2}})
            self._reload()
            for name in names:
                col = self._live(name)
                got = col.get(limit=1, include=["embeddings", "metadatas", "documents"])
                if not got["ids"]:
                    continue
                record = {"ids": got["ids"], "embeddings": np.asarray(got["embeddings"])}
                if got.get("metadatas") and got["metadatas"][0]:
                    record["metadatas"] = got["metadatas"]
                if got.get("documents") and got["documents"][0] is not None:
                    record["documents"] = got["documents"]
                col.upsert(**record)
        except Exception as e:  # noqa: BLE001 - only start-up time is at stake
            log.debug("Can't make Chroma save its indexes now (%s).", e)
        finally:
            for name, config in restore.items():
                try:
                    self._live(name).modify(configuration={"hnsw": config})
                except Exception as e:  # noqa: BLE001
                    log.warning("Can't restore the HNSW settings of %s (%s).", name, e)
            self._reload()  # with the restored thresholds
            self._wrote()

    # -- reading -----------------------------------------------------------------
    def keyword_key(self) -> str | None:
        snap = self._snapshot()
        return snap.keyword_key() if snap else super().keyword_key()

    def count(self) -> int:
        snap = self._snapshot()
        return snap.count(self.name) if snap else self._call(self.chunks.count)

    def manifest(self) -> dict[str, str]:
        """``{chunk id: file}`` for everything indexed."""
        out: dict[str, str] = {}
        total = self.count()
        for offset in range(0, total, BATCH * 10):
            got = self._call(self.chunks.get, include=["metadatas"], limit=BATCH * 10, offset=offset)
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                out[cid] = str(meta.get("file", ""))
        return out

    def all_texts(self) -> tuple[list[str], list[str], list[str]]:
        """All chunk ids, texts and files, for the keyword index."""
        ids: list[str] = []
        texts: list[str] = []
        files: list[str] = []
        total = self.count()
        for offset in range(0, total, BATCH * 10):
            got = self._call(self.chunks.get, include=["documents", "metadatas"], limit=BATCH * 10, offset=offset)
            ids.extend(got["ids"])
            texts.extend(record_text(d, m) for d, m in zip(got["documents"], got["metadatas"], strict=True))
            files.extend(str(m.get("file", "")) for m in got["metadatas"])
        return ids, texts, files

    def get(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not ids:
            return {}
        if snap := self._snapshot():
            return snap.get(ids)
        got = self._call(self.chunks.get, ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: stored_chunk(cid, doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def query_chunks(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest chunks as ``(id, cosine similarity)``, best first."""
        if snap := self._snapshot():
            return snap.query_chunks(vector, n)
        return self._query(self.chunks, vector, n)

    def query_sentences(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest sentences as ``(chunk_id:i, cosine similarity)``, best first."""
        if snap := self._snapshot():
            return snap.query_sentences(vector, n)
        return self._query(self.sentences, vector, n)

    def _query(self, col, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        got = self._call(col.query, query_embeddings=[vector.tolist()], n_results=n, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not sentence_ids:
            return {}
        if snap := self._snapshot():
            return snap.sentence_vectors(sentence_ids)
        got = self._call(self.sentences.get, ids=list(sentence_ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    # -- writing -----------------------------------------------------------------
    def add(self, chunks: Sequence, chunk_vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray]) -> None:
        """Add chunks (``ingest.chunking.Chunk``) with their vectors.

        Sentences go in first: a chunk is only visible once all its parts are,
        so an interrupted ingest never leaves a passage without its sentences.
        A sentence record is its vector and its chunk's id: its text and span are
        the chunk's (``StoredChunk.sentences``), and leaving them out (no document
        for Chroma's full-text index, one metadata key) makes the writes ~20% cheaper.
        """
        s_ids, s_vecs, s_meta = [], [], []
        for chunk, vecs in zip(chunks, sentence_vectors, strict=True):
            for i, vec in enumerate(vecs[: len(chunk.sentences)]):
                s_ids.append(f"{chunk.id}:{i}")
                s_vecs.append(vec)
                s_meta.append({"chunk_id": chunk.id})
            if len(vecs) != len(chunk.sentences):
                msg = f"{len(vecs)} vectors for the {len(chunk.sentences)} sentences of chunk {chunk.id}"
                raise ValueError(msg)
        for lo in range(0, len(s_ids), BATCH):
            self._call(
                self.sentences.upsert,
                ids=s_ids[lo : lo + BATCH],
                embeddings=np.asarray(s_vecs[lo : lo + BATCH]),
                metadatas=s_meta[lo : lo + BATCH],
            )
        metas = [chunk_record_metadata(c) for c in chunks]
        for lo in range(0, len(chunks), BATCH):
            self._call(
                self.chunks.upsert,
                ids=[c.id for c in chunks[lo : lo + BATCH]],
                embeddings=np.asarray(chunk_vectors[lo : lo + BATCH]),
                metadatas=metas[lo : lo + BATCH],
            )
        self._wrote()

    def delete(self, chunk_ids: Iterable[str]) -> None:
        """Remove chunks and then their sentences."""
        ids = list(chunk_ids)
        for lo in range(0, len(ids), BATCH):
            batch = ids[lo : lo + BATCH]
            self._call(self.chunks.delete, ids=batch)
            self._call(self.sentences.delete, where={"chunk_id": {"$in": batch}})
        self._wrote()

    def prune_orphan_sentences(self, keep: set[str]) -> int:
        """Drop sentences whose chunk isn't indexed (left by an interrupted ingest)."""
        orphans: list[str] = []
        total = self._call(self.sentences.count)
        for offset in range(0, total, BATCH * 10):
            got = self._call(self.sentences.get, include=["metadatas"], limit=BATCH * 10, offset=offset)
            orphans.extend(i for i, m in zip(got["ids"], got["metadatas"], strict=True) if m["chunk_id"] not in keep)
        for lo in range(0, len(orphans), BATCH):
            self._call(self.sentences.delete, ids=orphans[lo : lo + BATCH])
        if orphans:
            self._wrote()
        return len(orphans)


_WRITES = frozenset({"add", "upsert", "update", "delete", "modify"})


class _Live:
    """A collection handle that follows ``PassageIndex`` reloads and maps its errors.

    Every method call goes through ``PassageIndex._call``: a stale in-memory copy is
    reloaded first, and writes stamp the store for other processes.
    """

    def __init__(self, index: PassageIndex, name: str) -> None:
        self._index = index
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        snap = self._index._snapshot() if attr in ("count", "id") else None
        if snap is not None and snap.count(self._name) is not None:
            return (lambda count=snap.count(self._name): count) if attr == "count" else snap.collection_id(self._name)
        target = getattr(self._index._live(self._name), attr)
        if not callable(target):
            return target
        index, name = self._index, self._name

        def call(*args: Any, **kwargs: Any) -> Any:
            result = index._call(lambda: getattr(index._live(name), attr)(*args, **kwargs))
            if attr in _WRITES:
                index._wrote()
            return result

        return call
