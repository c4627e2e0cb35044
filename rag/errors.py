"""Errors whose messages are written for the person using the bot."""

from __future__ import annotations


class RagError(Exception):
    """Base class. ``str(error)`` is safe and useful to show to a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RagError):
    """A setting has a value the bot can't use."""


class InvalidQuestionError(RagError):
    """The question is empty, too long or otherwise unusable."""


class CorpusNotFoundError(RagError):
    """The folder to ingest doesn't exist or holds no readable files."""


class IngestError(RagError):
    """Ingest failed; the previous index is left as it was."""


class IngestBusyError(IngestError):
    """Another ingest holds the lock on this index."""


class StoreUnavailableError(RagError):
    """The Chroma store can't be opened or reached."""


class EmbeddingModelError(RagError):
    """The embedding model can't be loaded or doesn't match the index."""


class LLMError(RagError):
    """The configured chat model failed or isn't usable."""


class MissingDependencyError(RagError):
    """An optional package is needed; the message carries the pip line."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        msg = f"{purpose} needs the '{package}' package. Install it with: pip install 'rag-articles[{extra}]'"
        super().__init__(msg)
        self.package = package
        self.extra = extra


class FileRejected(RagError):
    """One file can't be ingested (empty, binary, undecodable...); others go on."""
