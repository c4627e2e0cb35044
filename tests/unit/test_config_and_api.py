import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.config import Settings
from rag.errors import ConfigError


def test_public_api_is_pinned():
    assert sorted(rag.__all__) == [
        "Answer", "Assistant", "Citation", "ConfigError", "CorpusNotFoundError", "EmbeddingModelError",
        "IngestError", "InvalidQuestionError", "LLMError", "MissingDependencyError", "Passage", "RagError",
        "Settings", "StoreUnavailableError", "ask",
    ]


def test_environment_then_arguments_win(tmp_path):
    env = {"RAG_K": "7", "RAG_HOME": str(tmp_path), "RAG_LLM": "ollama:llama3.2"}
    s = Settings.from_env(env=env)
    assert (s.k, s.home, s.llm) == (7, tmp_path, "ollama:llama3.2")
    assert Settings.from_env(env=env, k=3).k == 3


@pytest.mark.parametrize(
    ("env", "message"),
    [({"RAG_K": "many"}, "RAG_K must be a number"), ({"RAG_K": "0"}, "between 1 and 50"),
     ({"RAG_UI_AUTH": "nocolon"}, "user:password"), ({"RAG_CHROMA_URL": "localhost:8000"}, "http://")],
)
def test_bad_settings_say_how_to_fix(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env=env)


def test_unknown_override_is_an_error():
    with pytest.raises(ConfigError, match="Unknown setting"):
        Settings.from_env(env={}, colour="blue")


def test_bare_import_loads_no_heavy_or_optional_packages():
    code = (
        "import sys, rag; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'gradio', 'slack_bolt', 'chromadb', "
        "'langchain_openai', 'langchain_ollama') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
