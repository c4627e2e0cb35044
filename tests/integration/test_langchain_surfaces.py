"""``Assistant.as_retriever()`` and ``Assistant.as_runnable()`` in LCEL, on the real engine."""

from __future__ import annotations

import asyncio
import re

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from rag import Answer, InvalidQuestionError
from rag.lcel import METADATA_KEYS
from tests.conftest import ARTICLES, ROOT, files_stating_ten_times

pytestmark = pytest.mark.slow

FASTER = "How much faster was the AI scene?"
ARRESTED = "Wann wurde Oesterheld verhaftet?"
ARTICLE_FILES = {p.name for p in ARTICLES.iterdir()}


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(f"{d.metadata['file']}:{d.metadata['line_start']}\n{d.page_content}" for d in docs)


def test_retriever_returns_k_documents_with_their_source(engine):
    docs = engine.as_retriever(k=3).invoke(FASTER)
    assert len(docs) == 3
    for doc in docs:
        assert set(METADATA_KEYS) <= set(doc.metadata)
        assert doc.metadata["file"] in ARTICLE_FILES
        text = (engine.settings.articles_dir / doc.metadata["file"]).read_text(encoding="utf-8")
        assert text[doc.metadata["char_start"] : doc.metadata["char_end"]] == doc.page_content
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    assert len(engine.as_retriever(k=1).invoke(FASTER)) == 1
    assert len(engine.as_retriever().invoke(FASTER)) == engine.settings.k


def test_retriever_in_an_lcel_chain(engine):
    chain = engine.as_retriever(k=3) | RunnableLambda(format_docs)
    context = chain.invoke(FASTER)
    assert isinstance(context, str)
    assert any(f"{name}:" in context for name in files_stating_ten_times())


def test_retriever_async_matches_sync(engine):
    retriever = engine.as_retriever(k=3)
    docs = asyncio.run(retriever.ainvoke(ARRESTED))
    assert [d.id for d in docs] == [d.id for d in retriever.invoke(ARRESTED)]
    batches = asyncio.run(retriever.abatch([FASTER, ARRESTED]))
    assert [len(b) for b in batches] == [3, 3]


def test_retriever_refuses_an_empty_query(engine):
    with pytest.raises(InvalidQuestionError):
        engine.as_retriever().invoke("   ")


def test_runnable_batch_returns_cited_answers(engine):
    answers = engine.as_runnable().batch([FASTER, ARRESTED])
    assert [a.question for a in answers] == [FASTER, ARRESTED]
    for answer in answers:
        assert isinstance(answer, Answer) and not answer.abstained
        assert answer.citations and all(c.file in ARTICLE_FILES for c in answer.citations)
    assert answers[0].text == engine.ask(FASTER).text


def test_runnable_stream_yields_text_then_the_answer(engine):
    pieces = list(engine.as_runnable().stream(FASTER))
    text = [p for p in pieces if isinstance(p, str)]
    assert text and "".join(text).strip()
    assert isinstance(pieces[-1], Answer) and pieces[-1].text == engine.ask(FASTER).text


def test_runnable_invoke_with_history_resolves_the_follow_up(engine):
    history = [{"role": "user", "content": "Warum wurde Oesterheld verhaftet?"}, {"role": "assistant", "content": "…"}]
    answer = engine.as_runnable().invoke({"question": "Und wann?", "history": history})
    assert answer.resolved_question == ARRESTED
    assert "1977" in answer.text and answer.citations


def test_runnable_async_forms(engine):
    runnable = engine.as_runnable()

    async def run() -> tuple[Answer, list[Answer], list[str | Answer]]:
        answer = await runnable.ainvoke(ARRESTED)
        answers = await runnable.abatch([FASTER, ARRESTED])
        pieces = [p async for p in runnable.astream({"question": FASTER})]
        return answer, answers, pieces

    answer, answers, pieces = asyncio.run(run())
    assert answer.citations and answer.text == engine.ask(ARRESTED).text
    assert [a.question for a in answers] == [FASTER, ARRESTED]
    assert isinstance(pieces[0], str) and isinstance(pieces[-1], Answer) and pieces[-1].citations


def test_a_step_after_the_runnable_gets_the_answer_when_streamed_too(engine):
    chain = engine.as_runnable() | RunnableLambda(lambda answer: answer.citations[0].file)
    assert list(chain.stream(FASTER)) == [chain.invoke(FASTER)]


def test_runnable_names_a_missing_question_key(engine):
    with pytest.raises(InvalidQuestionError, match='needs a "question"'):
        engine.as_runnable().invoke({"query": FASTER})


def readme_langchain_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^### LangChain\n(.*?)(?=^#{1,3} )", readme, re.DOTALL | re.MULTILINE)
    assert section, 'README.md has no "### LangChain" section'
    return re.findall(r"^```python\n(.*?)^```", section.group(1), re.DOTALL | re.MULTILINE)


def test_readme_langchain_examples_run(engine, monkeypatch, capsys):
    blocks = readme_langchain_blocks()
    assert len(blocks) == 2, "the README's LangChain section should hold two Python examples"
    monkeypatch.setenv("RAG_HOME", str(engine.settings.home))
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(engine.settings.articles_dir))
    for block in blocks:
        assert len([line for line in block.splitlines() if line.strip()]) <= 5, block
        exec(compile(block, "README.md", "exec"), {})
        printed = capsys.readouterr().out
        assert any(name in printed for name in ARTICLE_FILES), printed
