"""When the chat model fails: the errors, and a one-line, secret-free notice for the reader."""

from __future__ import annotations

import logging

from rag.generation.chat_models import redact

log = logging.getLogger("rag.generation.answerer")


class LLMUnavailableError(Exception):
    """The chat model failed; ``notice`` says how, in one line without secrets."""

    def __init__(self, notice: str) -> None:
        super().__init__(notice)
        self.notice = notice


class IncompleteReplyError(Exception):
    """The stream ended without the provider's end-of-reply signal."""


def describe_failure(error: BaseException, timeout: float) -> str:
    """A one-line, secret-free notice for a failed LLM call.

    Args:
        error: What the client raised.
        timeout: The configured timeout in seconds, for the message.

    Returns:
        e.g. ``"The language model didn't answer within 60 s; showing quotes from the articles instead."``
    """
    if isinstance(error, LLMUnavailableError):
        return error.notice
    names = {cls.__name__ for cls in type(error).__mro__}
    tail = "; showing quotes from the articles instead."
    if isinstance(error, TimeoutError) or any("Timeout" in n for n in names):
        return f"The language model didn't answer within {timeout:g} s{tail}"
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        hint = " (check OPENAI_API_KEY)" if status in (401, 403) else ""
        return f"The language model returned HTTP {status}{hint}{tail}"
    if any("Connect" in n for n in names) or isinstance(error, ConnectionError):
        return f"The language model couldn't be reached{tail}"
    if isinstance(error, IncompleteReplyError) or any("Decode" in n for n in names):
        return f"The language model's reply was malformed or cut off{tail}"
    return f"The language model failed ({type(error).__name__}){tail}"


def report_failure(error: BaseException, timeout: float, doing: str) -> str:
    """Log ``error`` (redacted) and return the reader's notice for it (``describe_failure``).

    Args:
        error: What the client raised.
        timeout: The configured timeout in seconds.
        doing: What the model was asked to do, for the log, e.g. ``"answering"``.
    """
    log.warning(
        "The chat model failed while %s: %s: %s", doing, type(error).__name__, redact(str(error))[:300]
    )
    return describe_failure(error, timeout)
