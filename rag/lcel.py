"""LangChain surfaces: the retriever and the answer path as ``langchain_core`` runnables.

``Assistant.as_retriever()`` and ``Assistant.as_runnable()`` build these, so a LangChain
user can put the article search or the whole cited-answer path into an LCEL chain::

    chain = bot.as_retriever(k=3) | RunnableLambda(lambda docs: docs[0].metadata["file"])
    bot.as_runnable().batch(["How much faster was the AI scene?", "Wann wurde Oesterheld verhaftet?"])

Importing this module imports ``langchain_core`` (0.2-0.4 s), which ``rag`` otherwise
leaves until a chat model needs it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import Field

from rag.errors import InvalidQuestionError
from rag.types import Answer, Passage

if TYPE_CHECKING:
    from rag.assistant import Assistant, History

METADATA_KEYS = (
    "file", "title", "outlet", "published", "author", "line_start", "line_end", "char_start", "char_end", "score", "id",
)  # fmt: skip

QuestionInput = str | dict[str, Any]
"""A question, or ``{"question": ..., "history": [...], "k": ...}`` (``history`` and ``k`` optional)."""


def passage_document(passage: Passage) -> Document:
    """A ``Passage`` as a LangChain ``Document``: its text, and where it comes from as metadata."""
    metadata = {key: getattr(passage, key) for key in METADATA_KEYS}
    return Document(page_content=passage.text, metadata=metadata, id=passage.id)


class ArticleRetriever(BaseRetriever):
    """The assistant's retrieval (dense + keyword, fused and reranked) as a ``BaseRetriever``.

    ``invoke(query)`` returns the top ``k`` passages as ``Document``s, best first; each
    one's metadata holds ``METADATA_KEYS`` (file, title, outlet, published, line and
    character span, score, id). There is no "not covered" gate here: a question the
    articles don't answer still gets its ``k`` nearest passages.
    """

    assistant: Any = Field(exclude=True)
    """The ``rag.Assistant`` whose index is searched."""
    k: int = Field(default=5, ge=1, le=50)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        query = self.assistant.check_question(query)
        self.assistant._ensure_index()
        hits = self.assistant.retriever.search(query, k=self.k)
        return [passage_document(p) for p in hits.passages]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        return await asyncio.to_thread(self._get_relevant_documents, query, run_manager=run_manager.get_sync())


class AnswerRunnable(Runnable[QuestionInput, Answer]):
    """``Assistant.ask`` as a ``Runnable``: a question (or ``QuestionInput`` dict) in, an ``Answer`` out.

    ``stream`` yields what ``Assistant.stream`` does: ``str`` pieces of the answer text,
    then the final ``Answer``, whose text is authoritative (a chat model's draft can be
    replaced by the extractive answer). LangChain hands a later step of a streamed chain
    the last chunk that can't be added to the ones before, so ``runnable | step`` gives
    ``step`` the ``Answer`` whether the chain is invoked or streamed.

    ``batch``, ``ainvoke`` and ``abatch`` are LangChain's defaults, which run ``invoke``
    on worker threads (an ``Assistant`` is safe to share between threads). ``astream``
    runs the answer on one worker thread and yields its pieces as they come.
    """

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def invoke(self, input: QuestionInput, config: RunnableConfig | None = None, **kwargs: Any) -> Answer:
        return self._call_with_config(self._ask, input, config)

    def stream(
        self, input: QuestionInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[str | Answer]:
        yield from self._transform_stream_with_config(iter([input]), self._pieces, config)

    async def astream(
        self, input: QuestionInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str | Answer]:
        async for piece in self._atransform_stream_with_config(_once(input), self._apieces, config):
            yield piece

    def _ask(self, input: QuestionInput) -> Answer:
        question, history, k = parse_input(input)
        return self.assistant.ask(question, history=history, k=k)

    def _pieces(self, inputs: Iterator[QuestionInput]) -> Iterator[str | Answer]:
        for input in inputs:
            question, history, k = parse_input(input)
            yield from self.assistant.stream(question, history=history, k=k)

    async def _apieces(self, inputs: AsyncIterator[QuestionInput]) -> AsyncIterator[str | Answer]:
        loop = asyncio.get_running_loop()
        async for input in inputs:
            # The generator stays on one thread: a chat model's stream may hold context across pieces.
            queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
            stop = threading.Event()

            def produce(input: QuestionInput = input, queue: asyncio.Queue = queue) -> None:
                try:
                    pieces = self._pieces(iter([input]))
                    for piece in pieces:
                        loop.call_soon_threadsafe(queue.put_nowait, (False, piece))
                        if stop.is_set():
                            pieces.close()
                            break
                except BaseException as error:  # handed to the awaiting side, which raises it
                    loop.call_soon_threadsafe(queue.put_nowait, (True, error))
                else:
                    loop.call_soon_threadsafe(queue.put_nowait, (True, None))

            loop.run_in_executor(None, contextvars.copy_context().run, produce)
            try:
                while True:
                    finished, item = await queue.get()
                    if finished:
                        if item is not None:
                            raise item
                        break
                    yield item
            finally:
                stop.set()


async def _once(item: Any) -> AsyncIterator[Any]:
    yield item


def parse_input(input: QuestionInput) -> tuple[Any, History | None, int | None]:
    """``(question, history, k)`` from a question or a ``QuestionInput`` dict; other keys are ignored."""
    if not isinstance(input, dict):
        return input, None, None
    if "question" not in input:
        keys = ", ".join(sorted(map(str, input))) or "none"
        msg = f'The input dict needs a "question" (and may have "history" and "k"); it has {keys}.'
        raise InvalidQuestionError(msg)
    return input["question"], input.get("history"), input.get("k")
