"""Tests against a real chat model server: they run only where one is given.

Start one with ``scripts/local-llm`` (llama.cpp's OpenAI-compatible server on
127.0.0.1) and export ``RAG_TEST_LLM_BASE_URL=http://127.0.0.1:8089/v1``
(``RAG_TEST_LLM_MODEL`` names the model, default ``qwen2.5-coder-1.5b-instruct``).
Without it the ``local_llm`` tests are deselected, and the run says so and how
to run them; CI, which has no model, runs the scripted-server tests instead.
"""

from __future__ import annotations

import os

import pytest

URL_VARIABLE = "RAG_TEST_LLM_BASE_URL"
HOW = (
    "they need a real chat model server: run scripts/local-llm, then "
    f"export {URL_VARIABLE}=http://127.0.0.1:8089/v1 (RAG_TEST_LLM_MODEL names the model)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(URL_VARIABLE, "").strip():
        return
    marked = [item for item in items if item.get_closest_marker("local_llm")]
    if marked:
        items[:] = [item for item in items if not item.get_closest_marker("local_llm")]
        config.hook.pytest_deselected(items=marked)
        config.stash[_DESELECTED] = len(marked)


_DESELECTED = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    count = config.stash.get(_DESELECTED, 0)
    if count:
        terminalreporter.write_line(f"{count} local_llm tests deselected: {HOW}.")
