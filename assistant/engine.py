"""``Assistant``, and ``ask``, ``ask_stream`` and ``build_index`` over it: the one engine
behind the CLI, the web chat and the evals.

The index, the models and the retriever load once per ``Settings`` and are reused.
Flow: validate -> rewrite with history -> correct spelling -> retrieve -> answer
(-> with ``settings.llm``: generate and verify).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from assistant import loaded
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

log = logging.getLogger("assistant")


class Assistant:
    """The assistant over one corpus and index, as ``settings`` say (default: the environment).

    The package's ``ask``, ``ask_stream`` and ``build_index`` are these methods with the
    settings they are given. What answering needs (the opened index, the models) is
    loaded once per process (``assistant.loaded``) and shared by every ``Assistant`` of
    the same settings; a document added since (from the CLI while the web chat runs) is
    seen by the next question.

        >>> bot = Assistant(Settings(corpus_dir=Path("docs"), index_dir=Path("docs-index")))
        >>> first = bot.ask("How much did the company lose in 2022?")
        >>> bot.ask("And in 2021?", history=first.turns()).answer
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()

    def ask(self, question: str, history: list[dict[str, Any]] | None = None) -> Answer:
        """Answer ``question`` from the corpus, using ``history`` for follow-ups.

        Example: ask("How much did the company lose in 2022?").answer -> "3.8 billion yuan"
        Raises ``QuestionError`` for an empty/overlong question or malformed history, and
        ``ModelError`` when a model that the settings ask for explicitly cannot be used.
        """
        for item in self.ask_stream(question, history):
            if isinstance(item, Answer):
                return item
        raise AssertionError("ask_stream ended without an Answer")  # pragma: no cover

    def ask_stream(
        self,
        question: str,
        history: list[dict[str, Any]] | None = None,
        *,
        steps: bool = False,
    ) -> Iterator[str | Step | Answer]:
        """Like ``ask``, but yields the LLM's reply as it is written, then the ``Answer``.

        With ``steps``, it first yields ``Step("retrieved", citations)`` once the passages
        are found and ``Step("reading")`` when the language model starts reading them.
        Without ``settings.llm`` (or when the document does not answer) no text is
        streamed. The streamed tokens are unchecked; the final ``Answer`` keeps only the
        sentences its citations support (``mode``, ``verified``, ``dropped``).
        """
        settings = self.settings
        extractive: Answer | None = None
        for item in self._answer_steps(question, history):
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
        self, question: str, history: list[dict[str, Any]] | None
    ) -> Iterator[Step | Answer]:
        settings = self.settings
        text = validate_question(question, settings.max_question_chars)
        turns = validate_history(history)
        retriever, answerer = self.engine()
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

    def engine(self) -> tuple[HybridSearch, AnyAnswerer]:
        """The retriever and answerer, opened on first use (building the index if needed).

        When another build has made a new store current since, this opens it; the stores
        of engines dropped since are released once the new one is open.
        """
        from assistant.index import read_current, release

        settings = _without_llm(self.settings)  # one retriever whatever the LLM settings
        with _swap:
            engine = loaded.get("engine", settings)
            current = read_current(settings.index_dir)
            if engine is not None and current is not None and current["store"] != engine.store:
                _retire(settings)
            engine = loaded.once("engine", settings, lambda: _open(settings))
            for old in [r for r in _retired if r[0] == settings and r[1] != engine.store]:
                _retired.remove(old)
                release(settings, old[1])
        return engine.retriever, engine.answerer

    def load_reader(self) -> bool:
        """Load the language model the answerer reads with now, not on the first question
        that needs it (``auto``, ``llm``); False when this answerer reads with none.

        Raises ``ModelError`` naming the fix when it can't be loaded; the fast answers
        keep working.

            >>> Assistant(Settings(answerer="auto")).load_reader()
            True
        """
        from assistant.cascade import CascadeAnswerer

        _, answerer = self.engine()
        if not isinstance(answerer, CascadeAnswerer):
            return False
        answerer.reader(self.settings)
        return True

    def forget(self) -> None:
        """Drop the opened engine: the next question reopens the index."""
        with _swap:
            _retire(_without_llm(self.settings))

    def build_index(
        self,
        *,
        rebuild: bool = False,
        progress: bool = False,
        on_page: Callable[[str, int, int], None] | None = None,
    ) -> IndexData:
        """Build (or reuse) the index for the corpus; ``rebuild`` forces a fresh build.

        ``on_page(name, done, total)`` hears of each page OCR reads (scans and photos; a
        page OCR read once is cached by the file's sha256 and not read again).

        Unlike ``ask``, a missing or empty corpus folder raises ``CorpusError`` here even
        when an older index exists. A file that can't be read is skipped and listed in
        ``.skipped`` with the reason; the rest of the corpus is indexed.
        """
        from assistant.index import open_index

        data = open_index(
            self.settings, rebuild=rebuild, strict=True, progress=progress, on_page=on_page
        )
        self.forget()
        return data


@dataclass(frozen=True)
class Engine:
    """An opened index store, its retriever and the answerer over its passages."""

    store: str
    retriever: HybridSearch
    answerer: AnyAnswerer


_swap = threading.Lock()  # one question at a time sees a stale store and replaces it
_retired: list[tuple[Settings, str]] = []  # stores of dropped engines, not yet released


def _retire(settings: Settings) -> None:
    _retired.extend((settings, e.store) for e in loaded.forget("engine", settings))


def ask(
    question: str,
    history: list[dict[str, Any]] | None = None,
    settings: Settings | None = None,
) -> Answer:
    """``Assistant(settings).ask(question, history)``.

    Example: ask("How much did the company lose in 2022?").answer -> "3.8 billion yuan"
    """
    return Assistant(settings).ask(question, history)


def ask_stream(
    question: str,
    history: list[dict[str, Any]] | None = None,
    settings: Settings | None = None,
    *,
    steps: bool = False,
) -> Iterator[str | Step | Answer]:
    """``Assistant(settings).ask_stream(question, history, steps=steps)``."""
    return Assistant(settings).ask_stream(question, history, steps=steps)


def build_index(
    settings: Settings | None = None,
    *,
    rebuild: bool = False,
    progress: bool = False,
    on_page: Callable[[str, int, int], None] | None = None,
) -> IndexData:
    """``Assistant(settings).build_index(...)``: build (or reuse) the corpus's index."""
    return Assistant(settings).build_index(rebuild=rebuild, progress=progress, on_page=on_page)


def engine_for(settings: Settings) -> tuple[HybridSearch, AnyAnswerer]:
    """``Assistant(settings).engine()``: the retriever and answerer for ``settings``."""
    return Assistant(settings).engine()


def forget(settings: Settings) -> None:
    """Drop the opened engine for ``settings``: the next question reopens the index."""
    Assistant(settings).forget()


def _open(settings: Settings) -> Engine:
    from assistant.index import open_index
    from assistant.models import embedder, onnx_encoder
    from assistant.retrieve import HybridSearch

    index = open_index(settings)
    encoder = onnx_encoder(index.query_encoder) if index.query_encoder else embedder()
    return Engine(index.store, HybridSearch(index, encoder, settings), _answerer(index, settings))


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
