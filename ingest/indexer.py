"""Sync a folder of articles into the index.

Chunk ids are hashes of file name, offset and text, so an unchanged file maps
to the ids already stored and is not embedded again. New chunks are written
before stale ones are deleted: an ingest that dies midway leaves the previous
index answerable, and the next run converges to exactly the folder's content.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.chunking import Chunk, chunk_text
from ingest.loaders import load
from rag.text import for_embedding, terms
from rag.errors import CorpusNotFoundError, FileRejected, IngestBusyError

log = logging.getLogger(__name__)

# Chunks per embedding call and Chroma write. Chroma's upsert has a per-call cost
# (1000-record upserts ran ~1.4x faster than 200-record ones), so write in large batches.
EMBED_BATCH = 256


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str


@dataclass
class IngestReport:
    """What an ingest changed."""

    folder: str
    files: int = 0
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    added_texts: list[str] | None = field(default=None, repr=False, compare=False)
    """Texts of the added chunks when they are all that derived data (the lexicon) needs
    from this ingest; None when it must read every chunk (after an interrupted ingest)."""

    def summary(self) -> str:
        return (
            f"{self.files} files: {self.added} added, {self.removed} removed, {self.unchanged} unchanged"
            f"{f', {len(self.skipped)} skipped' if self.skipped else ''} ({self.seconds:.1f} s)"
        )


def sync_folder(
    folder: Path,
    index,
    *,
    progress: bool = False,
    wait: float = 600.0,
    then: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Make the index hold exactly the readable articles of ``folder``.

    Args:
        folder: The corpus folder (searched recursively).
        index: A ``rag.retrieval.store.PassageIndex``.
        progress: Show a progress bar on stderr while embedding.
        wait: Seconds to queue behind another ingest of the same index.
        then: Run with the report while the ingest lock is still held, for
            derived data that must not be written by two ingests at once.

    Raises:
        CorpusNotFoundError: ``folder`` doesn't exist or isn't a folder.
        IngestBusyError: Another ingest kept the lock for longer than ``wait``.
    """
    t0 = time.perf_counter()
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "doesn't exist"
        msg = f"The corpus folder {folder} {what}. Pass a folder of .txt/.md/.html/.pdf files to `rag ingest`."
        raise CorpusNotFoundError(msg)
    report = IngestReport(folder=str(folder))
    with _ingest_lock(index, wait):
        existing = index.manifest()
        chunks, kept_files = _read_folder(folder, report, set(existing.values()))
        if report.files == 0:
            # Syncing to nothing would delete every passage: far likelier a wrong or unmounted folder.
            why = "; ".join(f"{s.file}: {s.reason}" for s in report.skipped[:5]) or "no .txt/.md/.html/.pdf files"
            msg = f"The corpus folder {folder} holds no readable articles ({why}). The index was left unchanged."
            raise CorpusNotFoundError(msg)
        wanted = {c.id for c in chunks}
        new = [c for c in chunks if c.id not in existing]
        stale = [cid for cid, file in existing.items() if cid not in wanted and file not in kept_files]
        report.unchanged = len(wanted) - len(new)
        # Valid only if the ingest that recorded it finished: its lexicon and keyword index are whole.
        keyword_key = index.keyword_key()
        if new or stale:
            index.begin_change()
        counts = _embed_and_add(new, index, progress)
        report.added = len(new)
        if stale:
            index.delete(stale)
        report.removed = len(stale)
        if new or stale:
            orphans = index.prune_orphan_sentences(set(existing) - set(stale) | wanted)
            if orphans:
                log.info("Removed %d sentences left by an interrupted ingest.", orphans)
        if then is not None:
            # The previous ingest finished (its key is valid), so derived data was complete
            # for the chunks it left: only the added ones bring anything new.
            complete = keyword_key is not None or not existing  # (an empty index is complete)
            report.added_texts = [c.text for c in new] if complete else None
            then(report)
        if new or stale or not index.keyword_index_current():
            # Last, once the chunks and the lexicon are final: a reader trusts the saved copy
            # only when its key is the one recorded here, so a crash before this leaves it
            # rebuilt, not wrong, and the next ingest redoes the lexicon from every chunk.
            index.commit_keyword_index(keyword_key, new, stale, counts=counts, was_empty=not existing)
            index.flush()  # readers then load Chroma's indexes without replaying its log
        if hasattr(index, "write_snapshot"):
            index.write_snapshot()  # after Chroma's last write: what answering reads, without Chroma
    report.seconds = time.perf_counter() - t0
    log.info("Ingested %s: %s", folder, report.summary())
    return report


def _read_folder(
    folder: Path, report: IngestReport, indexed: set[str] = frozenset()
) -> tuple[list[Chunk], set[str]]:
    """Chunks of every readable file; ``kept`` names rejected files whose old passages stay.

    Of files with the same text, one is indexed: the one already in the index
    (``indexed`` names), else the first by name, so adding a copy under a new
    name never churns the index.
    """
    root = folder.resolve()
    kept: set[str] = set()
    docs: list[tuple[str, str, str, dict]] = []  # (name, text, digest, metadata)
    for path in _files(folder):
        name = path.relative_to(folder).as_posix()
        if not _valid_name(name):
            # Undecodable bytes in a name (e.g. from a Latin-1 zip) can't be stored or cited.
            shown = os.fsencode(name).decode("utf-8", "backslashreplace")
            report.skipped.append(Skipped(shown, "the file name isn't valid UTF-8; rename the file"))
            log.warning("Skipped %s: the file name isn't valid UTF-8", shown)
            continue
        try:
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                msg = f"{name}: is a link to {path.resolve()}, outside the corpus folder; not followed"
                raise FileRejected(msg)
            doc = load(path, name)
        except FileRejected as e:
            report.skipped.append(Skipped(name, e.message.removeprefix(f"{name}: ")))
            kept.add(name)
            log.warning("Skipped %s", e.message)
            continue
        except OSError as e:
            report.skipped.append(Skipped(name, f"can't be read ({e.strerror or e})"))
            kept.add(name)
            continue
        docs.append((name, doc.text, hashlib.sha256(doc.text.encode()).hexdigest(), doc.meta.to_dict()))
    owner: dict[str, str] = {}
    for name, _, digest, _ in docs:
        if digest not in owner or (name in indexed and owner[digest] not in indexed):
            owner[digest] = name
    chunks: list[Chunk] = []
    for name, text, digest, meta in docs:
        if owner[digest] != name:
            report.skipped.append(Skipped(name, f"same text as {owner[digest]}; indexed once"))
            continue
        report.files += 1
        chunks.extend(chunk_text(name, text, meta=meta))
    return chunks, kept


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _files(folder: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            path = Path(dirpath) / fn
            # Unsupported types are listed too, so the report says why they were skipped.
            if fn.startswith("."):
                continue
            out.append(path)
    return out


def _embed_and_add(chunks: list[Chunk], index, progress: bool) -> dict[str, Counter]:
    """Embed each sentence once; a chunk's vector is the normalised mean of its sentences'.

    The model may embed ahead in worker processes (``embed_and_count``), which also
    count each chunk's keyword terms, while this process writes the previous batch
    to Chroma. Returns the term counts by chunk id, for the keyword index.
    """
    counts: dict[str, Counter] = {}
    if not chunks:
        return counts
    from tqdm import tqdm  # lazy: only a large ingest shows progress

    model = index.embeddings
    batches = [chunks[lo : lo + EMBED_BATCH] for lo in range(0, len(chunks), EMBED_BATCH)]
    texts = [[for_embedding(s) for c in batch for s in c.sentence_texts()] for batch in batches]
    chunk_texts = [[c.text for c in batch] for batch in batches]
    if hasattr(model, "embed_and_count"):
        stream = model.embed_and_count(texts, chunk_texts)
    else:  # any LangChain-style model with ``embed``
        stream = ((model.embed(t), [Counter(terms(x)) for x in ct]) for t, ct in zip(texts, chunk_texts, strict=True))
    with (
        contextlib.closing(stream),
        tqdm(total=len(chunks), unit="chunk", desc="embedding", disable=not progress, leave=False) as bar,
    ):
        for batch, (vectors, batch_counts) in zip(batches, stream, strict=True):
            per_chunk, chunk_vectors, pos = [], [], 0
            for c in batch:
                vecs = vectors[pos : pos + len(c.sentences)]
                pos += len(c.sentences)
                per_chunk.append(vecs)
                mean = vecs.mean(axis=0)
                chunk_vectors.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
            index.add(batch, np.asarray(chunk_vectors), per_chunk)
            counts.update(zip((c.id for c in batch), batch_counts, strict=True))
            bar.update(len(batch))
    return counts


@contextlib.contextmanager
def _ingest_lock(index, wait: float) -> Iterator[None]:
    """One ingest per index at a time; a second one queues up to ``wait`` seconds."""
    locks = index.settings.home / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    target = index.settings.chroma_url or "embedded"
    tag = hashlib.sha1(f"{target}|{index.name}".encode()).hexdigest()[:12]
    with open(locks / f"ingest-{tag}.lock", "w") as fh:
        deadline = time.monotonic() + wait
        announced = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced:
                    log.warning("Another ingest is running on this index; waiting for it to finish.")
                    announced = True
                if time.monotonic() > deadline:
                    msg = f"Another ingest has held the index for over {wait:.0f} s. Try again when it has finished."
                    raise IngestBusyError(msg) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

