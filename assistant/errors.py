"""The exception tree. Every message names the thing and the next step.

AssistantError
├── QuestionError      bad question or history: empty, too long, wrong shape
├── CorpusError        corpus folder missing/empty, a document unreadable, of a type not
│                      read, without text, or refused on upload (size, name, content)
├── IndexStoreError    the index can't be opened, built or reached (Chroma server down)
└── ModelError         a model (embedder, reader, OCR) is missing or broken

Overtime is not an error: the language model did not finish reading by the question's
deadline (``Settings.deadline``), and the fast answer or an abstention stands.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(AssistantError, ValueError):
    """A setting has an unusable value."""


class QuestionError(AssistantError, ValueError):
    """The question or the chat history can't be used as given."""


class CorpusError(AssistantError):
    """The corpus can't be read."""


class IndexStoreError(AssistantError):
    """The index store can't be opened, built or reached."""


class ModelError(AssistantError):
    """The embedding model can't be loaded."""


def short_reason(exc: BaseException) -> str:
    """A short reason for a message. Example: PdfReadError("EOF marker not found") -> same."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "..."


class Overtime(Exception):
    """The language model's reading ran past the question's deadline; not an error."""
