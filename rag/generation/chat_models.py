"""Chat models for generative answers, chosen by a ``provider:model`` spec.

Only the chosen provider's package is imported, and only when a model is
loaded, so the bare package works without the ``[llm]`` extra.

Specs:
    ``ollama:<model>``        a model served by Ollama (``RAG_LLM_BASE_URL`` or
                              ``OLLAMA_HOST``, default ``http://127.0.0.1:11434``).
    ``openai:<model>``        OpenAI, or any OpenAI-compatible server given by
                              ``RAG_LLM_BASE_URL`` (vLLM, LM Studio, llama.cpp's server).
    ``llamacpp:<path.gguf>``  a local GGUF file through ``llama-cpp-python``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from rag.config import Settings

PROVIDERS = ("ollama", "openai", "llamacpp")
# Sent when a local OpenAI-compatible server needs no key: the client refuses an empty one.
PLACEHOLDER_API_KEY = "not-needed"
# A retry after a timeout would double the wait before the extractive fallback.
MAX_RETRIES = 0
MAX_TOKENS = 600


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``"provider:model"`` into its two parts.

    Args:
        spec: e.g. ``"ollama:llama3.2"``, ``"openai:gpt-4o-mini"`` or
            ``"llamacpp:/models/qwen.gguf"``.

    Returns:
        ``(provider, model)`` with the provider lower-cased.

    Raises:
        ConfigError: The spec has no known provider or no model.
    """
    provider, sep, model = (spec or "").strip().partition(":")
    provider = provider.strip().lower()
    model = model.strip()
    if not sep or provider not in PROVIDERS or not model:
        msg = (
            f"RAG_LLM must look like provider:model with provider one of {', '.join(PROVIDERS)}, "
            f"e.g. 'ollama:llama3.2' or 'openai:gpt-4o-mini'; got {_shown(spec)!r}."
        )
        raise ConfigError(msg)
    return provider, model


def load_chat_model(spec: str, settings: Settings) -> BaseChatModel:
    """Build the LangChain chat model named by ``spec``.

    Args:
        spec: ``provider:model`` (see the module docstring).
        settings: Supplies ``llm_base_url`` and ``llm_timeout``.

    Returns:
        A chat model with temperature 0, the configured timeout and few retries.

    Raises:
        ConfigError: Bad spec, missing API key, or missing GGUF file.
        MissingDependencyError: The provider's package isn't installed; the
            message carries the pip line.
    """
    provider, model = parse_spec(spec)
    timeout = float(settings.llm_timeout)
    base_url = (settings.llm_base_url or "").strip() or None
    if provider == "openai":
        return _openai(model, base_url, timeout)
    if provider == "ollama":
        return _ollama(model, base_url, timeout)
    return _llamacpp(model)


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """Remove API keys from ``text`` before it is logged or shown.

    Args:
        text: Any message, e.g. ``str(exception)``.
        secrets: Extra values to blank out; ``OPENAI_API_KEY`` always is.

    Returns:
        ``text`` with key-like tokens replaced by ``***``.
    """
    for secret in (*secrets, os.environ.get("OPENAI_API_KEY")):
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    return re.sub(r"\b(sk|key|token)-[A-Za-z0-9_\-*]{6,}", r"\1-***", text)


def _openai(model: str, base_url: str | None, timeout: float) -> BaseChatModel:
    try:  # lazy: each provider is an optional extra
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise MissingDependencyError("langchain-openai", "llm", f"RAG_LLM=openai:{model}") from None
    from pydantic import SecretStr  # lazy: with langchain-openai only

    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not key:
        if base_url is None:
            msg = (
                f"RAG_LLM=openai:{model} needs an API key. Set it with: export OPENAI_API_KEY=... "
                "(or set RAG_LLM_BASE_URL to a local OpenAI-compatible server, which needs none)."
            )
            raise ConfigError(msg)
        key = PLACEHOLDER_API_KEY
    kwargs: dict[str, Any] = {}
    if base_url is not None:
        # Compatible servers speak chat completions only, and some reject stream_options.
        kwargs.update(base_url=base_url, use_responses_api=False, stream_usage=False)
    return ChatOpenAI(
        model=model,
        api_key=SecretStr(key),
        timeout=timeout,
        max_retries=MAX_RETRIES,
        temperature=0,
        max_tokens=MAX_TOKENS,
        **kwargs,
    )


def _ollama(model: str, base_url: str | None, timeout: float) -> BaseChatModel:
    try:  # lazy: each provider is an optional extra
        from langchain_ollama import ChatOllama
    except ImportError:
        raise MissingDependencyError("langchain-ollama", "llm", f"RAG_LLM=ollama:{model}") from None
    kwargs: dict[str, Any] = {}
    host = base_url or os.environ.get("OLLAMA_HOST")
    if host:
        kwargs["base_url"] = host if "://" in host else f"http://{host}"
    return ChatOllama(
        model=model,
        temperature=0,
        num_predict=MAX_TOKENS,
        client_kwargs={"timeout": timeout},
        **kwargs,
    )


def _llamacpp(path: str) -> BaseChatModel:
    try:  # lazy: each provider is an optional extra
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError:
        raise MissingDependencyError("langchain-community", "llamacpp", f"RAG_LLM=llamacpp:{path}") from None
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise MissingDependencyError("llama-cpp-python", "llamacpp", f"RAG_LLM=llamacpp:{path}") from None
    gguf = Path(path).expanduser()
    if not gguf.is_file():
        msg = f"RAG_LLM=llamacpp:{path}: no such model file. Give the path of a .gguf file."
        raise ConfigError(msg)
    return ChatLlamaCpp(
        model_path=str(gguf),
        temperature=0,
        max_tokens=MAX_TOKENS,
        n_ctx=4096,
        n_threads=max(1, (os.cpu_count() or 2)),
        verbose=False,
    )


def _shown(value: str) -> str:
    """A setting as safe to echo: a pasted secret (sk-..., long tokens) is masked."""
    masked = re.sub(r"(sk-|xox[abp]-|xapp-)[\w-]+", r"\1…", value)
    return masked if len(masked) <= 60 else masked[:57] + "…"
