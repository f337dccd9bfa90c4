"""Offline question answering over a document, with exact cited passages.

    >>> from assistant import ask
    >>> a = ask("How much did the company lose in 2022?")
    >>> a.answer, a.citations[0].text
    >>> ask("And in 2021?", history=a.turns()).answer  # a follow-up
    >>> Assistant(Settings(corpus_dir=Path("docs"), index_dir=Path("docs-index"))).ask(q)
    >>> add_documents(["report.pdf"])  # copied into corpus/, indexed incrementally

Importing this package loads no heavy library (torch, sentence-transformers,
chromadb, gradio); they load on the first ``ask`` or ``build_index``.
"""

from __future__ import annotations

from assistant.config import Settings
from assistant.corpus import add_documents, document_text, documents, remove_document
from assistant.engine import Assistant, ask, ask_stream, build_index
from assistant.errors import (
    AssistantError,
    ConfigError,
    CorpusError,
    IndexStoreError,
    ModelError,
    QuestionError,
)
from assistant.types import (
    Answer,
    Citation,
    DocumentInfo,
    Dropped,
    Library,
    Passage,
    Skipped,
    Span,
    Step,
)

__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "Citation",
    "ConfigError",
    "CorpusError",
    "DocumentInfo",
    "Dropped",
    "IndexStoreError",
    "Library",
    "ModelError",
    "Passage",
    "QuestionError",
    "Settings",
    "Skipped",
    "Span",
    "Step",
    "add_documents",
    "ask",
    "ask_stream",
    "build_index",
    "document_text",
    "documents",
    "remove_document",
]
