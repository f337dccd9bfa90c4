"""The web chat: a thin Gradio UI over ``assistant.ask``.

Scope: layout, streaming, the sources panel, the document view, the documents panel
(upload, list, remove) and the ``/ask`` API endpoint. Non-goals: retrieval, answering, abstention; those live in ``assistant``.

Everything that comes from the document or the user is escaped before it reaches
HTML or Markdown, so a ``<script>`` in a question or a corpus line shows as text.

Run: ``python app.py`` (host/port from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT).
Import: ``build_app()`` returns the ``gr.Blocks`` without launching it.
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage reporting, no version check over the network.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import gradio as gr

from access_view import Access
from assistant import (
    Answer,
    Assistant,
    AssistantError,
    QuestionError,
    Settings,
    Step,
    ask,
    ask_stream,
    bundle,
)
from assistant.access import Sessions
from assistant.formats import MAX_FILE_BYTES
from library_view import (
    LIMITS,
    UPLOAD_TYPES,
    listing,
    make_add,
    make_remove,
    names,
    render_library,
)
from sources_view import (
    document_title,
    esc,
    render_sources,
    reply_markdown,
    user_markdown,
    verification_note,
)

log = logging.getLogger("app")


def load_reader(settings: Settings) -> None:
    """Load the language model the answerer reads with; if it can't be, say so and go on."""
    try:
        if Assistant(settings).load_reader():
            log.info("Language model reader loaded")
    except AssistantError as exc:  # the fast answers still work; a reading says why not
        log.warning("the language model reader can't be loaded: %s", exc)


EXAMPLES_FILE = "examples.json"  # {"examples": [...]} beside the documents in the corpus folder
WARM_UP_QUESTION = "What is this document about?"
QUOTED = "Quoted from the document"
GENERATED = "Written by the local LLM, then checked"
# The reader radio: label -> Settings.answerer
READERS = {
    "Auto: the language model reads when the fast reader is unsure": "auto",
    "Language model: always reads (a few seconds)": "llm",
    "Fast: no language model": "fast",
}
READING = "Reading the passages…"
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
.source-page { font-style: italic; }
.doc-list { margin: 0.25rem 0; padding-left: 1.2rem; }
.doc-name { font-weight: 600; }
.doc-meta, .doc-skipped { color: var(--body-text-color-subdued); font-size: 0.85rem; }
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


def _chunks(text: str, words: int = STREAM_WORDS) -> Iterator[str]:
    """Growing prefixes of ``text``, a few words at a time, ending with ``text``."""
    bounds = [m.end() for m in re.finditer(r"\S+\s*", text)]
    for i in range(words - 1, len(bounds), words):
        yield text[: bounds[i]]
    if not bounds or len(bounds) % words:
        yield text


class _Tick:
    """Nothing new came for ``TICK_S`` seconds: the page shows how long it has waited."""


TICK_S = 1.0


def _ticking(items: Iterator[Any], every: float = TICK_S) -> Iterator[Any]:
    """``items``, produced on a thread of their own, with a ``_Tick`` after each quiet ``every``.

    The page can then say "Reading the passages… 3 s" while the model reads. An error
    raised by ``items`` is raised here.
    """
    import queue
    import threading

    out: queue.Queue[tuple[str, Any]] = queue.Queue()

    def produce() -> None:
        try:
            for item in items:
                out.put(("item", item))
        except BaseException as exc:  # handed to the consumer, raised there
            out.put(("error", exc))
        out.put(("done", None))

    threading.Thread(target=produce, name="answer", daemon=True).start()
    while True:
        try:
            kind, value = out.get(timeout=every)
        except queue.Empty:
            yield _Tick()
            continue
        if kind == "done":
            return
        if kind == "error":
            raise value
        yield value


def _preview(question: str, limit: int = 300) -> str:
    if len(question) <= limit:
        return question
    return f"{question[:limit]}… ({len(question):,} characters)"


def make_respond(settings: Settings, access: Access | None = None):
    """The chat handler: streams the reply, then fills the sources panel.

    With an LLM configured and the generated style chosen, the LLM's tokens stream in
    as written; when it finishes, the checked reply replaces them, with a line saying
    whether it passed. ``access`` (default: one person's page) may refuse a question.
    """
    access = access or Access.for_host(settings, "127.0.0.1")

    def respond(
        message: str,
        chat: list[dict[str, Any]],
        turns: list[dict[str, str]],
        style: str = QUOTED,
        reader: str | None = None,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        message = message or ""
        if not message.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        refused = access.may_ask(request)
        if refused:  # a limit or a lapsed session: the question stays in the box
            reply = f"⚠️ {user_markdown(refused)}"
            yield message, [*chat, {"role": "assistant", "content": reply}], turns, gr.skip()
            return
        chat = [*chat, {"role": "user", "content": user_markdown(_preview(message))}]
        yield "", [*chat, {"role": "assistant", "content": "…"}], turns, gr.skip()
        run = settings if style == GENERATED else replace(settings, llm=None)
        if style == GENERATED and not run.llm:
            run = replace(run, llm="bundled")
        if reader in READERS and run.answerer != "rules":
            run = replace(run, answerer=READERS[reader])
        answer: Answer | None = None
        draft = ""
        reading_since: float | None = None
        try:
            for item in _ticking(ask_stream(message, history=turns, settings=run, steps=True)):
                if isinstance(item, _Tick):  # the seconds the model has been reading
                    if reading_since is not None and not draft:
                        spent = time.perf_counter() - reading_since
                        line = f"*{READING}* {spent:.0f} s ▌"
                        yield (
                            gr.skip(),
                            [*chat, {"role": "assistant", "content": line}],
                            gr.skip(),
                            gr.skip(),
                        )
                    continue
                if isinstance(item, Answer):
                    answer = item
                    continue
                if isinstance(item, Step):  # the passages as soon as they are found
                    if item.name == "retrieved":
                        found = Answer(message, "", "", False, citations=item.citations)
                        yield gr.skip(), gr.skip(), gr.skip(), render_sources(found, settings)
                    else:
                        reading_since = time.perf_counter()
                        waiting = [*chat, {"role": "assistant", "content": f"*{READING}* ▌"}]
                        yield gr.skip(), waiting, gr.skip(), gr.skip()
                    continue
                draft += item
                bubble = f"{user_markdown(draft)} ▌"
                yield (
                    gr.skip(),
                    [*chat, {"role": "assistant", "content": bubble}],
                    gr.skip(),
                    gr.skip(),
                )
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
        if answer is None:  # pragma: no cover - ask_stream always ends with the Answer
            return
        reply = reply_markdown(answer.text)
        note = verification_note(answer)
        if note:
            reply = f"{reply}\n\n{note}"
        reply = f"{reply}\n\n*{user_markdown(answer.how().capitalize())}.*"
        if not draft:  # nothing streamed from an LLM: stream the quoted reply
            for partial in _chunks(reply):
                yield (
                    gr.skip(),
                    [*chat, {"role": "assistant", "content": partial}],
                    gr.skip(),
                    gr.skip(),
                )
                time.sleep(STREAM_DELAY)
        turns = [*turns, *answer.turns()]
        chat = [*chat, {"role": "assistant", "content": reply}]
        yield gr.skip(), chat, turns, render_sources(answer, settings)

    return respond


def make_api(settings: Settings, access: Access | None = None):
    """The ``/ask`` endpoint: question (+ optional history) -> ``Answer.to_dict()``."""
    access = access or Access.for_host(settings, "127.0.0.1")

    def api_ask(
        question: str,
        history: list[dict[str, Any]] | None = None,
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Answer a question about the document.

        Args:
            question: the question, at most 1000 characters.
            history: earlier turns, [{"role": "user"|"assistant", "content": "..."}, ...];
                an assistant turn may keep its short answer as "answer" (what a follow-up
                is read against), as the "answer" field of the previous reply gives it.
        Returns:
            {"answer", "text", "abstained", "citations": [{"n", "text", "source", "start",
            "end", "section", "score", "page"}], "question", "answer_type", "query",
            "mode", "verified", "generated", "dropped": [{"sentence", "reason"}]}
        """
        refused = access.may_ask(request)
        if refused:
            raise gr.Error(refused, print_exception=False)
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


def header(settings: Settings) -> str:
    """The page's heading: what is being asked about, and from which files."""
    title, file_names = document_title(settings)
    return (
        f'<h1 style="margin-bottom:0.2rem">Ask {esc(title)}</h1>'
        '<p style="margin-top:0">Ask in plain English; answers come only from '
        f"<code>{esc(file_names)}</code>, offline, with the exact sentences they rest "
        "on, and the assistant says so when the documents don't.</p>"
    )


def documents_panel(settings: Settings) -> tuple[Any, list[Any]]:
    """The documents accordion: list, upload and removal; returns (header, wired outputs)."""
    from assistant import documents

    library = documents(settings)
    with gr.Accordion("Documents", open=False, elem_id="documents"):
        listing = gr.HTML(render_library(library), elem_id="doc-listing")
        upload = gr.File(
            label="Add documents",
            file_count="multiple",
            file_types=UPLOAD_TYPES,
            elem_id="upload",
        )
        limits = gr.Markdown(LIMITS, elem_id="library-limits")
        replace_same = gr.Checkbox(label="Replace a document of the same name", value=False)
        add_button = gr.Button("Add to the documents", variant="primary", elem_id="add-documents")
        with gr.Row():
            choice = gr.Dropdown(
                names(library), label="Remove a document", value=None, elem_id="remove-choice"
            )
            remove_button = gr.Button("Remove", variant="stop", elem_id="remove-document")
        status = gr.Markdown(elem_id="library-status")
    controls = (upload, limits, replace_same, add_button, choice, remove_button)
    return controls, [status, listing, choice]


def build_app(settings: Settings | None = None, access: Access | None = None) -> gr.Blocks:
    """The chat page and the ``/ask`` API, unlaunched; launch with ``css=CSS, theme=theme()``.

    ``access`` says who may ask and change the documents (default: one person's page).
    """
    settings = settings or Settings.from_env()
    access = access or Access.for_host(settings, "127.0.0.1")
    with gr.Blocks(title="Ask the documents", analytics_enabled=False) as demo:
        heading = gr.HTML(header(settings), js_on_load=None)
        with gr.Row(visible=access.gate is not None, elem_id="account"):
            signed_in = gr.Markdown(elem_id="signed-in")
            gr.Button("Sign out", link="/logout", size="sm", scale=0, elem_id="sign-out")
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
                        placeholder="Ask a question about the documents…",
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
                with gr.Accordion("Settings", open=False):
                    writer = settings.llm or ("bundled" if bundle.installed() else None)
                    style = gr.Radio(
                        [QUOTED, GENERATED],
                        value=GENERATED if settings.llm else QUOTED,
                        label="Answer style",
                        info=(
                            f"LLM: {writer}. Generated sentences that the cited passages "
                            "do not back are dropped."
                            if writer
                            else "Install the reader model (make install-model) or set "
                            "ASSISTANT_LLM (see README) to enable generated answers."
                        ),
                        interactive=bool(writer),
                        elem_id="answer-style",
                    )
                    reader = gr.Radio(
                        list(READERS),
                        value=next(
                            (k for k, v in READERS.items() if v == settings.answerer),
                            next(iter(READERS)),
                        ),
                        label="Reader",
                        info="Which reader answers; every answer is quoted from the document.",
                        interactive=settings.answerer != "rules",
                        elem_id="reader",
                    )
                controls, library_outputs = documents_panel(settings)
            with gr.Column(scale=2, elem_classes=["sources-panel"]):
                sources = gr.HTML(
                    SOURCES_PLACEHOLDER,
                    label="Sources",
                    js_on_load=SOURCES_JS,
                    elem_id="sources",
                )

        respond = make_respond(settings, access)
        io = {
            "fn": respond,
            "inputs": [msg, chatbot, turns, style, reader],
            "outputs": [msg, chatbot, turns, sources],
            "api_visibility": "private",
        }
        # a follow-up sent while a reply still streams runs right after it, not lost
        msg.submit(**io, trigger_mode="always_last")
        examples.load_input_event.then(**io)
        clear.click(new_chat, outputs=[msg, chatbot, turns, sources], api_visibility="private")
        upload, _, replace_same, add_button, choice, remove_button = controls
        add, remove = make_add(settings), make_remove(settings)

        def added(
            files: list[Any] | None,
            replace_it: bool,
            request: gr.Request,
            progress: Any = gr.Progress(),  # noqa: B008 (gradio injects it by this default)
        ) -> tuple[Any, ...]:
            refused = access.may_edit(request, len(files or []) or 1)
            if refused:  # checked on the server: a reader's direct call is refused too
                shown, listed = listing(settings)
                note = f"⚠️ Nothing was added: {esc(refused)}"
                return note, shown, gr.Dropdown(choices=listed, value=None), None, gr.skip()

            def on_page(name: str, done: int, total: int) -> None:
                progress((done, total), desc=f"Reading {name} by OCR", unit="pages")

            def audit(document: str, sha256: str, result: str) -> None:
                access.record(request, "add", document=document, sha256=sha256, result=result)

            note, shown, listed = add(files, replace_it, on_page, audit)
            return note, shown, gr.Dropdown(choices=listed, value=None), None, header(settings)

        def removed(name: str | None, request: gr.Request) -> tuple[Any, ...]:
            refused = access.may_edit(request, files=0)
            if refused:
                shown, listed = listing(settings)
                return (
                    f"⚠️ {esc(refused)}",
                    shown,
                    gr.Dropdown(choices=listed, value=None),
                    gr.skip(),
                )

            def audit(document: str, sha256: str, result: str) -> None:
                access.record(request, "remove", document=document, sha256=sha256, result=result)

            note, shown, listed = remove(name, audit)
            return note, shown, gr.Dropdown(choices=listed, value=None), header(settings)

        def whoami(request: gr.Request) -> tuple[Any, ...]:
            """On load: who is signed in, and the document controls only for who may edit."""
            editor = access.can_edit(request)
            user = access.gate.user(request.username) if access.gate else None
            who = f"Signed in as **{esc(user.name)}** ({user.role})" if user else ""
            shown = [gr.update(visible=editor) for _ in controls]
            return (who, *shown)

        demo.load(whoami, outputs=[signed_in, *controls], api_visibility="private")

        add_button.click(
            added,
            inputs=[upload, replace_same],
            outputs=[*library_outputs, upload, heading],
            api_visibility="private",
            show_progress="full",
        )
        remove_button.click(
            removed,
            inputs=[choice],
            outputs=[*library_outputs, heading],
            api_visibility="private",
        )
        gr.api(make_api(settings, access), api_name="ask")
    return demo


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per health check
    host = os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    settings = Settings.from_env()
    try:
        access = Access.for_host(settings, host)
    except AssistantError as exc:  # unsafe to serve as asked: say how to fix it, start nothing
        log.error("%s", exc)
        raise SystemExit(2) from None
    log.info("Loading the index and the model from %s ...", settings.index_dir)
    started = time.perf_counter()
    try:
        # the index and model load once, here; the LLM (if any) is loaded just below
        ask(WARM_UP_QUESTION, settings=replace(settings, llm=None))
    except AssistantError as exc:
        log.error("%s", exc)
        raise SystemExit(1) from None
    log.info("Index and model loaded in %.1f s", time.perf_counter() - started)
    if settings.llm:
        from assistant.llm import load_backend

        try:
            load_backend(settings)
            log.info("LLM %s ready", settings.llm)
        except AssistantError as exc:  # the quoted answers still work: say so, go on
            log.error("LLM unavailable, generated answers will fail: %s", exc)
    demo = build_app(settings, access)
    demo.queue(default_concurrency_limit=2, max_size=32)
    demo.launch(
        auth=access.gate.check if access.gate else None,
        auth_message=(
            "Sign in to ask the documents. After 5 wrong passwords a name is locked for 5 minutes."
        ),
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        css=CSS,
        theme=theme(),
        footer_links=["api"],
        max_file_size=MAX_FILE_BYTES,
    )
    if access.gate:  # sessions end SESSION_SECONDS after sign-in
        demo.server_app.tokens = Sessions()
    log.info("Ready: http://%s:%d%s", host, port, " (sign-in on)" if access.gate else "")
    # the language model loads now (about a second), not during the first question it reads
    threading.Thread(target=load_reader, args=(settings,), name="load-reader", daemon=True).start()
    try:
        demo.block_thread()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
