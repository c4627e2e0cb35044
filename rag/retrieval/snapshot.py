"""A read-only copy of the embedded store, so that answering needn't open Chroma.

Ingest writes it after Chroma has committed (``write_snapshot``), under
``$RAG_HOME/snapshot/``: the chunks' ids, texts and metadata, the chunk and sentence
vectors as ``.npy`` files (memory-mapped when read), and the collections' ids,
counts and metadata (the keyword index key, the lexicon's size). It is tagged
with the store's write stamp (``PassageIndex._read_stamp``): a reader uses it only
while the stamp is the same, so any later write, a killed ingest's included, sends
readers back to Chroma until the next ingest writes a new copy.

Dense search over it is exact (cosine by one matrix product), where Chroma's HNSW
is approximate: the same neighbours, or better ones.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.retrieval.chroma_client import BATCH
from rag.retrieval.chunk_records import StoredChunk, stored_chunk

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
_ARRAYS = ("chunk_vectors", "chunk_norms", "record_offsets", "sentence_vectors", "sentence_norms",
           "sentence_start", "sentence_index")


# Files this large are memory-mapped, smaller ones read: a map holds a file descriptor open for as
# long as the snapshot lives, and a process with many small indexes would run out of them.
MAP_BYTES = 8 << 20


def _load(path: Path) -> np.ndarray:
    return np.load(path, mmap_mode="r" if path.stat().st_size >= MAP_BYTES else None)


class Snapshot:
    """The chunks, sentences and collection facts of the store as of one write stamp."""

    def __init__(self, folder: Path, meta: dict) -> None:
        self.stamp = tuple(meta["stamp"])
        self.collections: dict[str, dict] = meta["collections"]
        self.chunk_metadata: dict = meta["chunk_metadata"]
        self.chunk_collection: str = meta["chunk_collection"]
        self._unit: bool = meta["unit"]
        self.chunk_ids = (folder / "chunk_ids.txt").read_text(encoding="utf-8").split("\n")
        if self.chunk_ids == [""]:
            self.chunk_ids = []
        self._row = {cid: i for i, cid in enumerate(self.chunk_ids)}
        arrays = {name: _load(folder / f"{name}.npy") for name in _ARRAYS}
        self._chunk_vectors = arrays["chunk_vectors"]
        self._chunk_norms = arrays["chunk_norms"]
        self._offsets = arrays["record_offsets"]
        self._sentence_vectors = arrays["sentence_vectors"]
        self._sentence_norms = arrays["sentence_norms"]
        self._sentence_start = arrays["sentence_start"]
        self._sentence_index = arrays["sentence_index"]
        size = (folder / "records.bin").stat().st_size
        if size >= MAP_BYTES:
            self._records = np.memmap(folder / "records.bin", dtype=np.uint8, mode="r")
        else:
            self._records = np.fromfile(folder / "records.bin", dtype=np.uint8)
        if not (len(self.chunk_ids) == len(self._chunk_vectors) == len(self._offsets) - 1
                == len(self._sentence_start) - 1 and len(self._sentence_vectors) == len(self._sentence_index)):
            raise ValueError("the snapshot's arrays don't agree in length")

    def count(self, collection: str) -> int | None:
        info = self.collections.get(collection)
        return None if info is None else int(info["count"])

    def collection_id(self, collection: str) -> str | None:
        info = self.collections.get(collection)
        return None if info is None else info["id"]

    def keyword_key(self) -> str | None:
        generation = self.chunk_metadata.get("keyword_generation")
        return f"{self.collection_id(self.chunk_collection)}:{generation}" if generation else None

    def get(self, ids: Sequence[str]) -> dict[str, StoredChunk]:
        out: dict[str, StoredChunk] = {}
        for cid in ids:
            row = self._row.get(cid)
            if row is None:
                continue
            lo, hi = int(self._offsets[row]), int(self._offsets[row + 1])
            text, meta = json.loads(self._records[lo:hi].tobytes().decode("utf-8"))
            out[cid] = stored_chunk(cid, text, meta)
        return out

    def query_chunks(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        rows, sims = self._top(self._chunk_vectors, self._chunk_norms, vector, n)
        return [(self.chunk_ids[r], s) for r, s in zip(rows, sims, strict=True)]

    def query_sentences(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        rows, sims = self._top(self._sentence_vectors, self._sentence_norms, vector, n)
        chunk_rows = np.searchsorted(self._sentence_start, rows, side="right") - 1
        return [(f"{self.chunk_ids[c]}:{int(self._sentence_index[r])}", s)
                for r, c, s in zip(rows, chunk_rows, sims, strict=True)]

    def sentence_vectors(self, sentence_ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for sid in sentence_ids:
            cid, _, i = sid.rpartition(":")
            row = self._row.get(cid)
            if row is None or not i.isdigit():
                continue
            lo, hi = int(self._sentence_start[row]), int(self._sentence_start[row + 1])
            for j in range(lo, hi):
                if int(self._sentence_index[j]) == int(i):
                    out[sid] = np.array(self._sentence_vectors[j], dtype=np.float32)
                    break
        return out

    def _top(self, matrix: np.ndarray, norms: np.ndarray, vector: np.ndarray, n: int) -> tuple[list[int], list[float]]:
        """Rows of the ``n`` vectors of highest cosine similarity to ``vector``, best first."""
        if not len(matrix) or n <= 0:
            return [], []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        sims = matrix @ q
        if not self._unit:
            sims = sims / np.maximum(norms, 1e-12)
        if n < len(sims):
            rows = np.sort(np.argpartition(-sims, n - 1)[:n])  # equal similarities in row order
            rows = rows[np.argsort(-sims[rows], kind="stable")]
        else:
            rows = np.argsort(-sims, kind="stable")
        return rows.tolist(), sims[rows].astype(np.float64).tolist()


def snapshot_base(index) -> Path:
    """``$RAG_HOME/snapshot/<collection>-<tag>``: ``.json`` names the current copy's folder."""
    return index.derived_path("snapshot").with_suffix("")


def load_snapshot(base: Path, stamp: tuple[int, int] | None) -> Snapshot | None:
    """The snapshot at ``base`` if it was written at ``stamp``; None when missing, stale or unreadable."""
    if stamp is None:
        return None
    try:
        meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("version") != SNAPSHOT_VERSION or tuple(meta.get("stamp") or ()) != tuple(stamp):
            return None
        return Snapshot(base.parent / meta["folder"], meta)
    except FileNotFoundError:
        return None  # none yet, or replaced by a newer one between our two reads
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("Ignoring the read snapshot at %s (%s); answering from Chroma.", base, e)
        return None


class SnapshotReader:
    """The snapshot at ``base`` that matches a stamp, loaded once per stamp (thread-safe)."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._pointer = base.with_suffix(".json")
        self._snap: Snapshot | None = None
        self._missed: tuple | None = None
        self._lock = threading.Lock()

    def current(self, stamp: tuple[int, int] | None) -> Snapshot | None:
        snap = self._snap
        if snap is not None and snap.stamp == stamp:
            return snap
        if stamp is None:
            return None
        try:
            st = self._pointer.stat()
            missed = (stamp, st.st_ino, st.st_mtime_ns)
        except OSError:
            missed = (stamp, None, None)
        if missed == self._missed:  # looked already; a new copy changes the pointer file
            return None
        with self._lock:
            snap = self._snap
            if snap is None or snap.stamp != stamp:
                snap = load_snapshot(self._base, stamp)
                if snap is None:
                    self._missed = missed
                else:
                    self._snap = snap
            return snap


def write_snapshot(index) -> bool:
    """Copy what answering reads from the embedded store (after an ingest); True if written.

    Reads Chroma (not an older snapshot) and tags the copy with the stamp it read at;
    if the stamp changed meanwhile (another process wrote), nothing is published.
    """
    if index.settings.chroma_url:
        return False
    stamp = index._read_stamp()
    if stamp is None:
        return False
    base = snapshot_base(index)
    folder_name = f"{base.name}.{uuid.uuid4().hex[:12]}"
    tmp = base.parent / f".{folder_name}.tmp"
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        meta = _write_files(index, tmp)
        if index._read_stamp() != stamp:
            log.info("The store changed while its snapshot was written; not published.")
            return False
        os.replace(tmp, base.parent / folder_name)
        meta.update(version=SNAPSHOT_VERSION, stamp=list(stamp), folder=folder_name)
        pointer = base.parent / f".{base.name}.{os.getpid()}.json.tmp"
        pointer.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(pointer, base.with_suffix(".json"))
    except OSError as e:
        log.warning("Can't write the read snapshot under %s (%s); answers will read Chroma.", base.parent, e)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for old in base.parent.glob(f"{base.name}.*"):
        if old.is_dir() and old.name != folder_name:
            shutil.rmtree(old, ignore_errors=True)  # readers that mapped its files keep them
    return True


def _write_files(index, folder: Path) -> dict:
    ids: list[str] = []
    records: list[bytes] = []
    vectors: list[np.ndarray] = []
    total = index.chunks.count()
    for offset in range(0, total, BATCH):  # pages of 1000: Chroma hands vectors over as lists of floats
        got = index.chunks.get(include=["documents", "metadatas", "embeddings"], limit=BATCH, offset=offset)
        ids.extend(got["ids"])
        records.extend(json.dumps([d, m], ensure_ascii=False).encode("utf-8")
                       for d, m in zip(got["documents"], got["metadatas"], strict=True))
        vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
    dim = vectors[0].shape[1] if vectors and len(vectors[0]) else 0
    chunk_vectors = np.vstack(vectors) if ids else np.zeros((0, dim), np.float32)
    row = {cid: i for i, cid in enumerate(ids)}

    by_chunk: list[list[tuple[int, np.ndarray]]] = [[] for _ in ids]
    total = index.sentences.count()
    for offset in range(0, total, BATCH):
        got = index.sentences.get(include=["embeddings"], limit=BATCH, offset=offset)
        for sid, vec in zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True):
            cid, _, i = sid.rpartition(":")
            if cid in row and i.isdigit():  # an orphan (its chunk gone) is never answered from
                by_chunk[row[cid]].append((int(i), vec))
    starts, index_, svecs = [0], [], []
    for parts in by_chunk:
        parts.sort(key=lambda p: p[0])
        index_.extend(i for i, _ in parts)
        svecs.extend(v for _, v in parts)
        starts.append(len(index_))
    sentence_vectors = np.vstack(svecs) if svecs else np.zeros((0, dim), np.float32)

    chunk_norms = np.linalg.norm(chunk_vectors, axis=1).astype(np.float32)
    sentence_norms = np.linalg.norm(sentence_vectors, axis=1).astype(np.float32)
    unit = bool(np.all(np.abs(np.concatenate([chunk_norms, sentence_norms]) - 1.0) < 1e-4))
    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in records])
    arrays = {
        "chunk_vectors": chunk_vectors, "chunk_norms": chunk_norms, "record_offsets": offsets,
        "sentence_vectors": sentence_vectors, "sentence_norms": sentence_norms,
        "sentence_start": np.asarray(starts, dtype=np.int64), "sentence_index": np.asarray(index_, dtype=np.int32),
    }
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    (folder / "records.bin").write_bytes(b"".join(records))
    (folder / "chunk_ids.txt").write_text("\n".join(ids), encoding="utf-8")

    collections = {}
    for name in index.collection_names:
        col = index._live(name)
        collections[name] = {"id": str(col.id), "count": int(col.count())}
    chunk_metadata = dict(index._live(index.name).metadata or {})
    return {"collections": collections, "chunk_metadata": chunk_metadata, "chunk_collection": index.name,
            "unit": unit}
