"""Generative answers: rewrite a follow-up, retrieve, prompt, stream, check citations.

A follow-up is rewritten by the chat model; when the model fails (or its reply
is unusable) it is resolved offline instead (``rag.answering.followup``).

The chat model only drafts, and its draft streams as it is written. The
finished draft is checked sentence by sentence against the passages
(``rag.generation.citation_check``); what survives becomes the answer, with citations
resolved exactly as extractive answers are. A draft that says the passages
don't answer becomes a decline. A draft in the other language than the
question's is asked for once more, firmly; if it is still wrong, the checked
answer carries a notice. When nothing survives, or the model fails, the
extractive answer, computed before the model was asked, is returned with a
one-line notice. ``Answer.check`` says what the check did.

The steps live beside it: ``rewrite`` (follow-ups), ``streaming`` (one draft),
``failures`` (the notice when the model fails).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rag.answering.citations import cite
from rag.answering.extractive import decline, extractive_answer
from rag.answering.followup import previous_answer, resolve
from rag.answering.question import language
from rag.config import Settings
from rag.generation.chat_models import load_chat_model
from rag.generation.citation_check import CheckResult, SupportChecker, render
from rag.generation.claims import is_decline
from rag.generation.draft import check_info, draft_language, language_notice
from rag.generation.failures import report_failure
from rag.generation.prompts import answer_messages
from rag.generation.rewrite import rewrite_question
from rag.generation.streaming import drop_unfinished, elapsed_ms, stream_draft
from rag.retrieval.retriever import Hits
from rag.sentences import split_sentences
from rag.types import Answer, final_answer

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger("rag.generation.answerer")

History = Sequence[dict[str, str]]

NOTICE_UNVERIFIED = (
    "The language model's answer couldn't be checked against the articles, so these are quotes instead."
)
NOTICE_EMPTY = "The language model gave no answer, so these are quotes from the articles instead."
NOTICE_OFF_TOPIC = (
    "The language model's checked answer didn't answer the question, so these are quotes instead."
)
# Share of the question's focus words the kept claims must speak to (``SupportChecker.addresses``).
MIN_RELEVANCE = 0.5


class Searcher(Protocol):
    """What the answerer asks of a retriever (``rag.retrieval.retriever.Retriever``)."""

    def search(self, question: str, k: int | None = None) -> Hits: ...


class Engine(Protocol):
    """What the answerer uses of the facade (``rag.assistant.Assistant``), named by shape.

    The facade sits a layer above and hands itself in; nothing here imports it.
    """

    @property
    def settings(self) -> Settings: ...

    @property
    def retriever(self) -> Searcher: ...

    @property
    def embeddings(self) -> Embeddings: ...


class LLMAnswerer:
    """Generative answers for an ``Assistant`` whose settings name a chat model.

    Args:
        assistant: Supplies ``settings``, ``retriever`` and ``embeddings`` (an ``Engine``;
            ``rag.assistant.Assistant`` passes itself).
        model: A ready chat model; by default ``settings.llm`` is loaded on first use.
    """

    def __init__(self, assistant: Engine, model: BaseChatModel | None = None) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self._model = model
        self._checker: SupportChecker | None = None
        self._lock = threading.Lock()
        # OpenAI-compatible servers and Ollama always end a complete reply with a reason.
        self.require_finish = model is None and (assistant.settings.llm or "").split(":", 1)[0].lower() in (
            "openai",
            "ollama",
        )

    @property
    def model(self) -> BaseChatModel:
        """The chat model, loaded on first use.

        Raises:
            ConfigError: The spec or a key is wrong.
            MissingDependencyError: The provider's package isn't installed.
        """
        with self._lock:
            if self._model is None:
                self._model = load_chat_model(self.settings.llm or "", self.settings)
            return self._model

    def checker(self) -> SupportChecker:
        """The citation checker, made once: it caches passage sentence and word vectors."""
        with self._lock:
            if self._checker is None:
                self._checker = SupportChecker(self.assistant.embeddings.embed_documents, split_sentences)
            return self._checker

    def ask(self, question: str, *, history: History | None = None, k: int | None = None) -> Answer:
        """Like ``stream`` but returns only the final ``Answer``."""
        return final_answer(self.stream(question, history=history, k=k))

    def stream(
        self, question: str, *, history: History | None = None, k: int | None = None
    ) -> Iterator[str | Answer]:
        """Yield answer text as the model writes it, then the checked ``Answer``.

        Args:
            question: The cleaned question.
            history: Earlier turns, to resolve follow-ups.
            k: Passages to retrieve.

        Yields:
            ``str`` pieces of the draft (they may carry raw ``[n]`` markers),
            then one ``Answer``: generative, or the extractive fallback with
            ``notice`` set. Its ``text`` is authoritative.

        Raises:
            ConfigError, MissingDependencyError: The model can't be set up.
        """
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        model = self.model
        k = k or self.settings.k
        timeout = float(self.settings.llm_timeout)

        standalone, failure = question, None
        if history:
            t = time.perf_counter()
            try:
                standalone = rewrite_question(model, question, history)
            except Exception as e:  # noqa: BLE001 - any model failure means: answer without it
                failure = report_failure(e, timeout, "rewriting the question")
                standalone = resolve(question, list(history))  # offline, from the earlier turns
            timings["rewrite"] = elapsed_ms(t)
            if standalone != question:
                log.info("Follow-up %r rewritten as %r", question, standalone)

        hits = self.assistant.retriever.search(standalone, k=k, asked=question)
        timings.update({f"retrieve_{key}": v for key, v in hits.timings_ms.items()})
        # Computed first: the evidence judge's decline comes with it, and it can be shown
        # at once if the model fails or times out.
        t = time.perf_counter()
        previous = previous_answer(list(history or [])) if standalone != question else None
        fallback = self.extractive_answer(standalone, hits, previous)
        timings["extractive"] = elapsed_ms(t)
        if fallback.abstained or not hits.passages or failure is not None:
            # Out of scope (decline) or the model is down: no point in asking it.
            info = check_info(None, "error" if failure is not None else None, False, declined=fallback.abstained)
            yield from self._extractive(
                question, standalone, hits, failure, timings, t0, streamed=False, check=info, answer=fallback
            )
            return
        checker = self.checker()
        # Sentence and word vectors of the passages, while the model writes (the check waits for the draft).
        ready = threading.Thread(target=checker.prepare, args=(hits.passages,), daemon=True)
        ready.start()

        wanted = language(question)
        retried = False
        messages = answer_messages(standalone, hits.passages, wanted)
        draft, finish, notice = "", None, None
        shown = [False]  # whether any draft text reached the reader
        t = time.perf_counter()
        for attempt in range(2):
            if attempt:
                yield "\n\n"  # the retry's draft supersedes the first one on screen
            try:
                first = "llm_retry_first_token" if attempt else "llm_first_token"
                outcome = yield from stream_draft(
                    model, messages, timeout, timings, first, shown, require_finish=self.require_finish
                )
            except Exception as e:  # noqa: BLE001 - any model failure means: answer without it
                timings["llm"] = elapsed_ms(t)
                if attempt and draft:
                    break  # the retry failed: keep the first draft
                kind = "timeout" if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__ else "error"
                notice = report_failure(e, timeout, "answering")
                yield from self._extractive(
                    question,
                    standalone,
                    hits,
                    notice,
                    timings,
                    t0,
                    streamed=shown[0],
                    answer=fallback,
                    check=check_info(None, kind, retried),
                )
                return
            draft, finish = outcome
            got = draft_language(draft)
            if attempt or got is None or got == wanted or is_decline(draft.split(".")[0]):
                break
            log.info("The draft is in %s, the question in %s: asking again, firmly.", got, wanted)
            retried = True
            messages = answer_messages(standalone, hits.passages, wanted, firm=True)
        timings["llm"] = elapsed_ms(t)

        if finish == "length":
            draft = drop_unfinished(draft)
        ready.join()
        t = time.perf_counter()
        result = checker.check(draft, hits.passages, question=standalone)
        text, spans = render(result)
        timings["check"] = elapsed_ms(t)
        if result.declined:
            answer = decline(question)
            answer.mode = "generative"
            answer.resolved_question = standalone if standalone != question else None
            answer.timings_ms = {**timings, "total": elapsed_ms(t0)}
            answer.check = check_info(result, None, retried, declined=True)
            yield "\n\n" + answer.text
            yield answer
            return
        off_topic = bool(spans) and checker.addresses(standalone, result) < MIN_RELEVANCE
        if not spans or off_topic:
            log.info("No supported sentence answering the question in the draft %r", draft[:300])
            notice = (
                NOTICE_EMPTY if not draft.strip() else NOTICE_OFF_TOPIC if off_topic else NOTICE_UNVERIFIED
            )
            reason = "off-topic" if off_topic else "unsupported"
            yield from self._extractive(
                question,
                standalone,
                hits,
                notice,
                timings,
                t0,
                streamed=shown[0],
                answer=fallback,
                check=check_info(result, "empty" if not draft.strip() else reason, retried),
            )
            return

        citations = []
        for s in spans:
            p = hits.passages[s.index]
            citations.append(cite(s.n, p, p.char_start + s.start, p.char_start + s.end, s.score))
        timings["total"] = elapsed_ms(t0)
        notes = [n for n in (check_notice(result), language_notice(draft_language(text), wanted)) if n]
        yield Answer(
            question=question,
            text=text,
            citations=citations,
            sources=hits.passages,
            mode="generative",
            notice=" ".join(notes) or None,
            timings_ms=timings,
            resolved_question=standalone if standalone != question else None,
            check=check_info(result, None, retried),
        )

    def extractive_answer(self, question: str, hits: Hits, previous: str | None = None) -> Answer:
        """The extractive answer (or decline) used for fallbacks."""
        return extractive_answer(question, hits, previous)

    def _extractive(
        self,
        question: str,
        standalone: str,
        hits: Hits,
        notice: str | None,
        timings: dict[str, float],
        t0: float,
        *,
        streamed: bool,
        answer: Answer | None = None,
        check: dict[str, Any] | None = None,
    ) -> Iterator[str | Answer]:
        answer = answer or self.extractive_answer(standalone, hits)
        answer.question = question
        answer.check = check
        answer.resolved_question = standalone if standalone != question else None
        answer.notice = notice
        answer.timings_ms = {**timings, "total": elapsed_ms(t0)}
        # A draft already shown is superseded: start the quotes on a fresh paragraph.
        yield ("\n\n" if streamed else "") + answer.text
        yield answer


def check_notice(result: CheckResult) -> str | None:
    """A one-line note about what the citation check removed, or None."""
    removed = len(result.removed)
    invalid = sorted(set(result.invalid_markers))
    notes = []
    if removed:
        notes.append(f"{removed} sentence{'s' if removed > 1 else ''} the articles don't support removed")
    if invalid:
        shown = ", ".join(f"[{n}]" for n in invalid)
        notes.append(f"citation{'s' if len(invalid) > 1 else ''} {shown} to no passage dropped")
    if not notes:
        return None
    text = "; ".join(notes) + "."
    return text[0].upper() + text[1:]
