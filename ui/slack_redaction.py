"""Keeps Slack tokens and secrets out of the logs: ``LogRedactor`` filters every log record."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

_TOKEN_RE = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
# The legacy verification token sits in every Events API body, which Bolt may log.
_BODY_TOKEN_RE = re.compile(r"""(["']token["']\s*:\s*["'])[^"']*""")


class LogRedactor:
    """Removes Slack tokens and given secrets from every log record.

    Installed as the log record factory, so it covers every handler, including
    ones added later; messages are formatted early and exception text is
    pre-rendered so neither can leak a secret.

    Args:
        secrets: Exact strings to hide (tokens, the signing secret); empty
            values are ignored. Anything shaped like ``xoxb-…``/``xapp-…``
            and the ``"token"`` field of logged request bodies are hidden too.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = {s for s in secrets if s}
        self._previous: Callable[..., logging.LogRecord] | None = None

    def redact(self, text: str) -> str:
        """Return ``text`` with secrets and token-shaped strings replaced."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        text = _BODY_TOKEN_RE.sub(r"\1[redacted]", text)
        return _TOKEN_RE.sub(r"\1-[redacted]", text)

    def install(self) -> LogRedactor:
        """Make this the log record factory (wrapping the current one)."""
        if self._previous is None:
            self._previous = logging.getLogRecordFactory()
            logging.setLogRecordFactory(self._make_record)
        return self

    def uninstall(self) -> None:
        """Restore the factory that was in place before ``install()``."""
        if self._previous is not None:
            logging.setLogRecordFactory(self._previous)
            self._previous = None

    def _make_record(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        assert self._previous is not None
        record = self._previous(*args, **kwargs)
        try:
            record.msg = self.redact(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = self.redact(record.stack_info)
        except Exception:  # noqa: BLE001, S110 - a malformed log call must still be logged, not raise here
            pass
        return record
