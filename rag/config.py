"""Settings, read from ``RAG_*`` environment variables.

Precedence: an argument given in code (``Settings.from_env(k=3)`` or
``Assistant(k=3)``) wins over the environment, which wins over the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EMBEDDINGS = "use-multilingual-v3"


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rag-articles"


def _default_articles() -> Path:
    local = Path.cwd() / "data" / "articles"
    return local if local.is_dir() else PROJECT_ROOT / "data" / "articles"


@dataclass(frozen=True)
class Settings:
    """Everything the engine and its front-ends can be told.

    Attributes:
        home: Folder for the embedded index, feedback and locks (``RAG_HOME``).
        articles_dir: Corpus folder ingested by default (``RAG_ARTICLES_DIR``).
        collection: Base name of the Chroma collection (``RAG_COLLECTION``).
        embeddings: ``use-multilingual-v3`` or any sentence-transformers model
            name or local path (``RAG_EMBEDDINGS``).
        chroma_url: ``http://host:port`` of a Chroma server; unset means
            embedded (``RAG_CHROMA_URL``).
        k: Passages returned per question (``RAG_K``).
        min_score: The evidence judge's answer cut, a probability (``RAG_MIN_SCORE``); the fitted one if unset.
        max_question_chars: Longer questions are refused (``RAG_MAX_QUESTION_CHARS``).
        llm: Chat model for generative answers, e.g. ``ollama:llama3.2`` or
            ``openai:gpt-4o-mini``; unset means extractive (``RAG_LLM``).
        llm_base_url: OpenAI-compatible server URL (``RAG_LLM_BASE_URL``).
        llm_timeout: Seconds before the LLM is given up on (``RAG_LLM_TIMEOUT``).
        ui_host, ui_port: Where ``rag ui`` listens (``RAG_UI_HOST``, ``RAG_UI_PORT``).
        ui_auth: ``user:password`` for basic auth on the page (``RAG_UI_AUTH``).
        slack_port: Port of the Slack bot in HTTP mode (``RAG_SLACK_PORT``).
    """

    home: Path = field(default_factory=_default_home)
    articles_dir: Path = field(default_factory=_default_articles)
    collection: str = "articles"
    embeddings: str = DEFAULT_EMBEDDINGS
    chroma_url: str | None = field(default=None, repr=False)
    k: int = 5
    min_score: float | None = None
    max_question_chars: int = 2000
    llm: str | None = None
    llm_base_url: str | None = None
    llm_timeout: float = 60.0
    ui_host: str = "127.0.0.1"
    ui_port: int = 7860
    ui_auth: str | None = field(default=None, repr=False)
    slack_port: int = 3000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``RAG_*`` variables, then apply ``overrides``."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            msg = f"Unknown setting(s): {', '.join(sorted(unknown))}."
            raise ConfigError(msg)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("home", "articles_dir"):
            if key in values:
                values[key] = Path(values[key]).expanduser()
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> None:
        if self.k < 1 or self.k > 50:
            msg = f"RAG_K must be between 1 and 50, got {self.k}."
            raise ConfigError(msg)
        if self.ui_auth is not None and ":" not in self.ui_auth:
            msg = "RAG_UI_AUTH must look like user:password."
            raise ConfigError(msg)
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            msg = f"RAG_CHROMA_URL must start with http:// or https://, got {self.chroma_url!r}."
            raise ConfigError(msg)

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.jsonl"


def _parse(name: str, type_: Any, raw: str) -> Any:
    kind = str(type_)
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        msg = f"RAG_{name.upper()} must be a number, got {raw!r}."
        raise ConfigError(msg) from None
    return raw
