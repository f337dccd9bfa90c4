"""``ask`` and ``build_index``: the one engine behind the CLI, the web chat and the evals.

Loads the index, the model and the retriever once per ``Settings`` and reuses them.
Flow: validate -> rewrite with history -> correct spelling -> retrieve -> answer.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.question import rewrite, validate_history, validate_question
from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.answer import Answerer
    from assistant.index import IndexData
    from assistant.retrieve import HybridSearch

_engines: dict[Settings, tuple[HybridSearch, Answerer]] = {}
_lock = threading.Lock()


def ask(
    question: str,
    history: list[dict[str, Any]] | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer ``question`` from the corpus, using ``history`` for follow-ups.

    Example: ask("How much did the company lose in 2022?").answer -> "3.8 billion yuan"
    Raises ``QuestionError`` for an empty/overlong question or malformed history.
    """
    settings = settings or Settings.from_env()
    text = validate_question(question, settings.max_question_chars)
    turns = validate_history(history)
    retriever, answerer = engine_for(settings)
    query = rewrite(text, turns, retriever.vocabulary)
    hits = retriever.search(query.text)
    return answerer.answer(text, query, hits, settings)


def engine_for(settings: Settings) -> tuple[HybridSearch, Answerer]:
    """The cached retriever and answerer for ``settings``, building the index if needed."""
    with _lock:
        if settings not in _engines:
            from assistant.answer import Answerer
            from assistant.index import open_index
            from assistant.models import embedder, onnx_encoder
            from assistant.retrieve import HybridSearch

            index = open_index(settings)
            encoder = onnx_encoder(index.query_encoder) if index.query_encoder else embedder()
            _engines[settings] = (
                HybridSearch(index, encoder, settings),
                Answerer(index.passages),
            )
        return _engines[settings]


def build_index(
    settings: Settings | None = None, *, rebuild: bool = False, progress: bool = False
) -> IndexData:
    """Build (or reuse) the index for the corpus; ``rebuild`` forces a fresh build.

    Unlike ``ask``, an unreadable corpus file raises ``CorpusError`` here even when an
    older index exists: an explicit build must not report success on a broken corpus.
    """
    from assistant.index import open_index

    settings = settings or Settings.from_env()
    data = open_index(settings, rebuild=rebuild, strict=True, progress=progress)
    with _lock:
        _engines.pop(settings, None)
    return data
