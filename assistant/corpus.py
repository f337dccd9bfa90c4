"""Adding, removing and listing the corpus's documents, each change indexed as one step.

``add_documents`` checks every file before anything changes (name, size, type by
content, readable text; read in a child process with memory and time caps, so a
hostile file costs one message), stages it beside the corpus, builds the index incrementally
with the staged files, and only after the new index is current moves them into the
corpus folder. ``remove_document`` builds without the file, then deletes it. Both hold
the index lock, so a failed or interrupted change leaves the previous index answering
and the corpus as it was. Non-goals: versioning, per-user corpora.

    >>> from assistant import add_documents, documents
    >>> add_documents(["~/Downloads/annual-report.pdf"])
    >>> [d.source for d in documents().documents]
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Sequence
from pathlib import Path

from assistant.config import Settings
from assistant.errors import CorpusError
from assistant.formats import KINDS, MAX_FILE_BYTES, kind_of
from assistant.ingest import CorpusFile, Document, document_of, scan_corpus
from assistant.ocr import OcrOptions, Progress, ocr_options
from assistant.sandbox import extract_apart
from assistant.types import DocumentInfo, Library

MAX_FILES = 20  # files per add
MAX_NAME_CHARS = 120
STAGING = ".incoming"  # hidden folder of the corpus where checked uploads wait for the index


def safe_name(name: str) -> str:
    """A file name that stays inside the corpus folder: no path, no control characters.

    Example: "../../etc/passwd.txt" -> "passwd.txt"; "C:\\\\Users\\\\me\\\\Q3 report.pdf" -> "Q3 report.pdf"
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"[^\w .()\-]+", "_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip(" .")
    if not stem:
        raise CorpusError(f"{name!r} is not a usable file name; rename the file")
    return f"{stem}.{suffix}" if suffix else stem


def documents(settings: Settings | None = None) -> Library:
    """The indexed documents and the files skipped with their reasons (builds if needed)."""
    from assistant.index import open_index, read_library

    settings = settings or Settings.from_env()
    library = read_library(settings)
    if library is None:
        index = open_index(settings)
        library = Library(list(index.documents), list(index.skipped))
    return library


def document_text(source: str, settings: Settings | None = None) -> str:
    """The text of ``source`` as indexed: citations are ``document_text(c.source)[c.start:c.end]``.

    For .txt/.md it equals the file; for PDF, Word and HTML it is the extracted text.
    Example: document_text("report.pdf")[:30] -> "# Annual report 2024\\n\\nRevenue"
    """
    from assistant.index import open_index, read_current, stored_text

    settings = settings or Settings.from_env()
    if read_current(settings.index_dir) is None:
        open_index(settings)
    return stored_text(settings, source)


def add_documents(
    files: Sequence[str | Path],
    settings: Settings | None = None,
    *,
    replace: bool = False,
    progress: bool = False,
    on_page: Progress | None = None,
) -> list[DocumentInfo]:
    """Copy ``files`` into the corpus and index them; returns what each became.

    Scans and photos are read by OCR while they are checked; ``on_page(name, done, total)``
    hears of each page (``progress`` shows the embedding's progress bar).

    Raises ``CorpusError`` naming the file, before anything changes, for a file that
    is too large, of a type the assistant does not read (checked by content), without
    text, or named like a different document already in the corpus (unless ``replace``).
    Re-adding an identical document changes nothing.
    """
    settings = settings or Settings.from_env()
    if not files:
        raise CorpusError("no file given; name one or more documents to add")
    if len(files) > MAX_FILES:
        raise CorpusError(f"{len(files)} files at once; add at most {MAX_FILES} per step")
    ocr = ocr_options(settings.index_dir, on_page)
    checked = [_check(Path(f).expanduser(), ocr) for f in files]
    names = [name for name, _, _ in checked]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CorpusError(f"two files would be named {twice[0]}; rename one of them")
    from assistant.engine import forget
    from assistant.index import build, index_lock

    corpus_dir = settings.corpus_dir
    corpus_dir.mkdir(parents=True, exist_ok=True)
    staging = corpus_dir / STAGING / uuid.uuid4().hex[:12]
    with index_lock(settings):
        # what an interrupted add left behind; under the lock no other add is staging
        shutil.rmtree(corpus_dir / STAGING, ignore_errors=True)
        try:
            present = {f.source: f for f in _scan(corpus_dir)}
            staged: list[CorpusFile] = []
            read: dict[str, Document] = {}
            for name, data, doc in checked:
                digest = doc.sha256
                old = present.get(name)
                if old is not None and old.sha256 == digest:
                    continue  # already there, byte for byte
                if old is not None and not replace:
                    raise CorpusError(
                        f"a different document named {name} is already in the corpus; "
                        "remove it first, rename the new file, or replace it"
                    )
                staging.mkdir(parents=True, exist_ok=True)
                (staging / name).write_bytes(data)
                staged.append(CorpusFile(name, staging / name, digest))
                read[name] = doc
            if staged:
                files_after = {**present, **{f.source: f for f in staged}}
                build(settings, sorted(files_after.values(), key=lambda f: f.source), read=read)
                for f in staged:
                    os.replace(f.path, corpus_dir / f.source)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_empty(corpus_dir / STAGING)
    forget(settings)
    listed = {d.source: d for d in documents(settings).documents}
    return [listed[name] for name in names if name in listed]


def remove_document(source: str, settings: Settings | None = None) -> None:
    """Take document ``source`` out of the index, then delete its file from the corpus."""
    settings = settings or Settings.from_env()
    from assistant.engine import forget
    from assistant.index import build, index_lock

    with index_lock(settings):
        files = _scan(settings.corpus_dir)
        rest = [f for f in files if f.source != source]
        if len(rest) == len(files):
            names = ", ".join(f.source for f in files) or "none"
            raise CorpusError(f"no document named {source!r} in the corpus (there are: {names})")
        if not any(f.problem is None for f in rest):
            raise CorpusError(f"{source} is the only document; add another before removing it")
        build(settings, rest)
        target = next(f.path for f in files if f.source == source)
        target.unlink(missing_ok=True)
    forget(settings)


def _scan(corpus_dir: Path) -> list[CorpusFile]:
    try:
        return scan_corpus(corpus_dir)
    except CorpusError:
        if corpus_dir.is_dir():
            return []  # a corpus with no document yet: the first upload makes one
        raise


def _check(path: Path, ocr: OcrOptions) -> tuple[str, bytes, Document]:
    """(corpus name, bytes, text) of a file that can be indexed; ``CorpusError`` naming it if not."""
    name = safe_name(path.name)
    if kind_of(name) is None:
        raise CorpusError(
            f"{path.name} is a type the assistant does not read; use {', '.join(KINDS)}"
        )
    try:
        if not path.is_file():
            raise CorpusError(f"{path} is not a file; check the path")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CorpusError(
                f"{path.name} is larger than {MAX_FILE_BYTES // 1_000_000} MB; split it"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path} can't be read ({exc.strerror}); check it") from None
    # type by content, some text in it; read in a child process with memory and time caps
    return name, data, document_of(name, data, extract_apart(data, name, ocr))


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (another change in flight), or gone
        folder.rmdir()
