"""Cited answers about a folder of news articles."""

from rag.assistant import Assistant, ask
from rag.config import Settings
from rag.errors import (
    ConfigError,
    CorpusNotFoundError,
    EmbeddingModelError,
    IngestError,
    InvalidQuestionError,
    LLMError,
    MissingDependencyError,
    RagError,
    StoreUnavailableError,
)
from rag.types import Answer, Citation, Passage

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "ConfigError",
    "CorpusNotFoundError",
    "EmbeddingModelError",
    "IngestError",
    "InvalidQuestionError",
    "LLMError",
    "MissingDependencyError",
    "Passage",
    "RagError",
    "Settings",
    "StoreUnavailableError",
    "ask",
]
