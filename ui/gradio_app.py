"""The chat page: ``create_app()`` lays it out and wires it up, ``serve()``/``launch()`` start it.

The page renders the same ``Answer`` as the Python API. Answers are shown as
escaped HTML (``ui.html``) so article text can never inject markup; each [n]
marker is a link that opens its passage in the sources panel (plain JS, no
server round trip). The same engine is exposed to API clients as ``/ask``.
The look (CSS, theme, JS) is in ``ui.page_style``; the handlers in ``ui.page_handlers``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from typing import Any

from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import MissingDependencyError
from ui.feedback import FeedbackStore
from ui.html import render_sources
from ui.page_handlers import ChatHandlers
from ui.page_style import CSS, FOCUS_JS, SOURCES_JS, page_theme

try:
    import gradio as gr
except ImportError:  # the bare package works without the [ui] extra
    gr = None

log = logging.getLogger("rag.ui")  # the page's one logger, shared with ui.page_handlers

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


def _gradio() -> Any:
    if gr is None:
        raise MissingDependencyError("gradio", "ui", "The chat page")
    return gr


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
