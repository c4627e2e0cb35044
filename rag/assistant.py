"""The engine behind every front-end: question in, cited answer out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import InvalidQuestionError
from rag.types import Answer, final_answer

log = logging.getLogger("rag")

History = list[dict[str, str]]
"""Chat history as ``[{"role": "user" | "assistant", "content": "..."}]``."""


class Assistant:
    """Holds the loaded embedding model, the store and the answerer for reuse.

    Args:
        settings: Settings to use; defaults to ``Settings.from_env()``.
        auto_ingest: Ingest the bundled corpus on first use if the index is empty.
        **overrides: Any ``Settings`` field, e.g. ``k=3`` or ``llm="ollama:llama3.2"``;
            these win over the environment.

    Example:
        >>> bot = Assistant()
        >>> answer = bot.ask("How much faster was the AI scene?")
        >>> print(answer.text, answer.citations[0].file)
    """

    def __init__(self, settings: Settings | None = None, *, auto_ingest: bool = True, **overrides: Any) -> None:
        if settings is None:
            settings = Settings.from_env(**overrides)
        elif overrides:
            settings = settings.replace(**overrides)
            settings.validate()
        self.settings = settings
        self.auto_ingest = auto_ingest
        self._lock = threading.RLock()
        self._embeddings = None
        self._index = None
        self._retriever = None
        self._llm_answerer = None

    # -- loading -----------------------------------------------------------------
    @property
    def embeddings(self):
        """The LangChain ``Embeddings`` in use, loaded on first access."""
        with self._lock:
            if self._embeddings is None:
                from rag.retrieval.embeddings import get_embeddings  # lazy: the model's code

                self._embeddings = get_embeddings(self.settings.embeddings)
                threading.Thread(target=self._warm_up, daemon=True, name="rag-warm-up").start()
            return self._embeddings

    def _warm_up(self) -> None:
        """While the model loads: the answer code, and the index the first question reads.

        Only from a current read snapshot, so that this never opens Chroma (a server, or an
        empty home that has yet to be ingested). Any failure here is met again, and
        reported, where the question needs it.
        """
        try:
            import rag.answering.extractive  # noqa: F401 - compiled now, not at the first question
            import rag.answering.followup  # noqa: F401

            if self.index.reads_from_snapshot():
                self.retriever.warm_up()
        except Exception as e:  # noqa: BLE001 - only the first answer's speed is at stake
            log.debug("Warm-up skipped: %s", e)

    @property
    def index(self):
        """The Chroma-backed passage index (see ``rag.retrieval.store.PassageIndex``)."""
        with self._lock:
            if self._index is None:
                from rag.retrieval.store import PassageIndex  # lazy: chromadb takes ~0.5 s to import

                self._index = PassageIndex(self.settings, self.embeddings)
            return self._index

    @property
    def retriever(self):
        with self._lock:
            if self._retriever is None:
                from rag.retrieval.retriever import Retriever  # lazy: numpy and the indexes load on first use

                self._retriever = Retriever(self.index, self.embeddings, self.settings)
            return self._retriever

    # -- jobs --------------------------------------------------------------------
    def ingest(self, folder: str | Path | None = None, *, progress: bool = False):
        """Sync ``folder`` (default: the configured articles) into the index.

        Returns:
            An ``ingest.indexer.IngestReport`` with added/removed/unchanged counts
            and the files that were skipped, each with its reason.
        """
        from ingest.indexer import sync_folder  # lazy: only ingest needs the loaders

        def update_lexicon(report) -> None:
            if report.added or report.added_texts is None or self.retriever.lexicon.size() == 0:
                from rag.retrieval.lexicon import words  # lazy: as the retriever

                texts = report.added_texts
                if texts is None or (report.unchanged and self.retriever.lexicon.size() == 0):
                    _, texts, _ = self.index.all_texts()
                vocabulary = set().union(*(words(t) for t in texts)) if texts else set()
                self.retriever.lexicon.update(vocabulary, progress=progress)

        report = sync_folder(
            Path(folder or self.settings.articles_dir), self.index, progress=progress, then=update_lexicon
        )
        self.retriever.invalidate()
        return report

    def ask(self, question: str, *, history: History | None = None, k: int | None = None) -> Answer:
        """Answer ``question`` from the articles, with verified citations.

        Args:
            question: English, German or another language USE understands.
            history: Earlier turns of the chat, ``[{"role": "user" | "assistant",
                "content": ...}]``. A follow-up ("And when?", "Was sagte er?") is
                made standalone from them first (``rag.answering.followup``; with
                a chat model, the model rewrites it); ``Answer.resolved_question``
                then holds the question as understood.
            k: Passages to retrieve; defaults to ``settings.k``.

        Raises:
            InvalidQuestionError: The question is empty or too long.
            RagError: Any other failure, with a message meant for the user.
        """
        return final_answer(self.stream(question, history=history, k=k))

    def stream(self, question: str, *, history: History | None = None, k: int | None = None) -> Iterator[str | Answer]:
        """Like ``ask`` but yields text as it is produced, then the final ``Answer``.

        Every ``str`` yielded is a piece of the answer text to append; the last
        item is always the complete ``Answer`` (whose ``text`` is authoritative:
        a generative draft can be replaced by the extractive fallback).
        """
        from rag.answering.followup import clarification, previous_answer, resolve  # lazy: `import rag` stays quick

        question = self.check_question(question)
        t0 = time.perf_counter()
        history = [t for t in history or [] if isinstance(t, dict)]
        if not any(t.get("role") == "user" and str(t.get("content") or "").strip() for t in history):
            unclear = clarification(question)
            if unclear is not None:
                # "Why?" or "Und er?" with nothing before it: ask what it means, quote nothing.
                yield unclear
                ms = (time.perf_counter() - t0) * 1000
                yield Answer(question=question, text=unclear, mode="clarify", timings_ms={"total": ms})
                return
        self._ensure_index()
        if self.settings.llm:
            yield from self._llm().stream(question, history=history, k=k or self.settings.k)
            return
        from rag.answering.extractive import extractive_answer  # lazy: `import rag` stays quick

        t = time.perf_counter()
        standalone = resolve(question, history) if history else question
        resolve_ms = (time.perf_counter() - t) * 1000
        if standalone != question:
            log.info("Follow-up %r understood as %r", question, standalone)
        hits = self.retriever.search(standalone, k=k or self.settings.k, asked=question)
        answer = extractive_answer(standalone, hits, previous_answer(history) if standalone != question else None)
        answer.question = question
        answer.resolved_question = standalone if standalone != question else None
        answer.timings_ms = {"resolve": resolve_ms, **hits.timings_ms, "total": (time.perf_counter() - t0) * 1000}
        yield answer.text
        yield answer

    def check_question(self, question: str) -> str:
        """Return the cleaned question or raise ``InvalidQuestionError``."""
        if not isinstance(question, str):
            msg = "The question must be text."
            raise InvalidQuestionError(msg)
        cleaned = " ".join(question.replace("\x00", " ").split())
        if not cleaned:
            msg = "The question is empty. Ask something about the articles, e.g. 'How much faster was the AI scene?'"
            raise InvalidQuestionError(msg)
        if not any(ch.isalnum() for ch in cleaned):
            msg = "That has no words in it. Type a question about the articles, e.g. 'Wann wurde Oesterheld verhaftet?'"
            raise InvalidQuestionError(msg)
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            msg = (
                f"The question is {len(cleaned):,} characters long; the limit is {limit:,}. "
                "Shorten it to the part you want answered (or raise RAG_MAX_QUESTION_CHARS)."
            )
            raise InvalidQuestionError(msg)
        return cleaned

    def _ensure_index(self) -> None:
        if not self.auto_ingest:
            return
        with self._lock:
            if self.auto_ingest and self.index.count() == 0:
                log.warning("The index is empty: ingesting %s first.", self.settings.articles_dir)
                self.ingest(self.settings.articles_dir)
            self.auto_ingest = False

    def _llm(self):
        with self._lock:
            if self._llm_answerer is None:
                from rag.generation.answerer import LLMAnswerer  # lazy: only with a chat model (RAG_LLM)

                self._llm_answerer = LLMAnswerer(self)
            return self._llm_answerer

    def as_retriever(self, k: int | None = None) -> ArticleRetriever:
        """This assistant's passage search as a LangChain ``BaseRetriever`` (see ``rag.lcel``).

        Args:
            k: Passages per query; defaults to ``settings.k``.
        """
        from rag.lcel import ArticleRetriever  # langchain_core is imported only when used

        return ArticleRetriever(assistant=self, k=k or self.settings.k)

    def as_runnable(self) -> AnswerRunnable:
        """``ask`` as a LangChain ``Runnable`` with invoke, stream, batch and their async forms (see ``rag.lcel``)."""
        from rag.lcel import AnswerRunnable  # langchain_core is imported only when used

        return AnswerRunnable(self)


_default: Assistant | None = None
_default_lock = threading.Lock()


def ask(question: str, **kwargs: Any) -> Answer:
    """Answer one question with a shared default ``Assistant`` (see ``Assistant.ask``)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
    return _default.ask(question, **kwargs)
