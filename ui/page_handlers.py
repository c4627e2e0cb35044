"""The chat page's event handlers: a question in, the streamed answer, 👍/👎, clear, and ``/ask``.

``ChatHandlers`` is kept apart from the layout (``ui.gradio_app``) so tests can
call it directly. A session's chat is a list of turns; the chatbot's messages are
derived from it (``_messages``) and the engine sees the last few (``_engine_history``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from rag.errors import InvalidQuestionError, RagError
from rag.types import Answer
from ui.feedback import FeedbackStore
from ui.html import escape_text, render_answer, render_error, render_hint, render_sources, render_streaming

try:
    import gradio as gr
except ImportError:  # the bare package works without the [ui] extra
    gr = None

log = logging.getLogger("rag.ui")  # the page's one logger, shared with ui.gradio_app

HISTORY_TURNS = 3
MAX_TURNS = 50
UNEXPECTED_ERROR = "Sorry, something went wrong while answering. The error was logged; please try again."


def _messages(turns: list[dict[str, Any]]) -> tuple[list[dict[str, str]], dict[int, int]]:
    """Chat messages for ``turns`` and a map from message index to turn index."""
    messages: list[dict[str, str]] = []
    owner: dict[int, int] = {}
    for i, turn in enumerate(turns):
        if turn["question"]:
            messages.append({"role": "user", "content": escape_text(turn["question"])})
        owner[len(messages)] = i
        messages.append({"role": "assistant", "content": turn["html"]})
    return messages, owner


def _engine_history(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    history: list[dict[str, str]] = []
    for turn in [t for t in turns if t.get("answer")][-HISTORY_TURNS:]:
        history.append({"role": "user", "content": turn["question"]})
        history.append({"role": "assistant", "content": turn["answer"]["text"]})
    return history


class ChatHandlers:
    """The page's event handlers, kept apart from the layout so tests can call them.

    A session's chat lives in a list of turns (``gr.State``), each
    ``{"id", "question", "answer" (Answer dict or None), "error", "html"}``; the
    chatbot's messages are derived from it, and ``id`` ties markers to sources.

    Args:
        assistant: The engine (``rag.Assistant`` or anything with ``stream``/``ask``).
        feedback: Where 👍/👎 ratings go.
    """

    def __init__(self, assistant: Any, feedback: FeedbackStore) -> None:
        self.assistant = assistant
        self.feedback = feedback

    def add_question(self, message: str, turns: list[dict[str, Any]] | None) -> tuple[Any, ...]:
        """Show the question at once (before the queue); lock the input until it is answered.

        Returns:
            Updates for (question box, send button, chat, turns).
        """
        turns = list(turns or [])
        turn_id = turns[-1]["id"] + 1 if turns else 0  # stable: old turns are dropped past MAX_TURNS
        turns = turns[-(MAX_TURNS - 1) :]
        question = message if isinstance(message, str) else ""
        turns.append(
            {
                "id": turn_id,
                "question": question.strip(),
                "answer": None,
                "error": None,
                "html": render_streaming(""),
            }
        )
        locked = gr.update(interactive=False)
        return gr.update(value="", interactive=False), locked, _messages(turns)[0], turns

    def respond(self, turns: list[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
        """Answer the last turn as it streams in.

        Yields:
            Updates for (chat, sources panel, turns, question box, send button); the
            last one fills the sources panel and unlocks the input.
        """
        turns = list(turns or [])
        unlocked = gr.update(interactive=True)
        if not turns or turns[-1]["answer"] is not None or turns[-1]["error"] is not None:
            yield gr.skip(), gr.skip(), gr.skip(), unlocked, unlocked
            return
        turn = turns[-1] = dict(turns[-1])
        history = _engine_history(turns[:-1])
        text = ""
        try:
            for event in self.assistant.stream(turn["question"], history=history):
                if isinstance(event, Answer):
                    turn["answer"] = event.to_dict()
                    turn["html"] = render_answer(turn["answer"], turn["id"])
                else:
                    text += event
                    turn["html"] = render_streaming(text)
                    yield _messages(turns)[0], gr.skip(), turns, gr.skip(), gr.skip()
            if turn["answer"] is None:
                turn["error"] = UNEXPECTED_ERROR
                log.error("The assistant ended without an Answer for %r", turn["question"])
        except InvalidQuestionError as e:
            # "?", an empty or an overlong question: ask for a question, cite nothing.
            turn["error"] = e.message
            turn["invalid"] = True
            log.info("Question refused: %s", e.message)
        except RagError as e:
            turn["error"] = e.message
            log.info("Question failed: %s", e.message)
        except Exception:
            turn["error"] = UNEXPECTED_ERROR
            log.exception("Answering %r failed", turn["question"])
        if turn["error"]:
            turn["html"] = render_hint(turn["error"]) if turn.get("invalid") else render_error(turn["error"])
        yield _messages(turns)[0], render_sources(turns), turns, unlocked, unlocked

    def like(self, turns: list[dict[str, Any]] | None, data: gr.LikeData) -> None:
        """Store a 👍/👎 with the question, the answer and its citations."""
        turns = turns or []
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        i = _messages(turns)[1].get(index)
        if i is None:
            log.warning("Feedback for unknown message %r ignored", data.index)
            return
        turn = turns[i]
        answer = turn.get("answer") or {}
        rating = _rating(data.liked)
        self.feedback.add(
            rating=rating,
            question=turn["question"],
            answer=answer.get("text", turn.get("error") or ""),
            citations=answer.get("citations", []),
            abstained=answer.get("abstained"),
            mode=answer.get("mode"),
            error=turn.get("error"),
        )
        log.info("Feedback %s stored in %s", rating, self.feedback.path)

    def clear(self) -> tuple[list, str]:
        """Forget the session's turns and empty the sources panel."""
        return [], render_sources([])

    def ask(self, question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Answer a question from the articles; returns the Answer as a JSON object.

        ``history`` is the chat so far, ``[{"role": "user" | "assistant", "content": ...}]``,
        so that a follow-up ("And when?") is understood; its ``resolved_question`` says how.
        """
        turns = [
            {"role": t["role"], "content": t["content"]}
            for t in (history if isinstance(history, list) else [])
            if isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        ][-2 * HISTORY_TURNS :]
        try:
            return self.assistant.ask(question, history=turns or None).to_dict()
        except RagError as e:
            raise gr.Error(e.message, print_exception=False) from None
        except Exception:
            log.exception("API question %r failed", question)
            raise gr.Error(UNEXPECTED_ERROR, print_exception=False) from None


def _rating(liked: bool | str | None) -> str:
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return {"like": "up", "dislike": "down"}.get(str(liked).lower(), str(liked))
