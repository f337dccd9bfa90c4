"""The web chat's documents panel: the list of documents, upload and removal.

Thin: the handlers call ``assistant.add_documents`` / ``remove_document`` (which check
every file, index it incrementally and swap the index atomically) and render the
result as escaped HTML. No gradio import here; app.py wires the components.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import assistant
from assistant import AssistantError, DocumentInfo, Library, Settings
from assistant.corpus import MAX_FILES
from assistant.engine import engine_for
from assistant.formats import KINDS, MAX_FILE_BYTES
from assistant.ocr import Progress, ocr_note
from assistant.scans import LIMITS as SCAN_LIMITS
from sources_view import esc

log = logging.getLogger("app")

UPLOAD_TYPES = sorted(KINDS)
Audited = Callable[[str, str, str], None]  # (document, sha256, result) for the audit log
LIMITS = (
    f"PDF, Word (.docx), HTML, Markdown, text, or scans as PNG, JPEG or TIFF; at most "
    f"{MAX_FILE_BYTES // 1_000_000} MB per file and {MAX_FILES} files at a time. "
    f"{SCAN_LIMITS}, about 3 seconds a page."
)


def describe(d: DocumentInfo) -> str:
    """Example: a 3-page PDF -> "PDF, 3 pages, 12,408 characters, 96 passages"; a scanned
    one adds "; OCR on pages 1-3 (page 2: 71% confidence)"."""
    kind = {"text": "text", "pdf": "PDF", "docx": "Word", "html": "HTML", "image": "image"}
    pages = f", {d.pages} pages" if d.pages > 1 or d.kind == "pdf" else ""
    note = f"; {ocr_note(d.ocr_pages, d.ocr_confidence)}" if d.ocr_pages else ""
    return f"{kind.get(d.kind, d.kind)}{pages}, {d.chars:,} characters, {d.passages} passages{note}"


def render_library(library: Library) -> str:
    """The documents in the index, and the files skipped with the reason (escaped HTML)."""
    rows = "".join(
        f'<li><span class="doc-name">{esc(d.source)}</span> '
        f'<span class="doc-meta">{esc(describe(d))}</span></li>'
        for d in library.documents
    )
    html = f'<ul class="doc-list" id="doc-list">{rows}</ul>'
    if library.skipped:
        skipped = "".join(f"<li>{esc(s.reason)}</li>" for s in library.skipped)
        html += (
            f'<p class="doc-skipped-title">Not indexed:</p><ul class="doc-skipped">{skipped}</ul>'
        )
    return html


def names(library: Library) -> list[str]:
    """What can be removed: the indexed documents, then the files skipped as unreadable."""
    return [d.source for d in library.documents] + [s.source for s in library.skipped]


def make_add(settings: Settings) -> Callable[..., tuple[str, str, Any]]:
    """The upload handler: (files, replace) -> (status markdown, document list, removal choices)."""

    def add(
        files: list[Any] | None,
        replace: bool,
        on_page: Progress | None = None,
        audit: Audited | None = None,
    ) -> tuple[str, str, list[str]]:
        paths = [Path(getattr(f, "name", f)) for f in files or []]
        if not paths:
            return "Choose one or more files first.", *listing(settings)
        try:
            added = assistant.add_documents(paths, settings, replace=replace, on_page=on_page)
        except AssistantError as exc:
            for path in paths:
                if audit:
                    audit(path.name, _sha256(path), f"refused: {exc}")
            return f"⚠️ Nothing was added: {esc(str(exc))}", *listing(settings)
        for d in added:
            if audit:
                audit(d.source, d.sha256, "added")
        _open_now(settings)
        if not added:
            return "These documents are already in the corpus.", *listing(settings)
        done = "; ".join(f"**{esc(d.source)}** ({describe(d)})" for d in added)
        them = "it" if len(added) == 1 else "them"
        return f"Added {done}. You can ask about {them} now.", *listing(settings)

    return add


def make_remove(settings: Settings) -> Callable[..., tuple[str, str, Any]]:
    """The removal handler: name -> (status markdown, document list, removal choices)."""

    def remove(name: str | None, audit: Audited | None = None) -> tuple[str, str, list[str]]:
        if not name:
            return "Choose a document to remove.", *listing(settings)
        digest = next(
            (d.sha256 for d in assistant.documents(settings).documents if d.source == name), ""
        )
        try:
            assistant.remove_document(name, settings)
        except AssistantError as exc:
            if audit:
                audit(name, digest, f"refused: {exc}")
            return f"⚠️ {esc(str(exc))}", *listing(settings)
        if audit:
            audit(name, digest, "removed")
        _open_now(settings)
        return f"Removed **{esc(name)}**.", *listing(settings)

    return remove


def _sha256(path: Path) -> str:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _open_now(settings: Settings) -> None:
    """Open the new index before replying, so the next question does not wait for it."""
    try:
        engine_for(settings)
    except AssistantError as exc:  # the next question reports it to the user
        log.warning("the new index could not be opened yet: %s", exc)


def listing(settings: Settings) -> tuple[str, list[str]]:
    """(document list HTML, removal choices) as they are now."""
    try:
        library = assistant.documents(settings)
    except AssistantError as exc:
        return f"<p>{esc(str(exc))}</p>", []
    return render_library(library), names(library)
