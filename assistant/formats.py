"""Document files -> one text string, with page offsets for PDFs and scans.

Scope: reading the bytes of ``.txt``/``.md``/``.pdf``/``.docx``/``.html``/``.htm`` files,
and of scans (``.png``/``.jpg``/``.tif``, and PDF pages without a text layer, read by
OCR through ``scans``) into the text the index stores, checking by content (not only by
extension) that a file is what its name says, and turning every problem into a
``CorpusError`` that names the file and the next step. Headings come out as markdown
``#`` lines, table rows as cells joined by " | ", paragraphs separated by blank lines,
line ends always "\\n".
Text files are returned exactly as decoded, so offsets in the file and the text agree.
Non-goals: layout analysis of text-layer PDFs (columns), tables beyond rows of cells,
headers/footers/footnotes of Word files, and running anything a document contains.
pypdf, python-docx and BeautifulSoup load on first use, inside the function needing them.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from assistant.errors import CorpusError, ModelError, short_reason
from assistant.layout import reflow, squash
from assistant.ocr import OcrOptions, pages_named

if TYPE_CHECKING:
    from assistant.ocr import OcrPage

_T = TypeVar("_T")

KINDS: dict[str, str] = {
    ".txt": "text",
    ".md": "text",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
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
    "image": "an image",
}
_EXPECTED = {
    "text": "text",
    "pdf": "a PDF",
    "docx": "a Word document",
    "html": "HTML",
    "image": "a PNG, JPEG or TIFF image",
}
_RENAME_TO = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt", "image": ".png"}
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")  # PNG, JPEG, TIFF
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_HEADER_WITHIN = 1024  # bytes of leading whitespace allowed before "%PDF-"
_HTML_PROLOG = re.compile(r"^(?:\s|<!--.*?-->|<\?xml.*?\?>)*", re.S)
_HTML_TAG = re.compile(r"<(?:body|p|div)[\s>/]")


@dataclass(frozen=True)
class Extracted:
    """A document's text as the index stores it; citations are ``text[start:end]``."""

    text: str
    kind: str  # "text" | "pdf" | "docx" | "html" | "image"
    pages: tuple[int, ...] = ()  # PDF and image: offset in ``text`` where page 1, 2, ... starts
    ocr_pages: tuple[int, ...] = ()  # 1-based pages whose text OCR read
    ocr_confidence: tuple[float, ...] = ()  # OCR's confidence on each of ``ocr_pages``


def kind_of(name: str) -> str | None:
    """The kind a file's suffix promises, or None. Example: "a/Report.PDF" -> "pdf"."""
    return KINDS.get(PurePosixPath(name.replace("\\", "/")).suffix.lower())


def sniff(data: bytes) -> str:
    """What the content is: "pdf" | "docx" | "zip" | "image" | "html" | "text" | "binary".

    Example: b"%PDF-1.7 ..." -> "pdf"; b"\\x7fELF..." -> "binary"; b"\\x89PNG..." -> "image"
    """
    found = _identify(data)
    return "binary" if found in ("executable", "ole") else found


def _identify(data: bytes) -> str:
    """Like ``sniff``, but tells executables and OLE files (.doc, encrypted .docx) apart."""
    if data[: _PDF_HEADER_WITHIN + 5].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_IMAGE_MAGIC):
        return "image"
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


def extract(data: bytes, name: str, ocr: OcrOptions | None = None) -> Extracted:
    """The text of file ``name`` whose content is ``data``; ``CorpusError`` naming it if unusable.

    Images, and PDF pages without a text layer, are read by OCR (``ocr``: its cache and
    progress callback; without it, no cache).
    Example: extract(b"# Notes\\n\\nBody.", "corpus/notes.md") -> Extracted("# Notes\\n\\nBody.", "text")
    """
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(f"{name} is larger than {MAX_FILE_BYTES / 1_000_000:g} MB; split it")
    kind = kind_of(name)
    if kind is None:
        suffix = PurePosixPath(name.replace("\\", "/")).suffix or "no extension"
        raise CorpusError(
            f"{name} is a type the assistant does not read ({suffix}); "
            "use .pdf, .docx, .html, .md, .txt, .png, .jpg or .tif"
        )
    found = _identify(data)
    if kind == "pdf":
        if found != "pdf":
            raise _mismatch(name, kind, found)
        return _extract_pdf(data, name, ocr or OcrOptions())
    if kind == "image":
        if found != "image":
            raise _mismatch(name, kind, found)
        return _extract_image(data, name, ocr or OcrOptions())
    if kind == "docx":
        if found != "docx":
            raise _mismatch(name, kind, found)
        return _extract_docx(data, name)
    if found in ("pdf", "docx", "zip", "ole", "executable", "image"):
        raise _mismatch(name, kind, found)
    if b"\x00" in data:
        raise CorpusError(f"{name} looks binary (it contains NUL bytes); remove it")
    if kind == "html":
        from assistant.html_text import html_paragraphs

        return join_blocks(name, "html", html_paragraphs(data, name))
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


# --- PDF ---------------------------------------------------------------------------------


def _extract_pdf(data: bytes, name: str, ocr: OcrOptions) -> Extracted:
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

    blocks = ["\n\n".join(reflow(page_text)) for page_text in page_texts]
    scanned = [n for n, block in enumerate(blocks, 1) if not block]  # no text layer
    read: dict[int, OcrPage] = {}
    if scanned:
        from assistant.scans import pdf_pages

        read = _ocr(lambda: pdf_pages(data, name, _digest(data), scanned, ocr), name)
        for n, page in read.items():
            blocks[n - 1] = page.text
    return _paged(name, "pdf", blocks, read)


def _extract_image(data: bytes, name: str, ocr: OcrOptions) -> Extracted:
    from assistant.scans import image_pages

    pages = _ocr(lambda: image_pages(data, name, _digest(data), ocr), name)
    return _paged(name, "image", [p.text for p in pages], dict(enumerate(pages, 1)))


def _ocr(run: Callable[[], _T], name: str) -> _T:
    try:
        return run()
    except ModelError as exc:
        raise CorpusError(f"{name} needs OCR, which can't run: {exc}") from None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _paged(name: str, kind: str, blocks: list[str], read: dict[int, OcrPage]) -> Extracted:
    """Pages' text blocks -> one text with each page's start; a page without text starts
    where the next text starts. Example: ["A.", "", "B."] -> "A.\\n\\nB.", pages (0, 4, 4)"""
    starts: list[int] = []
    kept: list[str] = []
    length = 0  # of "\n\n".join(kept)
    pending = 0
    for block in blocks:
        if not block:
            pending += 1
            continue
        start = length + 2 if kept else 0
        starts.extend([start] * (pending + 1))
        pending = 0
        kept.append(block)
        length = start + len(block)
    if not kept:
        if read:
            raise CorpusError(
                f"{name}: OCR found no text on {pages_named(sorted(read))}; "
                "scan it again at a higher resolution or remove it"
            )
        raise CorpusError(f"{name} has no text layer; export it with text")
    starts.extend([length] * pending)
    ocr_pages = tuple(n for n in sorted(read) if read[n].text)
    return Extracted(
        text="\n\n".join(kept),
        kind=kind,
        pages=tuple(starts),
        ocr_pages=ocr_pages,
        ocr_confidence=tuple(read[n].confidence for n in ocr_pages),
    )


# --- Word --------------------------------------------------------------------------------


# A Word file is a zip archive: its members' sizes are checked before any is inflated.
# zipfile never inflates a member past the size its header declares, so these bound the
# memory python-docx can take (a 1.5 MB file declaring 1.5 GB is refused at once).
MAX_MEMBER_BYTES = 64_000_000  # one member, inflated (a 500-page document.xml is ~20 MB)
MAX_ARCHIVE_BYTES = 128_000_000  # all members, inflated
MAX_RATIO = 100  # inflated / compressed, for members over 1 MB (XML compresses ~10x)


def check_archive(data: bytes, name: str) -> None:
    """``CorpusError`` naming ``name`` when a zip's members would inflate too far (a bomb).

    Example: a 1.5 MB .docx whose word/document.xml declares 1.5 GB -> "report.docx would
    inflate to 1,500 MB (word/document.xml); ..."
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CorpusError(
            f"{name} is not a readable zip archive ({short_reason(exc)}); save it again"
        ) from None
    total = 0
    for m in members:
        total += m.file_size
        ratio = m.file_size / max(m.compress_size, 1)
        if (
            m.file_size > MAX_MEMBER_BYTES
            or total > MAX_ARCHIVE_BYTES
            or (m.file_size > 1_000_000 and ratio > MAX_RATIO)
        ):
            raise CorpusError(
                f"{name} would inflate to {max(total, m.file_size) / 1_000_000:,.0f} MB "
                f"({m.filename}, {ratio:,.0f} times its packed size); refused as a "
                "possible zip bomb, save it again or split it"
            )


def _extract_docx(data: bytes, name: str) -> Extracted:
    import docx

    check_archive(data, name)
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
