"""What the Slack bot does with an event: read the thread, ask the engine, post the reply.

``SlackBot`` turns ``app_mention`` and direct ``message`` events into questions
(with the thread's earlier messages as history), drops Slack's retries and
duplicate deliveries, and apologises when answering fails. ``ui.slack_bot``
wires it into a Bolt app.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from rag.assistant import Assistant
from rag.errors import InvalidQuestionError, RagError
from ui.slack_format import (
    SlackMessage,
    answer_message,
    apology_message,
    question_message,
    slack_to_plain,
    thread_history,
)

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger("ui.slack_bot")  # one logger for the whole bot, whichever module logs

WORKING_REACTION = "hourglass_flowing_sand"
# Message subtypes that are a person writing something new.
_USER_SUBTYPES = (None, "file_share", "thread_broadcast")


class _Seen:
    """A bounded, thread-safe set of keys already handled."""

    def __init__(self, size: int = 5000) -> None:
        self._keys: OrderedDict[Hashable, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, key: Hashable) -> bool:
        """Record ``key``; True if it had not been seen before."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


class SlackBot:
    """Turns Slack events into questions for the ``Assistant`` and posts replies.

    Args:
        assistant: The engine. A reply in a thread is answered with the thread's
            earlier messages as history, so follow-ups are understood (offline,
            or by the chat model when one is configured).
        history_limit: Most earlier thread messages passed to the engine.
        reaction: Emoji added to the question while the bot works on it.
    """

    def __init__(
        self, assistant: Assistant, *, history_limit: int = 20, reaction: str = WORKING_REACTION
    ) -> None:
        self.assistant = assistant
        self.history_limit = history_limit
        self.reaction = reaction
        self._seen_events = _Seen()
        self._seen_messages = _Seen()

    def is_new_delivery(self, headers: dict[str, Any], body: dict[str, Any]) -> bool:
        """False for Slack retries and for events already delivered."""
        retry = headers.get("x-slack-retry-num")
        if retry:
            reason = headers.get("x-slack-retry-reason") or ["?"]
            log.info("Ignoring Slack retry %s (%s) of event %s", retry[0], reason[0], body.get("event_id"))
            return False
        event_id = body.get("event_id")
        if event_id and not self._seen_events.first_time(event_id):
            log.info("Ignoring duplicate delivery of event %s", event_id)
            return False
        return True

    def handle(
        self, event: dict[str, Any], client: WebClient, bot_user_id: str | None, bot_id: str | None
    ) -> None:
        """Answer one ``app_mention`` or direct ``message`` event in its thread."""
        if event.get("type") == "message" and event.get("channel_type") != "im":
            return
        if event.get("subtype") not in _USER_SUBTYPES or event.get("bot_id"):
            return
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        if not user or not channel or not ts or user == bot_user_id:
            return
        if not self._seen_messages.first_time((channel, ts)):
            return  # e.g. the same message arriving as app_mention and message.im
        thread_ts = event.get("thread_ts") or ts
        question = slack_to_plain(event.get("text") or "")
        log.info("Question in %s (thread %s): %d characters", channel, thread_ts, len(question))
        reacted = self._react(client, "reactions_add", channel, ts)
        try:
            message = self._answer(client, question, channel, ts, event.get("thread_ts"), bot_user_id, bot_id)
            self._post(client, channel, thread_ts, message)
        except Exception as e:  # noqa: BLE001 - every failure gets an apology, none a traceback
            self._fail(client, channel, thread_ts, e)
        finally:
            if reacted:
                self._react(client, "reactions_remove", channel, ts)

    def _answer(
        self,
        client: WebClient,
        question: str,
        channel: str,
        ts: str,
        thread_ts: str | None,
        bot_user_id: str | None,
        bot_id: str | None,
    ) -> SlackMessage:
        try:
            # The thread's earlier messages let a follow-up ("And when?") be understood,
            # offline or by the chat model.
            history = self._history(client, channel, thread_ts, ts, bot_user_id, bot_id)
            answer = self.assistant.ask(question, history=history or None)
        except InvalidQuestionError as e:
            return question_message(e.message)  # "?" or an empty mention: ask for a question, cite nothing
        return answer_message(answer)

    def _history(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        ts: str,
        bot_user_id: str | None,
        bot_id: str | None,
    ) -> list[dict[str, str]]:
        if not thread_ts:
            return []
        from slack_sdk.errors import SlackApiError, SlackClientError  # the optional [slack] extra

        try:
            resp = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        except (SlackApiError, SlackClientError, OSError) as e:
            log.warning(
                "Could not read thread %s in %s, answering without history: %s", thread_ts, channel, e
            )
            return []
        messages = resp.get("messages") or []
        return thread_history(
            messages, before_ts=ts, bot_user_id=bot_user_id, bot_id=bot_id, limit=self.history_limit
        )

    def _post(self, client: WebClient, channel: str, thread_ts: str, message: SlackMessage) -> None:
        client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )

    def _fail(self, client: WebClient, channel: str, thread_ts: str, error: Exception) -> None:
        from slack_sdk.errors import SlackApiError  # the optional [slack] extra

        if isinstance(error, RagError):
            log.error("Could not answer in %s (thread %s): %s", channel, thread_ts, error.message)
        elif isinstance(error, SlackApiError):
            code = error.response.get("error") if error.response is not None else error
            log.error("Could not answer in %s (thread %s): Slack API error %s", channel, thread_ts, code)
        else:  # a bug: keep the traceback in the log (never in Slack)
            log.exception("Could not answer in %s (thread %s): %s", channel, thread_ts, type(error).__name__)
        try:
            self._post(client, channel, thread_ts, apology_message())
        except Exception as e:  # noqa: BLE001
            log.error("Could not post the apology in %s (thread %s): %s", channel, thread_ts, e)

    def _react(self, client: WebClient, method: str, channel: str, ts: str) -> bool:
        try:
            getattr(client, method)(channel=channel, timestamp=ts, name=self.reaction)
            return True
        except Exception as e:  # noqa: BLE001 - the reaction is a courtesy; it must not stop the answer
            log.debug("%s failed in %s: %s", method, channel, e)
            return False
