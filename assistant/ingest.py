"""Corpus files -> passages with exact character offsets.

Scope: listing and hashing the corpus folder, reading each file's text (``formats``
turns PDF, Word and HTML into text), finding paragraphs, headings, image captions and
sentences, and giving every passage ``start``/``end`` such that
``document.text[start:end] == passage.text``. Pure apart from reading files.
Non-goals: format parsing (formats.py), language detection, coreference.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import CorpusError
from assistant.formats import KINDS, Extracted, extract, page_at
from assistant.ocr import OcrOptions
from assistant.types import Passage, PassageKind

SPLITTER_VERSION = "sent-v2"
NOT_DOCUMENTS = frozenset({"examples.json"})  # the web chat's example questions

# Tokens that end in "." without ending a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt inc ltd co corp plc llc bros dept est fig vs etc al
    approx govt no nos vol jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e u.s u.k
    a.m p.m""".split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+)")
_SENTENCE_START = re.compile(r"\s+[\"'“‘(\[]?[A-Z0-9]")
_CLOSERS = "\"'”’)]"


@dataclass(frozen=True)
class Document:
    """A corpus file's text (extracted, for PDF/Word/HTML) and identity."""

    source: str  # path relative to the corpus folder, with "/" separators
    text: str
    sha256: str  # of the file's bytes
    kind: str = "text"  # "text" | "pdf" | "docx" | "html" | "image"
    pages: tuple[int, ...] = ()  # PDF and image: offset in ``text`` where each page starts
    ocr_pages: tuple[int, ...] = ()  # 1-based pages read by OCR
    ocr_confidence: tuple[float, ...] = ()  # OCR's confidence on each of them


@dataclass(frozen=True)
class CorpusFile:
    """A file found in the corpus folder, before it is read.

    ``problem`` says why it can't be indexed when that is known without parsing it
    (a type the assistant does not read, a file that can't be opened).
    """

    source: str  # name relative to the corpus folder, with "/" separators
    path: Path  # where its bytes are (a staged upload lives outside the corpus folder)
    sha256: str  # "" when the file can't be read
    problem: str | None = None


def scan_corpus(corpus_dir: Path) -> list[CorpusFile]:
    """Every visible file under ``corpus_dir`` (sorted by name), hashed.

    Example: corpus/ with a.txt and b.xlsx -> [CorpusFile("a.txt", ...),
    CorpusFile("b.xlsx", ..., problem="corpus/b.xlsx is a type ... not read; ...")]
    """
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder {corpus_dir} does not exist; create it and add a document"
        )
    paths = sorted(p for p in corpus_dir.rglob("*") if p.is_file() or p.is_symlink())
    paths = [
        p
        for p in paths
        if not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
        and p.relative_to(corpus_dir).as_posix() not in NOT_DOCUMENTS
    ]
    files = [_scan_file(p, corpus_dir) for p in paths]
    if not files:
        raise CorpusError(f"{corpus_dir} holds no document ({_kinds()}); add one to it")
    return files


def _kinds() -> str:
    return ", ".join(KINDS)


def _scan_file(path: Path, corpus_dir: Path) -> CorpusFile:
    name = path.relative_to(corpus_dir).as_posix()
    where = f"{corpus_dir.name}/{name}"
    if path.suffix.lower() not in KINDS:
        problem = f"{where} is skipped: the assistant does not read {path.suffix or 'files without an extension'} files (only {_kinds()})"
        return CorpusFile(name, path, "", problem)
    try:
        data = _read_bytes(path, where)
    except CorpusError as exc:
        return CorpusFile(name, path, "", str(exc))
    return CorpusFile(name, path, hashlib.sha256(data).hexdigest())


def _read_bytes(path: Path, where: str) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise CorpusError(f"{where} is a link or a special file, not a document; remove it")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(
            f"{where} can't be read ({exc.strerror}); fix its permissions or remove it"
        ) from None


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Read every document under ``corpus_dir`` (sorted); the first unusable file raises."""
    files = scan_corpus(corpus_dir)
    for f in files:
        if f.problem:
            raise CorpusError(f.problem)
    return [read_document(f.path, corpus_dir) for f in files]


def read_document(
    path: Path, corpus_dir: Path, source: str | None = None, ocr: OcrOptions | None = None
) -> Document:
    """Read one file; raise ``CorpusError`` naming it when it is not a usable document.

    ``source`` names a file that will be placed in the corpus (an upload being checked);
    ``ocr`` says where OCR caches pages and who hears of its progress.
    """
    name = source or path.relative_to(corpus_dir).as_posix()
    where = f"{corpus_dir.name}/{name}"
    data = _read_bytes(path, where)
    return document_of(name, data, extract(data, where, ocr))


def document_of(name: str, data: bytes, got: Extracted) -> Document:
    """The ``Document`` for file ``name`` with bytes ``data``, as ``extract`` read it."""
    digest = hashlib.sha256(data).hexdigest()
    return Document(name, got.text, digest, got.kind, got.pages, got.ocr_pages, got.ocr_confidence)


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: blocks between blank lines, or single lines when there are none.

    Spans are stripped of surrounding whitespace. Markdown ``#`` lines are their own block.
    Example: "Title\\nBody one. Two." -> [(0, 5), (6, 19)]
    """
    separator = r"\n[ \t]*\n" if re.search(r"\n[ \t]*\n", text.strip()) else r"\n"
    spans: list[tuple[int, int]] = []
    pos = 0
    for block in [*re.finditer(separator, text), None]:
        end = block.start() if block else len(text)
        for start, stop in _split_markdown_headings(text, pos, end):
            spans.extend(_strip_span(text, start, stop))
        pos = block.end() if block else len(text)
    return spans


def _split_markdown_headings(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for m in re.finditer(r"^[ \t]*#{1,6}[ \t].*$", text[start:end], flags=re.M):
        a, b = start + m.start(), start + m.end()
        if a > pos:
            yield pos, a
        yield a, b
        pos = b
    if pos < end:
        yield pos, end


def _strip_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, offsets relative to ``text``.

    Keeps decimals ("1.729 billion"), abbreviations ("Mr. Yu", "U.S. firms") and
    initials together. Example: "It rose 7.6%. Then it fell." -> [(0, 13), (14, 27)]
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _BOUNDARY.finditer(text, start, end):
        cut = m.end()
        if not _SENTENCE_START.match(text, cut, end) or _is_abbreviation(text, pos, m.start()):
            continue
        spans.extend(_strip_span(text, pos, cut))
        pos = cut
    spans.extend(_strip_span(text, pos, end))
    return spans


def _is_abbreviation(text: str, sentence_start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"[\w.]*$", text[sentence_start:dot])
    token = word.group(0).lower() if word else ""
    if len(token) == 1 and token.isalpha():
        # An initial ("J. Smith"), but not the last letter of "R & D." or "Q & A."
        return not text[sentence_start:dot].endswith(f"& {text[dot - 1]}")
    return token in _ABBREVIATIONS


def _is_heading_like(line: str, first: bool) -> bool:
    """A short line without final punctuation: a heading, a title or a caption."""
    if line.startswith("#"):
        return True
    words = line.split()
    limit = 25 if first else 12
    bare = line.rstrip(_CLOSERS)
    return 0 < len(words) <= limit and len(line) <= 200 and not re.search(r"[.!?:;,]$", bare)


def classify_paragraphs(text: str, spans: list[tuple[int, int]]) -> list[PassageKind]:
    """Label each paragraph "heading", "caption" or "sentence" (body).

    In a run of heading-like lines the last one heads the next body paragraph and the
    ones before it are image captions; the first line of a file is its title (a heading).
    Example: ["Body.", "The New Plant", "A Hard Year", "Body."]
    -> ["sentence", "caption", "heading", "sentence"]
    """
    like = [_is_heading_like(text[a:b], i == 0) for i, (a, b) in enumerate(spans)]
    kinds: list[PassageKind] = []
    for i, is_like in enumerate(like):
        if not is_like:
            kinds.append("sentence")
        elif i == 0 or text[spans[i][0]] == "#":
            kinds.append("heading")
        else:
            followed_by_body = i + 1 < len(like) and not like[i + 1]
            kinds.append("heading" if followed_by_body else "caption")
    return kinds


def heading_text(line: str) -> str:
    """Heading text without markdown markers. Example: "## New Challenges" -> "New Challenges"."""
    return line.lstrip("#").strip()


def passages_from_document(doc: Document, window: int = 1) -> list[Passage]:
    """Split a document into passages; each sentence carries ``window`` neighbours of context."""
    spans = split_paragraphs(doc.text)
    kinds = classify_paragraphs(doc.text, spans)
    units: list[tuple[int, int, PassageKind, int, str | None]] = []
    section: str | None = None
    for number, ((a, b), kind) in enumerate(zip(spans, kinds, strict=True)):
        if kind == "heading":
            section = heading_text(doc.text[a:b])
            units.append((a, b, kind, number, section))
        elif kind == "caption":
            units.append((a, b, kind, number, section))
        else:
            units.extend((s, e, kind, number, section) for s, e in split_sentences(doc.text, a, b))
    body = [i for i, u in enumerate(units) if u[2] == "sentence"]
    passages = []
    for position, (a, b, kind, number, sec) in enumerate(units):
        context = doc.text[a:b]
        if kind == "sentence":
            k = body.index(position)
            same = [body[j] for j in range(max(0, k - window), min(len(body), k + window + 1))]
            same = [j for j in same if units[j][4] == sec]
            context = " ".join(doc.text[units[j][0] : units[j][1]] for j in same)
        passages.append(
            Passage(
                id=f"{doc.source}#{a}-{b}",
                source=doc.source,
                start=a,
                end=b,
                text=doc.text[a:b],
                section=sec,
                kind=kind,
                paragraph=number,
                position=position,
                context=context,
                page=page_at(doc.pages, a),
            )
        )
    return passages


def load_passages(corpus_dir: Path, window: int = 1) -> tuple[list[Document], list[Passage]]:
    """Read the corpus and split every document. Example: corpus/ -> ([Document], [Passage, ...])"""
    docs = read_corpus(corpus_dir)
    return docs, [p for d in docs for p in passages_from_document(d, window)]
