"""How the chat page looks: its CSS, its Gradio theme, and the page's own JavaScript.

``ui.gradio_app`` lays the page out with these; nothing here handles a question.
``SOURCES_JS`` carries the CSS in (``__CSS__``) and wires the [n] markers to the
sources panel in plain JS; ``FOCUS_JS`` puts the caret back after each answer.
"""

from __future__ import annotations

from typing import Any

try:
    import gradio as gr
except ImportError:  # the bare package works without the [ui] extra
    gr = None

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
