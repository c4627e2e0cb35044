"""``rag.generation.chat_models``: provider specs, lazy imports, keys, timeouts, pip lines."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rag.config import Settings
from rag.errors import ConfigError, MissingDependencyError
from rag.generation.chat_models import PLACEHOLDER_API_KEY, load_chat_model, parse_spec, redact


def settings(**kw) -> Settings:
    return Settings.from_env(env={}, **kw)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ollama:llama3.2", ("ollama", "llama3.2")),
        ("OpenAI:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("ollama:qwen2.5:0.5b", ("ollama", "qwen2.5:0.5b")),
        ("llamacpp:/models/a b.gguf", ("llamacpp", "/models/a b.gguf")),
    ],
)
def test_parse_spec(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "llama3.2", "gpt:4", "openai:", "hf:model"])
def test_bad_spec_says_what_is_expected(spec: str) -> None:
    with pytest.raises(ConfigError, match="provider:model"):
        parse_spec(spec)


def test_openai_compatible_server_without_key_gets_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_chat_model("openai:local", settings(llm_base_url="http://127.0.0.1:8080/v1", llm_timeout=7))
    assert type(model).__name__ == "ChatOpenAI"
    assert model.model_name == "local"
    assert model.openai_api_base == "http://127.0.0.1:8080/v1"
    assert model.openai_api_key.get_secret_value() == PLACEHOLDER_API_KEY
    assert model.request_timeout == 7
    assert model.max_retries <= 2
    assert model.temperature == 0
    assert model.use_responses_api is False


def test_openai_uses_the_key_from_the_environment_and_hides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET123456")
    model = load_chat_model("openai:gpt-4o-mini", settings())
    assert model.openai_api_key.get_secret_value() == "sk-test-SECRET123456"
    assert "SECRET123456" not in repr(model)


def test_openai_without_key_or_server_explains_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="export OPENAI_API_KEY") as info:
        load_chat_model("openai:gpt-4o-mini", settings())
    assert "RAG_LLM_BASE_URL" in info.value.message


def test_ollama_gets_base_url_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    model = load_chat_model(
        "ollama:llama3.2", settings(llm_base_url="http://127.0.0.1:11434", llm_timeout=12)
    )
    assert type(model).__name__ == "ChatOllama"
    assert model.model == "llama3.2"
    assert model.base_url == "http://127.0.0.1:11434"
    assert model.client_kwargs == {"timeout": 12.0}
    assert model.temperature == 0


def test_ollama_host_env_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:11500")
    assert load_chat_model("ollama:x", settings()).base_url == "http://127.0.0.1:11500"


@pytest.mark.parametrize(
    ("spec", "module", "package", "extra"),
    [
        ("openai:gpt-4o-mini", "langchain_openai", "langchain-openai", "llm"),
        ("ollama:llama3.2", "langchain_ollama", "langchain-ollama", "llm"),
        ("llamacpp:/m.gguf", "langchain_community.chat_models", "langchain-community", "llamacpp"),
    ],
)
def test_missing_package_error_carries_the_pip_line(
    monkeypatch: pytest.MonkeyPatch, spec: str, module: str, package: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    with pytest.raises(MissingDependencyError) as info:
        load_chat_model(spec, settings())
    assert info.value.package == package
    assert f"pip install 'rag-articles[{extra}]'" in info.value.message


def test_engine_modules_import_no_provider_package() -> None:
    code = (
        "import sys, rag, rag.generation.chat_models, rag.generation.answerer, rag.generation.prompts, rag.generation.citation_check\n"
        "bad = [m for m in ('langchain_openai', 'langchain_ollama', 'langchain_community', 'openai', 'ollama')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_redact_removes_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "abcdef-very-secret")
    text = "Incorrect API key provided: sk-proj-abc123XYZ789; env abcdef-very-secret"
    out = redact(text)
    assert "abc123XYZ789" not in out and "very-secret" not in out
