"""Opening Chroma, embedded or server, and naming its collections.

``make_client`` gives an ``HttpClient`` when ``RAG_CHROMA_URL`` is set, else a
``PersistentClient`` under ``$RAG_HOME/chroma``; either way a failure is a
``StoreUnavailableError`` that says what to do. chromadb itself is imported on
first use only (``_import_chromadb``), and faster than ``import chromadb``.
"""

from __future__ import annotations

import re
import sys
from urllib.parse import urlparse

from rag.config import Settings
from rag.errors import StoreUnavailableError

# Records per Chroma call (reads page by ten times this).
BATCH = 1000


def _import_chromadb():
    """``import chromadb``, without the ``overrides`` package checking its method signatures.

    chromadb marks ~160 methods ``@override``; the decorator checks each signature
    against the base class while the class is built, a development-time check that
    costs ~0.25 s of chromadb's ~0.6 s import, on every start. During that import
    the decorator only marks the method (``__override__``, which ``EnforceOverrides``
    looks for); it is put back afterwards.
    """
    if "chromadb" in sys.modules:
        return sys.modules["chromadb"]
    try:
        import overrides  # chromadb's dependency, patched for chromadb's import only
    except ImportError:  # pragma: no cover - chromadb requires it
        import chromadb  # heavy (~0.6 s): on first use only

        return chromadb
    real = overrides.override, overrides.overrides

    def mark(method=None, **_options):
        if method is None:
            return mark
        method.__override__ = True
        return method

    overrides.override = overrides.overrides = mark
    try:
        import chromadb  # heavy (~0.35 s even so): on first use only
    finally:
        overrides.override, overrides.overrides = real
    return chromadb


def make_client(settings: Settings):
    """A Chroma client: ``HttpClient`` when ``chroma_url`` is set, else ``PersistentClient``."""
    try:
        chromadb = _import_chromadb()
        from chromadb.config import Settings as ChromaSettings  # chromadb loads on first use only
    except ImportError as e:  # pragma: no cover - chromadb is a core dependency
        msg = f"chromadb is not installed ({e}). Reinstall the project: pip install -e ."
        raise StoreUnavailableError(msg) from None
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as e:
            raise server_unreachable(settings.chroma_url, e) from None
        return client
    path = settings.home / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        msg = f"Can't open the index at {path}: {e}. Check the folder's permissions or set RAG_HOME to another folder."
        raise StoreUnavailableError(msg) from None


def server_unreachable(url: str, error: Exception) -> StoreUnavailableError:
    url = _without_credentials(url)
    msg = (
        f"Can't reach the Chroma server at {url} ({type(error).__name__}). "
        "Start it (e.g. `chroma run --path ./chroma-data --port 8000`) or unset RAG_CHROMA_URL "
        "to use the embedded index."
    )
    return StoreUnavailableError(msg)


def _without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed, for messages and logs."""
    parts = urlparse(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


# Suffixes of a corpus' other collections: its sentences, and the lexicon's words ("2": Snowball terms).
SENTENCES = "__s"
LEXICON = "__t2"


def collection_name(base: str, model_id: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9._-]+", "-", f"{base}__{model_id}")[:60].strip("-._")
    return name if len(name) >= 3 else f"{name}-rag"
