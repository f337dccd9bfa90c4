"""Plain frozen dataclasses that cross module borders.

Shapes only: no behaviour beyond small conversions. llama-index and chromadb
objects never leave the modules that own them; these do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PassageKind = Literal["sentence", "heading", "caption"]
AnswerMode = Literal["extractive", "generated"]
AnswerPath = Literal["fast", "llm", "rules"]


@dataclass(frozen=True)
class Passage:
    """One retrieval unit: a sentence (or heading/caption line) of a corpus file.

    ``text == document[start:end]`` always holds for the text of ``source`` as the
    index stores it (the file itself for .txt/.md; the extracted text otherwise).
    """

    id: str  # "<source>#<start>-<end>"
    source: str  # file name relative to corpus/
    start: int
    end: int
    text: str
    section: str | None
    kind: PassageKind
    paragraph: int  # paragraph number within the file, 0-based
    position: int  # passage number within the file, 0-based
    context: str  # neighbouring sentences used for embedding and BM25
    page: int | None = None  # 1-based PDF or image page where the passage starts


@dataclass(frozen=True)
class DocumentInfo:
    """A document in the index, as ``assistant.documents()`` lists it."""

    source: str  # its name in the corpus folder
    kind: str  # "text" | "pdf" | "docx" | "html" | "image"
    chars: int  # length of its text
    passages: int
    pages: int  # PDF pages or image frames, 0 for other kinds
    sha256: str  # of the file's bytes
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text OCR read
    ocr_confidence: tuple[float, ...] = ()  # OCR's confidence (0..1) on each of them


@dataclass(frozen=True)
class Skipped:
    """A corpus file left out of the index, and why (the message names the file)."""

    source: str
    reason: str


@dataclass(frozen=True)
class Library:
    """What the index holds: its documents, and the corpus files it had to leave out."""

    documents: list[DocumentInfo]
    skipped: list[Skipped]


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its fused score and the signals behind it."""

    passage: Passage
    score: float  # reciprocal rank fusion score
    dense: float  # cosine of the query with the sentence vector
    dense_context: float  # cosine of the query with the context vector
    lexical: float  # BM25 score, 0 when no query term occurs


@dataclass(frozen=True)
class Citation:
    """A cited passage: the text of ``source`` ``[start:end] == text``.

    For .txt/.md the text is the file; for PDF, Word and HTML it is the extracted text
    the index stores (``assistant.document_text(source)``), and ``page`` the PDF page.
    """

    n: int
    text: str
    source: str
    start: int
    end: int
    section: str | None
    score: float
    page: int | None = None


@dataclass(frozen=True)
class Step:
    """A stage of answering, yielded by ``ask_stream(..., steps=True)`` before the answer.

    "retrieved": the passages found, best first (shown while the model reads);
    "reading": the language model has started reading them.
    """

    name: Literal["retrieved", "reading"]
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True)
class Dropped:
    """A generated sentence that failed verification, and why."""

    sentence: str
    reason: str  # "cites no passage" | "2 billion, Tesla not in [1]" | ...


@dataclass(frozen=True)
class Span:
    """Where the answer is: ``document_text(source)[start:end] == answer``."""

    source: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """What ``ask`` returns.

    ``answer`` is the short span ("" when abstained); ``text`` is the markdown
    reply with ``[n]`` markers pointing at ``citations`` (best first).

    ``mode`` says who wrote ``text``: "extractive" (quoted from the document) or
    "generated" (a local LLM, kept only where ``verified``). With an LLM configured,
    ``generated`` holds its raw reply and ``dropped`` the sentences that failed the
    check against the cited passages; when nothing survives, the reply falls back to
    the extractive one (``mode="extractive"``, ``verified=False``).

    ``answered_by`` says which answerer decided: "fast" (the reader and the rules, no language
    model), "llm" (the language model read the passages) or "rules"; ``timings`` how
    long each step took, in seconds; ``span`` where a quoted answer is in the document
    (None for abstentions and the rules' composed replies); ``reason`` why it abstained.
    """

    question: str
    answer: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    answer_type: str = "other"
    query: str = ""  # the question as rewritten with the chat history
    mode: AnswerMode = "extractive"
    verified: bool = False  # a generated reply passed the check and is shown
    generated: str = ""  # the LLM's raw reply, "" when no LLM ran
    dropped: list[Dropped] = field(default_factory=list)
    answered_by: AnswerPath = "fast"
    timings: dict[str, float] = field(default_factory=dict)
    span: Span | None = None
    reason: str = ""
    note: str = ""  # e.g. why the language model could not read ("" when all went well)

    def how(self) -> str:
        """Which answerer decided, and how long it took.

        Example: answered_by "llm", timings {"fast": 0.05, "read": 4.1, "stated": 0.6} ->
        "read by the language model in 4.8 s"
        """
        who = {"llm": "read by the language model", "rules": "answered by the rules"}.get(
            self.answered_by, "answered by the fast reader"
        )
        if self.answered_by == "fast" and "read" in self.timings:
            who = "read by the language model, the fast reader's answer kept"
        took = f" in {sum(self.timings.values()):.1f} s" if self.timings else ""
        return f"{who}{took}" + (f"; {self.note}" if self.note else "")

    def turns(self) -> list[dict[str, str]]:
        """This exchange as chat history for the next question, the short answer kept.

        Example: ask(q2, history=[*a1.turns()]) resolves "And in 2021?" against a1.
        """
        return [
            {"role": "user", "content": self.question},
            {"role": "assistant", "content": self.text, "answer": self.answer},
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (used by the CLI, the web API and the evals)."""
        return asdict(self)
