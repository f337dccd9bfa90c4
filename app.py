"""The web chat: a thin Gradio UI over ``assistant.ask``.

Scope: layout, streaming, the sources panel, the document view and the ``/ask`` API
endpoint. Non-goals: retrieval, answering, abstention; those live in ``assistant``.

Everything that comes from the document or the user is escaped before it reaches
HTML or Markdown, so a ``<script>`` in a question or a corpus line shows as text.

Run: ``python app.py`` (host/port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT).
Import: ``build_app()`` returns the ``gr.Blocks`` without launching it.
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage reporting, no version check over the network.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import html
import json
import logging
import re
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import Answer, AssistantError, Citation, QuestionError, Settings, ask

log = logging.getLogger("app")

EXAMPLES_FILE = "examples.json"  # {"examples": [...]} beside the documents in the corpus folder
WARM_UP_QUESTION = "What is this document about?"
CONTEXT_CHARS = 180  # document text shown on each side of a cited passage
STREAM_WORDS = 3  # words per streamed chunk
STREAM_DELAY = 0.03  # seconds between chunks: fast, but visibly streaming
SOURCES_PLACEHOLDER = (
    '<div class="sources-empty">Sources appear here with each answer: the cited '
    "sentences, the answer highlighted, and where they sit in the document.</div>"
)

CSS = """
.sources-panel { max-height: 78vh; overflow-y: auto; }
.sources-empty { color: var(--body-text-color-subdued); padding: 0.5rem 0; }
.sources-title { font-weight: 600; margin: 0 0 0.5rem; }
.sources-title.abstained { color: var(--color-accent); }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 0.6rem 0.75rem; margin-bottom: 0.6rem; background: var(--block-background-fill); }
.source-head { font-size: 0.9rem; margin-bottom: 0.1rem; }
.source-n { font-weight: 700; }
.source-section { font-style: italic; }
.source-meta { display: flex; gap: 0.5rem; font-size: 0.8rem; margin-bottom: 0.3rem;
  color: var(--body-text-color-subdued); }
.source-score { margin-left: auto; font-variant-numeric: tabular-nums; }
.source-body { line-height: 1.5; }
.source-context { color: var(--body-text-color-subdued); }
.source-cited { background: rgba(255, 213, 79, 0.25); border-radius: 3px; }
mark.answer-span { background: #ffd54f; color: #000; padding: 0 2px; border-radius: 3px; }
a.show-in-doc { font-size: 0.85rem; display: inline-block; margin-top: 0.3rem; }
details.doc-view { margin-top: 0.75rem; border-top: 1px solid var(--border-color-primary);
  padding-top: 0.5rem; }
details.doc-view summary { cursor: pointer; font-weight: 600; }
.doc-text { white-space: pre-wrap; max-height: 50vh; overflow-y: auto; line-height: 1.5;
  font-size: 0.9rem; padding: 0.5rem; border: 1px solid var(--border-color-primary);
  border-radius: 6px; margin-top: 0.5rem; }
.doc-text mark.doc-cite { background: rgba(255, 213, 79, 0.45); color: inherit;
  border-radius: 3px; scroll-margin: 4rem; }
.doc-text mark.doc-cite.flash { outline: 2px solid var(--color-accent); }
.doc-text sup { font-weight: 700; }
"""


def theme() -> gr.themes.Base:
    """Gradio's default look, with the complete bold face of its bundled font.

    Its semibold (600) file lacks most capitals, so bold headings rendered as a
    jumble of two fonts; 700 is whole. Local files only: the page fetches nothing.
    """
    font = gr.themes.LocalFont("Source Sans Pro", weights=(400, 700))
    return gr.themes.Default(font=[font, "ui-sans-serif", "system-ui", "sans-serif"])


# Clicking "show in document" opens the document view and scrolls the span into view.
SOURCES_JS = """
element.addEventListener('click', (event) => {
  const link = event.target.closest('a.show-in-doc');
  if (!link) return;
  const target = element.querySelector('#' + link.dataset.target);
  if (!target) return;
  event.preventDefault();
  const details = target.closest('details');
  if (details) details.open = true;
  target.scrollIntoView({block: 'center', behavior: 'smooth'});
  target.classList.add('flash');
  setTimeout(() => target.classList.remove('flash'), 1500);
});
"""

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


# ---- escaping -------------------------------------------------------------------------


def user_markdown(text: str) -> str:
    """User text as Markdown that renders literally.

    Example: '<b>*hi*</b>' -> '&lt;b&gt;\\*hi\\*&lt;/b&gt;'
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def reply_markdown(text: str) -> str:
    """The library's Markdown reply with every HTML tag and entity neutralised.

    Only '&' and '<' are escaped: no tag can open without '<', and '>' must stay
    for the blockquotes. Example: '> a <img src=x> [1]' -> '> a &lt;img src=x> [1]'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;")


def esc(text: str) -> str:
    return html.escape(text, quote=True)


# ---- the document ---------------------------------------------------------------------


@lru_cache(maxsize=16)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def document_text(settings: Settings, source: str) -> str:
    """The text of corpus file ``source`` (offsets in citations index into it)."""
    return _read((settings.corpus_dir / source).resolve())


def document_title(settings: Settings) -> tuple[str, str]:
    """(title, file name): the first non-empty line of the first corpus file."""
    files = sorted(
        p for p in settings.corpus_dir.glob("*") if p.suffix in {".txt", ".md"} and p.is_file()
    )
    if not files:
        return "the documents", ""
    for line in _read(files[0].resolve()).splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip(), files[0].name
    return files[0].stem, files[0].name


# ---- the sources panel ----------------------------------------------------------------


def highlight(text: str, span: str, *, css: str = "answer-span") -> str:
    """Escaped ``text`` with the first case-insensitive occurrence of ``span`` in <mark>.

    Example: ('Acme lost <3.8 bn', '3.8 bn') -> 'Acme lost &lt;<mark ...>3.8 bn</mark>'
    """
    i = text.lower().find(span.lower()) if span else -1
    if i < 0:
        return esc(text)
    j = i + len(span)
    return f'{esc(text[:i])}<mark class="{css}">{esc(text[i:j])}</mark>{esc(text[j:])}'


def surrounding(doc: str, start: int, end: int, width: int = CONTEXT_CHARS) -> tuple[str, str]:
    """Up to ``width`` characters of the same paragraph before and after ``doc[start:end]``.

    Cut at a word boundary and marked with '…' where the paragraph goes on.
    """
    para_start = doc.rfind("\n", 0, start) + 1
    para_end = doc.find("\n", end)
    para_end = len(doc) if para_end < 0 else para_end
    lo, hi = max(para_start, start - width), min(para_end, end + width)
    before, after = doc[lo:start], doc[end:hi]
    if lo > para_start:
        before = "…" + before.split(" ", 1)[-1]
    if hi < para_end:
        after = after.rsplit(" ", 1)[0] + "…"
    return before, after


def _anchor(c: Citation) -> str:
    return f"ask-doc-{c.n}"


def render_source(c: Citation, answer: Answer, doc: str | None) -> str:
    """One cited passage: number, section, score, the answer marked, some context."""
    span = "" if answer.abstained else answer.answer
    body = f'<span class="source-cited">{highlight(c.text, span)}</span>'
    if doc is not None and doc[c.start : c.end] == c.text:
        before, after = surrounding(doc, c.start, c.end)
        body = (
            f'<span class="source-context">{esc(before)}</span>{body}'
            f'<span class="source-context">{esc(after)}</span>'
        )
        link = (
            f'<a class="show-in-doc" href="#{_anchor(c)}" data-target="{_anchor(c)}">'
            "Show in the document ↓</a>"
        )
    else:
        link = ""
    return (
        '<div class="source-card">'
        f'<div class="source-head"><span class="source-n">[{c.n}]</span> '
        f'<span class="source-section">{esc(c.section or "(no section)")}</span></div>'
        f'<div class="source-meta"><span class="source-file">{esc(c.source)}</span>'
        f'<span class="source-score" title="support score, 0 to 1">score {c.score:.2f}</span>'
        "</div>"
        f'<div class="source-body">{body}</div>{link}</div>'
    )


def render_document(source: str, doc: str, citations: list[Citation], answer: Answer) -> str:
    """The whole document, escaped, with each cited span marked in place (by offset)."""
    span = "" if answer.abstained else answer.answer
    parts: list[str] = []
    pos = 0
    for c in sorted(citations, key=lambda c: c.start):
        if c.start < pos or doc[c.start : c.end] != c.text:
            continue  # overlapping or stale span: leave the text unmarked
        parts.append(esc(doc[pos : c.start]))
        parts.append(
            f'<mark class="doc-cite" id="{_anchor(c)}"><sup>[{c.n}]</sup> '
            f"{highlight(c.text, span)}</mark>"
        )
        pos = c.end
    parts.append(esc(doc[pos:]))
    return (
        '<details class="doc-view">'
        f"<summary>The whole document: {esc(source)} (cited passages highlighted)</summary>"
        f'<div class="doc-text">{"".join(parts)}</div></details>'
    )


def render_sources(answer: Answer, settings: Settings) -> str:
    """The sources panel for one reply (all text escaped)."""
    if not answer.citations:
        return '<div class="sources-empty">No passages to show for this question.</div>'
    docs: dict[str, str | None] = {}
    for c in answer.citations:
        if c.source not in docs:
            try:
                docs[c.source] = document_text(settings, c.source)
            except (OSError, UnicodeDecodeError):
                log.warning("can't read %s for the document view", c.source)
                docs[c.source] = None
    if answer.abstained:
        title = (
            '<p class="sources-title abstained">The document doesn\'t answer this. '
            "The closest passages:</p>"
        )
    else:
        title = '<p class="sources-title">Sources</p>'
    cards = "".join(render_source(c, answer, docs[c.source]) for c in answer.citations)
    views = "".join(
        render_document(source, doc, [c for c in answer.citations if c.source == source], answer)
        for source, doc in docs.items()
        if doc is not None
    )
    return f"{title}{cards}{views}"


# ---- events ---------------------------------------------------------------------------


def _chunks(text: str, words: int = STREAM_WORDS) -> Iterator[str]:
    """Growing prefixes of ``text``, a few words at a time, ending with ``text``."""
    bounds = [m.end() for m in re.finditer(r"\S+\s*", text)]
    for i in range(words - 1, len(bounds), words):
        yield text[: bounds[i]]
    if not bounds or len(bounds) % words:
        yield text


def _preview(question: str, limit: int = 300) -> str:
    if len(question) <= limit:
        return question
    return f"{question[:limit]}… ({len(question):,} characters)"


def make_respond(settings: Settings):
    """The chat handler: streams the reply, then fills the sources panel."""

    def respond(
        message: str, chat: list[dict[str, Any]], turns: list[dict[str, str]]
    ) -> Iterator[tuple[Any, ...]]:
        message = message or ""
        if not message.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat = [*chat, {"role": "user", "content": user_markdown(_preview(message))}]
        yield "", [*chat, {"role": "assistant", "content": "…"}], turns, gr.skip()
        try:
            answer = ask(message, history=turns, settings=settings)
        except QuestionError as exc:
            # keep the question in the box so it can be shortened or fixed
            reply = f"⚠️ {user_markdown(str(exc))}"
            yield message, [*chat, {"role": "assistant", "content": reply}], turns, gr.skip()
            return
        except AssistantError as exc:
            reply = f"⚠️ {user_markdown(str(exc))}"
            yield message, [*chat, {"role": "assistant", "content": reply}], turns, gr.skip()
            return
        except Exception:  # a bug must not take the page down: say so, log the details
            log.exception("ask failed for %r", message[:200])
            reply = "⚠️ Something went wrong answering that; the details are in the server log."
            yield message, [*chat, {"role": "assistant", "content": reply}], turns, gr.skip()
            return
        reply = reply_markdown(answer.text)
        for partial in _chunks(reply):
            yield (
                gr.skip(),
                [*chat, {"role": "assistant", "content": partial}],
                gr.skip(),
                gr.skip(),
            )
            time.sleep(STREAM_DELAY)
        turns = [
            *turns,
            {"role": "user", "content": message},
            {"role": "assistant", "content": answer.text},
        ]
        chat = [*chat, {"role": "assistant", "content": reply}]
        yield gr.skip(), chat, turns, render_sources(answer, settings)

    return respond


def make_api(settings: Settings):
    """The ``/ask`` endpoint: question (+ optional history) -> ``Answer.to_dict()``."""

    def api_ask(question: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Answer a question about the document.

        Args:
            question: the question, at most 1000 characters.
            history: earlier turns, [{"role": "user"|"assistant", "content": "..."}, ...].
        Returns:
            {"answer", "text", "abstained", "citations": [{"n", "text", "source", "start",
            "end", "section", "score"}], "question", "answer_type", "query"}
        """
        try:
            return ask(question, history=history or None, settings=settings).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return api_ask


def new_chat() -> tuple[str, list[Any], list[Any], str]:
    return "", [], [], SOURCES_PLACEHOLDER


# ---- the page -------------------------------------------------------------------------


def example_questions(settings: Settings) -> list[str]:
    """Example questions kept with the corpus (data, not code); [] when there are none."""
    try:
        data = json.loads((settings.corpus_dir / EXAMPLES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    examples = data.get("examples") if isinstance(data, dict) else None
    return [q for q in examples or [] if isinstance(q, str) and q.strip()][:6]


def build_app(settings: Settings | None = None) -> gr.Blocks:
    """The chat page and the ``/ask`` API, unlaunched; launch with ``css=CSS, theme=theme()``."""
    settings = settings or Settings.from_env()
    title, file_name = document_title(settings)
    with gr.Blocks(title="Ask the document", analytics_enabled=False) as demo:
        gr.HTML(
            f'<h1 style="margin-bottom:0.2rem">Ask the article: {esc(title)}</h1>'
            '<p style="margin-top:0">Ask in plain English; answers come only from '
            f"<code>{esc(file_name)}</code>, offline, with the exact sentences they rest "
            "on, and the assistant says so when the document doesn't.</p>",
            js_on_load=None,
        )
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    height=520,
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],  # "$5 and $6" is money, not maths
                    feedback_options=None,
                    placeholder="Ask a question below, or click an example.",
                )
                with gr.Row():
                    msg = gr.Textbox(
                        placeholder="Ask a question about the article…",
                        show_label=False,
                        scale=5,
                        autofocus=True,
                        submit_btn="Ask",
                        elem_id="question",
                    )
                    clear = gr.Button("New chat", scale=1, variant="secondary")
                examples = gr.Examples(
                    example_questions(settings) or [WARM_UP_QUESTION],
                    inputs=[msg],
                    label="Examples",
                )
            with gr.Column(scale=2, elem_classes=["sources-panel"]):
                sources = gr.HTML(
                    SOURCES_PLACEHOLDER,
                    label="Sources",
                    js_on_load=SOURCES_JS,
                    elem_id="sources",
                )

        respond = make_respond(settings)
        io = {
            "fn": respond,
            "inputs": [msg, chatbot, turns],
            "outputs": [msg, chatbot, turns, sources],
            "api_visibility": "private",
        }
        # a follow-up sent while a reply still streams runs right after it, not lost
        msg.submit(**io, trigger_mode="always_last")
        examples.load_input_event.then(**io)
        clear.click(new_chat, outputs=[msg, chatbot, turns, sources], api_visibility="private")
        gr.api(make_api(settings), api_name="ask")
    return demo


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per health check
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    settings = Settings.from_env()
    log.info("Loading the index and the model from %s ...", settings.index_dir)
    started = time.perf_counter()
    try:
        ask(WARM_UP_QUESTION, settings=settings)  # the index and model load once, here
    except AssistantError as exc:
        log.error("%s", exc)
        raise SystemExit(1) from None
    log.info("Index and model loaded in %.1f s", time.perf_counter() - started)
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=2, max_size=32)
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        css=CSS,
        theme=theme(),
        footer_links=["api"],
    )
    log.info("Ready: http://%s:%d", host, port)
    try:
        demo.block_thread()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
