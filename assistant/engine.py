"""``ask``, ``ask_stream`` and ``build_index``: the one engine behind the CLI, the web
chat and the evals.

Loads the index, the model and the retriever once per ``Settings`` and reuses them.
Flow: validate -> rewrite with history -> correct spelling -> retrieve -> answer
(-> with ``settings.llm``: generate and verify).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.question import rewrite, validate_history, validate_question
from assistant.types import Answer, Step

if TYPE_CHECKING:
    from typing import TypeAlias

    from assistant.answer import Answerer
    from assistant.cascade import CascadeAnswerer
    from assistant.index import IndexData
    from assistant.learned import LearnedAnswerer
    from assistant.retrieve import HybridSearch

    AnyAnswerer: TypeAlias = Answerer | LearnedAnswerer | CascadeAnswerer

_engines: dict[Settings, tuple[str, HybridSearch, AnyAnswerer]] = {}
_lock = threading.Lock()
log = logging.getLogger("assistant")


def ask(
    question: str,
    history: list[dict[str, Any]] | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer ``question`` from the corpus, using ``history`` for follow-ups.

    Example: ask("How much did the company lose in 2022?").answer -> "3.8 billion yuan"
    Raises ``QuestionError`` for an empty/overlong question or malformed history, and
    ``ModelError`` when a model that ``settings`` asks for explicitly cannot be used.
    """
    for item in ask_stream(question, history, settings):
        if isinstance(item, Answer):
            return item
    raise AssertionError("ask_stream ended without an Answer")  # pragma: no cover


def ask_stream(
    question: str,
    history: list[dict[str, Any]] | None = None,
    settings: Settings | None = None,
    *,
    steps: bool = False,
) -> Iterator[str | Step | Answer]:
    """Like ``ask``, but yields the LLM's reply as it is written, then the ``Answer``.

    With ``steps``, it first yields ``Step("retrieved", citations)`` once the passages are
    found and ``Step("reading")`` when the language model starts reading them. Without
    ``settings.llm`` (or when the document does not answer) no text is streamed. The
    streamed tokens are unchecked; the final ``Answer`` keeps only the sentences its
    citations support (``mode``, ``verified``, ``dropped``).
    """
    settings = settings or Settings.from_env()
    extractive: Answer | None = None
    for item in _answer_steps(question, history, settings):
        if isinstance(item, Answer):
            extractive = item
        elif steps:
            yield item
    assert extractive is not None
    if not settings.llm:
        yield extractive
        return
    from assistant.generate import stream_generated

    # the question as rewritten with the history: "And in 2021?" means nothing on its own
    yield from stream_generated(extractive.query or extractive.question, extractive, settings)


def _answer_steps(
    question: str, history: list[dict[str, Any]] | None, settings: Settings
) -> Iterator[Step | Answer]:
    text = validate_question(question, settings.max_question_chars)
    turns = validate_history(history)
    retriever, answerer = engine_for(settings)
    query = rewrite(text, turns, retriever.vocabulary)
    hits = retriever.search(query.text)
    from assistant.answer import cite
    from assistant.cascade import CascadeAnswerer

    top = hits[0].score if hits else 1.0
    yield Step(
        "retrieved", cite([h.passage for h in hits], [h.score / top for h in hits], settings)
    )
    if isinstance(answerer, CascadeAnswerer):
        answer = yield from answerer.steps(text, query, hits, settings)
    else:
        answer = answerer.answer(text, query, hits, settings)
    yield replace(answer, answered_by="rules") if settings.answerer == "rules" else answer


def engine_for(settings: Settings) -> tuple[HybridSearch, AnyAnswerer]:
    """The cached retriever and answerer for ``settings``, building the index if needed.

    When another build has made a new store current since (a document added from the
    CLI while the web chat runs), the next question opens it.
    """
    from assistant.index import read_current

    settings = _without_llm(settings)  # one retriever whatever the LLM settings
    current = read_current(settings.index_dir)
    with _lock:
        cached = _engines.get(settings)
        if cached is None or (current is not None and current["store"] != cached[0]):
            from assistant.index import open_index, release
            from assistant.models import embedder, onnx_encoder
            from assistant.retrieve import HybridSearch

            index = open_index(settings)
            encoder = onnx_encoder(index.query_encoder) if index.query_encoder else embedder()
            if cached is not None and cached[0] != index.store:
                release(settings, cached[0])
            _engines[settings] = (
                index.store,
                HybridSearch(index, encoder, settings),
                _answerer(index, settings),
            )
        _, retriever, answerer = _engines[settings]
        return retriever, answerer


def forget(settings: Settings) -> None:
    """Drop the cached engine for ``settings``: the next question reopens the index."""
    with _lock:
        _engines.pop(_without_llm(settings), None)


def _answerer(index: IndexData, settings: Settings) -> AnyAnswerer:
    if settings.answerer == "rules":
        from assistant.answer import Answerer

        return Answerer(index.passages)
    from assistant.abstain import abstainer
    from assistant.learned import LearnedAnswerer
    from assistant.reader import reader

    fast = LearnedAnswerer(index.passages, reader(), abstainer())
    if settings.answerer in ("fast", "learned"):
        return fast
    from assistant.cascade import CascadeAnswerer
    from assistant.decide import decider
    from assistant.errors import ModelError

    try:
        return CascadeAnswerer(fast, decider(), settings)
    except ModelError:
        if settings.answerer == "llm":
            raise
        log.warning("the cascade's decider can't be read; answering with the fast reader alone")
        return fast


def build_index(
    settings: Settings | None = None,
    *,
    rebuild: bool = False,
    progress: bool = False,
    on_page: Callable[[str, int, int], None] | None = None,
) -> IndexData:
    """Build (or reuse) the index for the corpus; ``rebuild`` forces a fresh build.

    ``on_page(name, done, total)`` hears of each page OCR reads (scans and photos; a page
    OCR read once is cached by the file's sha256 and not read again).

    Unlike ``ask``, a missing or empty corpus folder raises ``CorpusError`` here even when
    an older index exists. A file that can't be read is skipped and listed in
    ``.skipped`` with the reason; the rest of the corpus is indexed.
    """
    from assistant.index import open_index

    settings = settings or Settings.from_env()
    data = open_index(settings, rebuild=rebuild, strict=True, progress=progress, on_page=on_page)
    forget(settings)
    return data


def _without_llm(settings: Settings) -> Settings:
    default = Settings()
    return replace(
        settings,
        llm=None,
        llm_url=None,
        llm_api_key=None,
        llm_max_tokens=default.llm_max_tokens,
        llm_timeout=default.llm_timeout,
    )
