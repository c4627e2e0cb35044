"""The chat page: ``create_app()`` builds it, ``launch()`` only starts it.

The page renders the same ``Answer`` as the Python API. Answers are shown as
escaped HTML (``ui.html``) so article text can never inject markup; each [n]
marker is a link that opens its passage in the sources panel (plain JS, no
server round trip). The same engine is exposed to API clients as ``/ask``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import InvalidQuestionError, MissingDependencyError, RagError
from ui.feedback import FeedbackStore
from ui.html import escape_text, render_answer, render_error, render_hint, render_sources, render_streaming

try:
    import gradio as gr
except ImportError:  # the bare package works without the [ui] extra
    gr = None

if TYPE_CHECKING:
    from rag.assistant import Assistant

log = logging.getLogger("rag.ui")

EXAMPLES = [
    "How much faster was the AI scene?",
    "Wann wurde Oesterheld verhaftet?",
    "Und was geschah mit seinen Töchtern?",
    "Who won the 2022 football World Cup?",
]
"""What the page offers to ask: English, German, a follow-up (to the German one), and one the
articles don't cover. Each was checked against the real engine (tests/integration/test_page_trust.py):
a right, cited answer that says something on its own, or a plain "not covered"."""
ENGINE_CONCURRENCY = 16
"""Questions answered at once (page and API share the slots); more wait in Gradio's queue.

The engine is safe to call from many threads: loading is behind its lock, the
embedding model, the lexicon and the keyword index lock themselves, and the
rest of retrieval reads. Extractive answers are CPU-bound (the GIL runs one at
a time, so more slots don't add throughput); answers from a chat model mostly
wait on it, and those gain from every slot. 16 of Gradio's ``WORKER_THREADS``
leave the rest for the page's unqueued handlers (showing the question at once).
"""
WORKER_THREADS = 40
HISTORY_TURNS = 3
MAX_TURNS = 50
UNEXPECTED_ERROR = "Sorry, something went wrong while answering. The error was logged; please try again."

# Colours come from the theme's variables, which Gradio switches with the
# browser's colour scheme; the theme below sets them so that every text keeps
# a contrast of at least 4.5:1 in light and dark (tests/integration/test_page_trust.py).
CSS = """
.rag-answer { line-height: 1.55; }
.rag-answer .rag-understood, .rag-answer .rag-lang, .rag-answer .rag-notice {
  font-size: .85em; color: var(--body-text-color-subdued); margin: .15em 0 .35em; }
.rag-answer .rag-notice { font-style: italic; margin-top: .5em; }
.rag-answer .rag-lang { margin-top: .4em; }
.rag-answer .rag-span { margin-bottom: .3em; }
.rag-answer .rag-span-value { font-size: 1.25em; font-weight: 700; color: var(--body-text-color); }
.rag-answer .rag-declined { font-weight: 600; margin-bottom: .35em; }
.rag-answer .rag-cites { font-size: .85em; margin-top: .6em; display: flex; flex-direction: column;
                         gap: .25em; }
.rag-answer .cite-title { font-weight: 500; }
.rag-answer .cite-loc { font-size: .88em; font-weight: 400; color: var(--body-text-color-subdued);
                        font-family: var(--font-mono, monospace); margin-left: .25em; white-space: nowrap; }
.rag-cursor { color: var(--body-text-color-subdued); }
#rag-chat a.cite { cursor: pointer; color: var(--link-text-color); font-weight: 600; text-decoration: none;
                   border-radius: 4px; padding: 0 .15em; }
#rag-chat a.cite:hover, #rag-chat a.cite:focus-visible { background: var(--color-accent-soft);
                   color: var(--link-text-color-hover); text-decoration: underline; }
.rag-error { color: var(--error-text-color); }
.rag-error.rag-hint { color: var(--body-text-color); }
#rag-sources { display: flex; flex-direction: column; gap: .6em; }
#rag-sources .src-question { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .4em; }
#rag-sources .src-empty, #rag-sources .src-none { color: var(--body-text-color-subdued); font-size: .9em; }
#rag-sources .src-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
                         padding: .45em .7em; margin-bottom: .5em; background: var(--block-background-fill); }
#rag-sources .src-card.active { border-color: var(--color-accent);
                                box-shadow: 0 0 0 2px var(--color-accent-soft); }
#rag-sources summary { cursor: pointer; font-size: .9em; color: var(--body-text-color); }
#rag-sources .src-n { font-weight: 700; }
#rag-sources .src-title { font-weight: 600; }
#rag-sources .src-meta, .rag-answer .src-meta { white-space: nowrap; font-weight: 400; }
#rag-sources .src-loc { font-size: .85em; color: var(--body-text-color-subdued); }
#rag-sources .src-title + .src-loc { display: block; margin: .1em 0 0 1.6em; }
#rag-sources .src-file { font-family: var(--font-mono, monospace); }
#rag-sources .src-passage { margin-top: .5em; max-height: 20em; overflow-y: auto; font-size: .9em;
                            line-height: 1.55; white-space: normal; color: var(--body-text-color); }
/* The highlighted quote: a stronger tint than --color-accent-soft where the page is light. */
#rag-sources { --rag-mark-background: var(--primary-200); }
.dark #rag-sources { --rag-mark-background: var(--color-accent-soft); }
#rag-sources mark { background: var(--rag-mark-background); color: var(--body-text-color);
                    padding: .05em .1em; border-radius: 3px; box-decoration-break: clone; -webkit-box-decoration-break: clone; }
#rag-sources mark .src-answer { font-weight: 700; color: var(--body-text-color); }
"""


def page_theme() -> Any:
    """Gradio's default theme in orange, with the colours the page's texts need for 4.5:1 contrast.

    Gradio's own defaults fall short in places: subdued text (the footer) and
    placeholders are neutral-400 on white (2.6:1) and white on the orange
    button is 2.8:1. The highlighted quote is ``--body-text-color`` on
    ``--primary-200`` (light) or ``--color-accent-soft`` (dark).
    """
    return gr.themes.Default(primary_hue="orange").set(
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
        color_accent_soft="*primary_100",
        color_accent_soft_dark="*primary_900",
        link_text_color="*primary_800",
        link_text_color_dark="*primary_300",
        link_text_color_hover="*primary_900",
        link_text_color_hover_dark="*primary_200",
        link_text_color_active="*primary_800",
        link_text_color_active_dark="*primary_300",
        link_text_color_visited="*primary_800",
        link_text_color_visited_dark="*primary_300",
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_border_color="*primary_700",
        button_primary_border_color_dark="*primary_700",
    )


# After each answer: put the caret back in the question box, so the next
# question can be typed straight away. The box is re-enabled by the same
# update that ends the answer, so wait (a few frames at most) until it is.
FOCUS_JS = r"""
() => {
  const started = performance.now();
  const focus = () => {
    const box = document.querySelector('#rag-question textarea');
    if (box && !box.disabled) { box.focus(); return; }
    if (performance.now() - started < 3000) requestAnimationFrame(focus);
  };
  requestAnimationFrame(focus);
}
"""

# Runs once when the sources panel mounts: adds the page style and one
# delegated click handler, so markers in messages rendered later work too.
SOURCES_JS = r"""
if (!window.__ragCitations) {
  window.__ragCitations = true;
  const style = document.createElement('style');
  style.id = 'rag-ui-style';
  style.textContent = __CSS__;
  document.head.appendChild(style);
  const openSource = (turn, n) => {
    const panel = document.getElementById('rag-sources');
    if (!panel) return;
    panel.querySelectorAll('.src-turn').forEach((s) => { s.hidden = s.dataset.turn !== turn; });
    panel.querySelectorAll('.src-card.active').forEach((c) => c.classList.remove('active'));
    const card = panel.querySelector('.src-card[data-turn="' + turn + '"][data-n="' + n + '"]');
    if (!card) return;
    card.open = true;
    card.classList.add('active');
    card.scrollIntoView({block: 'nearest'});
    const box = card.querySelector('.src-passage');
    const mark = card.querySelector('mark');
    if (box && mark) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - 24);
  };
  // Gradio's sanitizer drops data-* attributes in chat messages, so the target rides in a class.
  const target = (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.cite') : null;
    const m = a ? /(?:^|\s)cite-(\d+)-(\d+)(?:\s|$)/.exec(a.className) : null;
    return m ? [m[1], m[2]] : null;
  };
  // Capture phase: the chatbot handles clicks on messages itself.
  document.addEventListener('click', (e) => {
    const t = target(e);
    if (t) { e.preventDefault(); openSource(t[0], t[1]); }
  }, true);
  document.addEventListener('keydown', (e) => {
    const t = target(e);
    if (t && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); openSource(t[0], t[1]); }
  }, true);
  // An example fills the box: put the caret there, ready for Enter or an edit.
  document.addEventListener('click', (e) => {
    if (!e.target || !e.target.closest || !e.target.closest('#rag-examples button')) return;
    setTimeout(() => {
      const box = document.querySelector('#rag-question textarea');
      if (box && !box.disabled) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
    }, 50);
  });
}
"""


def _gradio() -> Any:
    if gr is None:
        raise MissingDependencyError("gradio", "ui", "The chat page")
    return gr


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
        from rag.types import Answer

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


def create_app(assistant: Assistant | None = None, settings: Settings | None = None) -> gr.Blocks:
    """Build the chat page (without starting it).

    Args:
        assistant: The engine to answer with; a new ``Assistant(settings)`` if None.
        settings: Settings for the engine and the feedback file; the assistant's
            settings (or the environment) if None.

    Returns:
        The ``gr.Blocks`` app. Start it with ``serve(app, ...)`` or ``launch()``.

    Raises:
        MissingDependencyError: gradio isn't installed.
    """
    _gradio()
    if assistant is None:
        from rag.assistant import Assistant

        assistant = Assistant(settings)
    settings = settings or getattr(assistant, "settings", None) or Settings.from_env()
    h = ChatHandlers(assistant, FeedbackStore(settings.feedback_path))

    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as app:
        turns_state = gr.State([])
        gr.Markdown(
            "## Ask the articles\n"
            "Questions about Netflix's first generative-AI scene in *El Eternauta*, answered from the "
            "articles with citations. Click a **[n]** marker to see the quoted passage."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=560,
                    render_markdown=False,
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=["copy", "copy_all"],
                    elem_id="rag-chat",
                    placeholder="Ask a question about the articles, in English or German.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="How much faster was the AI scene?",
                        show_label=False,
                        scale=5,
                        max_lines=4,
                        elem_id="rag-question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="rag-send")
                gr.Examples(
                    EXAMPLES,
                    inputs=[box],
                    label="Examples: English, German, a follow-up, and one the articles don't cover",
                    elem_id="rag-examples",
                )
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(
                    render_sources([]),
                    js_on_load=SOURCES_JS.replace("__CSS__", json.dumps(CSS)),
                    elem_id="rag-sources-panel",
                )

        for trigger in (box.submit, send.click):
            trigger(
                h.add_question,
                inputs=[box, turns_state],
                outputs=[box, send, chatbot, turns_state],
                queue=False,
                api_visibility="private",
                show_progress="hidden",
            ).then(
                h.respond,
                inputs=[turns_state],
                outputs=[chatbot, sources, turns_state, box, send],
                api_visibility="private",
                concurrency_id="engine",
                concurrency_limit=ENGINE_CONCURRENCY,
                show_progress="hidden",
            ).then(None, js=FOCUS_JS, queue=False, api_visibility="private", show_progress="hidden")
        chatbot.like(h.like, inputs=[turns_state], outputs=None, api_visibility="private")
        chatbot.clear(h.clear, outputs=[turns_state, sources], api_visibility="private")
        gr.api(h.ask, api_name="ask", concurrency_id="engine", concurrency_limit=ENGINE_CONCURRENCY)
    return app


def _rating(liked: bool | str | None) -> str:
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return {"like": "up", "dislike": "down"}.get(str(liked).lower(), str(liked))


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> ``("user", "password")``; None when unset."""
    if not value:
        return None
    user, _, password = value.partition(":")
    return user, password


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warn_if_exposed(host: str, auth: tuple[str, str] | None) -> bool:
    """Log a warning when ``host`` is reachable from other machines and no auth is set.

    Returns:
        True if the warning was logged.
    """
    if auth is not None or is_loopback(host):
        return False
    log.warning(
        "The chat page is bound to %s without a password: anyone who can reach this host can use it. "
        "Set RAG_UI_AUTH=user:password or bind 127.0.0.1.",
        host,
    )
    return True


def serve(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int | None = 7860,
    auth: tuple[str, str] | None = None,
    block: bool = True,
    quiet: bool = False,
) -> str:
    """Start ``app`` with the queue and theme the page expects.

    Args:
        app: From ``create_app()``.
        host: Interface to bind; warns when not loopback and ``auth`` is None.
        port: TCP port; None lets Gradio pick a free one.
        auth: ``(user, password)`` for basic auth, or None.
        block: Wait until interrupted; False returns once the server is up.
        quiet: Don't print the URL banner.

    Returns:
        The local URL of the page.
    """
    _gradio()
    warn_if_exposed(host, auth)
    app.queue(default_concurrency_limit=ENGINE_CONCURRENCY, max_size=256)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Sign in to ask the articles." if auth else None,
        prevent_thread_lock=not block,
        show_error=False,
        quiet=quiet,
        footer_links=["api"],
        theme=page_theme(),
        max_threads=WORKER_THREADS,
    )
    return url


def launch(host: str | None = None, port: int | None = None) -> None:
    """Start the chat page and block (``rag ui``).

    Args:
        host: Overrides ``RAG_UI_HOST`` (default 127.0.0.1).
        port: Overrides ``RAG_UI_PORT`` (default 7860).
    """
    _gradio()
    from rag.assistant import Assistant

    settings = Settings.from_env()
    assistant = Assistant(settings)
    threading.Thread(target=_warm_up, args=(assistant,), name="rag-warm-up", daemon=True).start()
    serve(
        create_app(assistant, settings),
        host=host or settings.ui_host,
        port=port or settings.ui_port,
        auth=parse_auth(settings.ui_auth),
    )


def _warm_up(assistant: Assistant) -> None:
    """Load the model and index before the first visitor asks."""
    try:
        assistant.ask("Netflix")
    except Exception:
        log.debug("Warm-up failed; the first question will show why.", exc_info=True)
