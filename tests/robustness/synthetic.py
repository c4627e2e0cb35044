"""A bigger corpus for crash and concurrency tests, and checks of a whole index."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from ingest.chunking import Chunk, chunk_text
from ingest.indexer import _files
from ingest.loaders import load

from .conftest import ARTICLES, PROJECT, RAG, clean_env


def make_corpus(folder: Path, copies: int, seed: int = 1) -> None:
    """The bundled articles plus ``copies`` reworded variants of each (distinct text, distinct chunks)."""
    shutil.copytree(ARTICLES, folder, dirs_exist_ok=True)
    rng = random.Random(seed)
    for j in range(copies):
        for src in sorted(ARTICLES.glob("*.txt")):
            paragraphs = [p for p in src.read_text(encoding="utf-8").split("\n\n") if p.strip()]
            head, body = paragraphs[:1], paragraphs[1:]
            rng.shuffle(body)
            tagged = [f"Fassung {j}.{i} ({rng.randint(1000, 9999)}): {p}" for i, p in enumerate(head + body)]
            (folder / f"variant_{j:02d}_{src.name}").write_text("\n\n".join(tagged) + "\n", encoding="utf-8")


def expected_chunks(folder: Path) -> list[Chunk]:
    """What an ingest of ``folder`` must index, computed from the files alone."""
    out: list[Chunk] = []
    for path in _files(folder):
        name = path.relative_to(folder).as_posix()
        out.extend(chunk_text(name, load(path, name).text))
    return out


def assert_index_exact(index, expected: list[Chunk]) -> None:
    """The index holds exactly ``expected``: no chunk missing, none twice, no orphan sentence."""
    manifest = index.manifest()
    assert len(manifest) == index.count() == len(expected)
    assert set(manifest) == {c.id for c in expected}
    got = index.chunks.get(include=["metadatas"])
    spans = [(m["file"], m["char_start"]) for m in got["metadatas"]]
    assert len(set(spans)) == len(spans), "the same passage is stored twice"
    sentences = index.sentences.get(include=["metadatas"])
    owners = {m["chunk_id"] for m in sentences["metadatas"]}
    assert owners <= set(manifest), f"{len(owners - set(manifest))} chunks' sentences are orphans"
    assert len(sentences["ids"]) == sum(len(c.sentences) for c in expected)


class Ingest:
    """``rag ingest`` in a subprocess, with its progress bar read as it goes."""

    def __init__(self, folder: Path, home: Path, *, quiet: bool = False) -> None:
        args = [*RAG, "ingest", str(folder)] + (["-q"] if quiet else [])
        self.proc = subprocess.Popen(
            args, env=clean_env(home), cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.stderr = b""
        self.stdout = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        while chunk := self.proc.stderr.read1(4096):  # type: ignore[attr-defined]
            self.stderr += chunk

    def embedded(self) -> int:
        """Chunks the progress bar says are written (tqdm updates after each stored batch)."""
        found = re.findall(rb"embedding:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)", self.stderr)
        return int(found[-1][0]) if found else 0

    def total(self) -> int:
        found = re.findall(rb"embedding:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)", self.stderr)
        return int(found[-1][1]) if found else 0

    def wait_until_embedded(self, at_least: int, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.embedded()
            if done >= at_least:
                return done
            if self.proc.poll() is not None:
                msg = f"ingest ended (rc={self.proc.returncode}) before {at_least} chunks: {self.stderr[-2000:]!r}"
                raise AssertionError(msg)
            time.sleep(0.02)
        raise AssertionError(f"no progress to {at_least} chunks in {timeout}s: {self.stderr[-2000:]!r}")

    def wait(self, timeout: float = 300) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(10)
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()
        return rc
