"""Document files -> one text string, with page offsets for PDFs.

Scope: reading the bytes of ``.txt``/``.md``/``.pdf``/``.docx``/``.html``/``.htm`` files
into the text the index stores, checking by content (not only by extension) that a file
is what its name says, and turning every problem into a ``CorpusError`` that names the
file and the next step. Headings come out as markdown ``#`` lines, table rows as cells
joined by " | ", paragraphs separated by blank lines, line ends always "\\n".
Text files are returned exactly as decoded, so offsets in the file and the text agree.
Non-goals: OCR, layout analysis (columns, reading order), tables beyond rows of cells,
headers/footers/footnotes of Word files, and running anything a document contains.
pypdf, python-docx and BeautifulSoup load on first use, inside the function needing them.
"""

from __future__ import annotations

import io
import re
import zipfile
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from assistant.errors import CorpusError

KINDS: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
MAX_FILE_BYTES = 20_000_000

# What a file's content looks like (see _identify) -> words for an error message.
_LOOKS_LIKE = {
    "pdf": "a PDF",
    "docx": "a Word document",
    "zip": "a zip archive",
    "ole": "an old-format or password-protected Office file",
    "executable": "an executable",
    "binary": "binary data",
    "html": "a web page",
    "text": "plain text",
}
_EXPECTED = {"text": "text", "pdf": "a PDF", "docx": "a Word document", "html": "HTML"}
_RENAME_TO = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_HEADER_WITHIN = 1024  # bytes of leading whitespace allowed before "%PDF-"
_HTML_PROLOG = re.compile(r"^(?:\s|<!--.*?-->|<\?xml.*?\?>)*", re.S)
_HTML_TAG = re.compile(r"<(?:body|p|div)[\s>/]")


@dataclass(frozen=True)
class Extracted:
    """A document's text as the index stores it; citations are ``text[start:end]``."""

    text: str
    kind: str  # "text" | "pdf" | "docx" | "html"
    pages: tuple[int, ...] = ()  # PDF only: offset in ``text`` where page 1, 2, ... starts


def kind_of(name: str) -> str | None:
    """The kind a file's suffix promises, or None. Example: "a/Report.PDF" -> "pdf"."""
    return KINDS.get(PurePosixPath(name.replace("\\", "/")).suffix.lower())


def sniff(data: bytes) -> str:
    """What the content is: "pdf" | "docx" | "zip" | "html" | "text" | "binary".

    Example: b"%PDF-1.7 ..." -> "pdf"; b"\\x7fELF..." -> "binary"; b"<!doctype html>" -> "html"
    """
    found = _identify(data)
    return "binary" if found in ("executable", "ole") else found


def _identify(data: bytes) -> str:
    """Like ``sniff``, but tells executables and OLE files (.doc, encrypted .docx) apart."""
    if data[: _PDF_HEADER_WITHIN + 5].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx" if _is_docx(data) else "zip"
    if data.startswith(b"\x7fELF") or (data.startswith(b"MZ") and b"\x00" in data[:64]):
        return "executable"
    if data.startswith(_OLE_MAGIC):
        return "ole"
    if b"\x00" in data:
        return "binary"
    head = data[:2048].decode("latin-1").lower().removeprefix("\xef\xbb\xbf")
    head = _HTML_PROLOG.sub("", head, count=1)
    if head.startswith(("<!doctype html", "<html")) or _HTML_TAG.search(head):
        return "html"
    return "text"


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    """The 1-based page holding ``offset``; None when there are no pages (not a PDF).

    Offsets before page 1's start count as page 1. Example: page_at((0, 120, 300), 150) -> 2
    """
    if not pages:
        return None
    return max(1, bisect_right(pages, offset))


def extract(data: bytes, name: str) -> Extracted:
    """The text of file ``name`` whose content is ``data``; ``CorpusError`` naming it if unusable.

    Example: extract(b"# Notes\\n\\nBody.", "corpus/notes.md") -> Extracted("# Notes\\n\\nBody.", "text")
    """
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(f"{name} is larger than {MAX_FILE_BYTES / 1_000_000:g} MB; split it")
    kind = kind_of(name)
    if kind is None:
        suffix = PurePosixPath(name.replace("\\", "/")).suffix or "no extension"
        raise CorpusError(
            f"{name} is a type the assistant does not read ({suffix}); "
            "use .pdf, .docx, .html, .md or .txt"
        )
    found = _identify(data)
    if kind == "pdf":
        if found != "pdf":
            raise _mismatch(name, kind, found)
        return _extract_pdf(data, name)
    if kind == "docx":
        if found != "docx":
            raise _mismatch(name, kind, found)
        return _extract_docx(data, name)
    if found in ("pdf", "docx", "zip", "ole", "executable"):
        raise _mismatch(name, kind, found)
    if b"\x00" in data:
        raise CorpusError(f"{name} looks binary (it contains NUL bytes); remove it")
    if kind == "html":
        from assistant.html_text import extract_html

        return extract_html(data, name)
    return _extract_text(data, name)


def _mismatch(name: str, kind: str, found: str) -> CorpusError:
    if found in _RENAME_TO:
        step = f"rename it to {_RENAME_TO[found]}"
    elif found == "ole":
        step = "save it again as .docx without a password"
    elif found == "zip" and kind == "docx":
        step = "save it again as .docx or remove it"
    else:
        step = "remove it"
    return CorpusError(
        f"{name} is not {_EXPECTED[kind]} (its content looks like {_LOOKS_LIKE[found]}); {step}"
    )


def short_reason(exc: BaseException) -> str:
    """A short reason for a message. Example: PdfReadError("EOF marker not found") -> same."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _extract_text(data: bytes, name: str) -> Extracted:
    # The same checks and messages as ingest.read_document, in the same order.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusError(f"{name} is not UTF-8 text; convert it or remove it") from None
    if text.startswith("\ufeff"):
        raise CorpusError(f"{name} starts with a byte-order mark; save it as UTF-8 without BOM")
    if not text.strip():
        raise CorpusError(f"{name} is empty; add text to it or remove it")
    return Extracted(text=text, kind="text")


def join_blocks(name: str, kind: str, paragraphs: Iterable[str]) -> Extracted:
    text = "\n\n".join(p for p in paragraphs if p)
    if not text:
        raise CorpusError(f"{name} is empty; add text to it or remove it")
    return Extracted(text=text, kind=kind)


def squash(text: str) -> str:
    """Whitespace runs (newlines, tabs, no-break spaces) -> one space. Example: " a\\n b " -> "a b"."""
    return " ".join(text.split())


# --- PDF ---------------------------------------------------------------------------------

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\xad": ""}
)
_CLOSERS = "\"'”’)]"
_BULLETS = ("•", "◦", "▪", "‣", "●")  # a line starting with one starts a list item
_SHORT_LINE = 0.7  # a line under 70% of the page's longest line ends its paragraph (see below)


def _extract_pdf(data: bytes, name: str) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorpusError(f"{name} is encrypted with a password; save an unprotected copy")
        page_texts = [page.extract_text() or "" for page in reader.pages]
    except CorpusError:
        raise
    except DependencyError as exc:  # AES needs the optional "cryptography" package
        raise CorpusError(
            f"{name} is encrypted ({short_reason(exc)}); save an unprotected copy"
        ) from None
    except Exception as exc:  # pypdf raises many types on malformed files
        raise CorpusError(
            f"{name} can't be read as a PDF ({short_reason(exc)}); export it again"
        ) from None

    blocks: list[str] = []
    starts: list[int] = []
    length = 0  # of "\n\n".join(blocks)
    pending = 0  # pages seen without text; they start where the next text starts
    for page_text in page_texts:
        block = "\n\n".join(_reflow(page_text))
        if not block:
            pending += 1
            continue
        start = length + 2 if blocks else 0
        starts.extend([start] * (pending + 1))
        pending = 0
        blocks.append(block)
        length = start + len(block)
    if not blocks:
        raise CorpusError(
            f"{name} has no text layer (a scanned PDF?); run OCR on it or export it with text"
        )
    starts.extend([length] * pending)
    return Extracted(text="\n\n".join(blocks), kind="pdf", pages=tuple(starts))


def _reflow(page_text: str) -> list[str]:
    """One PDF page's lines -> paragraphs: wrapped lines joined, hyphenation undone.

    A paragraph ends at a blank line, or after a line clearly shorter than the page's
    longest (a last line or a heading): when it ends with . ! ? : or when it is a short
    unpunctuated line followed by a capitalised one (a heading such as "Annual Report").
    A line starting with a bullet ("•") starts a paragraph.
    Example: ["Costs were man-", "aged well. Sales", "rose.", "Outlook", "Good."]
    -> ["Costs were managed well. Sales rose.", "Outlook", "Good."] (if "rose." is short)
    """
    lines = [squash(line.translate(_LIGATURES)) for line in page_text.splitlines()]
    longest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        if not line:
            paragraphs.append(current)
            current = ""
            continue
        if current and line.startswith(_BULLETS):
            paragraphs.append(current)
            current = ""
        if not current:
            current = line
        elif current.endswith("-") and current[-2:-1].isalpha() and line[0].islower():
            current = current[:-1] + line  # "manage-" + "ment" -> "management"
        elif current.endswith("-") and current[-2:-1].isalpha() and line[0].isupper():
            current = current + line  # "Rolls-" + "Royce" keeps its hyphen
        else:
            current = f"{current} {line}"
        if len(line) < _SHORT_LINE * longest:
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if line.rstrip(_CLOSERS).endswith((".", "!", "?", ":")) or (
                len(line.split()) <= 12 and (following[:1].isupper() or following[:1].isdigit())
            ):
                paragraphs.append(current)
                current = ""
    paragraphs.append(current)
    return [p for p in paragraphs if p]


# --- Word --------------------------------------------------------------------------------


def _extract_docx(data: bytes, name: str) -> Extracted:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = list(_docx_blocks(document))
    except Exception as exc:  # python-docx and lxml raise many types on malformed files
        raise CorpusError(
            f"{name} can't be read as a Word document ({short_reason(exc)}); save it again as .docx"
        ) from None
    return join_blocks(name, "docx", paragraphs)


def _docx_blocks(document: Any) -> Iterable[str]:
    """Body paragraphs and table rows in order. Example: Heading 2 "Costs" -> "## Costs"."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                seen: list[object] = []  # a merged cell appears once per grid column it spans
                cells: list[str] = []
                for cell in row.cells:
                    if any(cell._tc is other for other in seen):
                        continue
                    seen.append(cell._tc)
                    cells.append(squash(cell.text))
                yield " | ".join(c for c in cells if c)
            continue
        text = squash(block.text)
        style = block.style.name if block.style is not None else ""
        heading = re.match(r"heading\s*(\d+)", style or "", re.I)
        if text and heading:
            yield "#" * min(max(int(heading.group(1)), 1), 6) + " " + text
        elif text and (style or "").lower() == "title":
            yield "# " + text
        else:
            yield text
