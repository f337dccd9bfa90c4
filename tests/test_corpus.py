"""Adding and removing documents: formats, hostile files, incremental builds, interruption.

Real parts throughout: files made with fpdf2 and python-docx, the real embedding
model, a real Chroma store in ``tmp_path``, the CLI in a subprocess that gets killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EncodeSpy
from makedocs import (
    ELF_HEADER,
    HTML_PAGE,
    make_docx,
    make_docx_bomb,
    make_pdf,
    make_scan,
    make_scanned_pdf,
    png_header,
)

import assistant.corpus
from assistant import (
    CorpusError,
    Settings,
    add_documents,
    ask,
    build_index,
    document_text,
    documents,
    remove_document,
)
from assistant.corpus import safe_name
from assistant.index import open_index

ROOT = Path(__file__).resolve().parent.parent
NOTES = (
    "# Garden notes\n\nThe allotment committee meets on the first Monday of each month.\n"
    "Its treasurer, Ivo Marsh, keeps the seed budget of 300 euros a year.\n"
)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of files as a user would have them, made with the real libraries."""
    folder = tmp_path_factory.mktemp("uploads")
    (folder / "harbour report.pdf").write_bytes(make_pdf())
    (folder / "ferry.docx").write_bytes(make_docx())
    (folder / "lighthouse.html").write_text(HTML_PAGE, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-note corpus with its index, built once; each test works on a copy."""
    root = tmp_path_factory.mktemp("base")
    (root / "corpus").mkdir()
    (root / "corpus" / "notes.md").write_text(NOTES, encoding="utf-8")
    build_index(_settings(root))
    return root


@pytest.fixture
def settings(base: Path, tmp_path: Path) -> Settings:
    shutil.copytree(base, tmp_path / "copy")
    return _settings(tmp_path / "copy")


def _settings(root: Path) -> Settings:
    return Settings(answerer="fast", corpus_dir=root / "corpus", index_dir=root / "index")


def _state(settings: Settings) -> tuple[list[str], str]:
    """The corpus documents and the current store: what a failed change must not touch."""
    names = sorted(
        p.relative_to(settings.corpus_dir).as_posix()
        for p in settings.corpus_dir.rglob("*")
        if p.is_file() and not p.relative_to(settings.corpus_dir).as_posix().startswith(".")
    )
    current = json.loads((settings.index_dir / "CURRENT").read_text(encoding="utf-8"))
    return names, current["store"]


def test_add_documents__pdf_word_and_html_answer_with_exact_citations(
    settings: Settings, uploads: Path
) -> None:
    added = add_documents(sorted(uploads.iterdir()), settings)

    assert [(d.source, d.kind, d.pages) for d in added] == [
        ("ferry.docx", "docx", 0),
        ("harbour report.pdf", "pdf", 2),
        ("lighthouse.html", "html", 0),
    ]
    for question, answer, source, page in [
        ("Who is the harbour master?", "Petra Holm", "harbour report.pdf", 2),
        ("When was the night ferry to Saltholm cancelled?", "March 2022", "ferry.docx", None),
        ("When was the Gullrock lighthouse built?", "1871", "lighthouse.html", None),
        ("Who keeps the seed budget?", "Ivo Marsh", "notes.md", None),
    ]:
        got = ask(question, settings=settings)
        first = got.citations[0]
        assert answer in got.answer, (question, got.answer)
        assert (first.source, first.page) == (source, page), first
        assert document_text(first.source, settings)[first.start : first.end] == first.text
    lighthouse = document_text("lighthouse.html", settings)
    assert lighthouse.startswith("# The Gullrock Lighthouse")
    for noise in ("script text", "window.__ran", "About the site", "cookie", "color: red"):
        assert noise not in lighthouse
    assert (settings.corpus_dir / "harbour report.pdf").read_bytes() == (
        uploads / "harbour report.pdf"
    ).read_bytes()


def test_add_documents__scans_answer_with_their_page_and_ocr_runs_once_per_file(
    settings: Settings, tmp_path: Path
) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "harbour scan.pdf").write_bytes(make_scan("PDF"))
    (scans / "harbour photo.tif").write_bytes(make_scan("TIFF"))
    lighthouse = [["Lighthouse Notes", "The Gullrock lighthouse was built in 1871 by Tomas Ek."]]
    (scans / "lighthouse photo.jpg").write_bytes(make_scan("JPEG", lighthouse))
    heard: list[tuple[str, int, int]] = []

    added = add_documents(sorted(scans.iterdir()), settings, on_page=lambda *a: heard.append(a))

    assert [(d.source, d.kind, d.pages, d.ocr_pages) for d in added] == [
        ("harbour photo.tif", "image", 2, (1, 2)),
        ("harbour scan.pdf", "pdf", 2, (1, 2)),
        ("lighthouse photo.jpg", "image", 1, (1,)),
    ]
    assert ("harbour scan.pdf", 0, 2) in heard and ("harbour scan.pdf", 2, 2) in heard
    got = ask("Who is the harbour master?", settings=settings)
    assert "Petra Holm" in got.answer
    first = got.citations[0]
    assert first.source.startswith("harbour ") and first.page == 2
    assert document_text(first.source, settings)[first.start : first.end] == first.text
    assert "Petra Holm" in first.text
    built = ask("When was the Gullrock lighthouse built?", settings=settings)
    assert "1871" in built.answer and built.citations[0].source == "lighthouse photo.jpg"

    heard.clear()  # a full rebuild reads both files again, but OCR comes from its cache
    build_index(settings, rebuild=True, on_page=lambda *a: heard.append(a))
    assert heard == []
    assert len(list((settings.index_dir / "ocr").glob("*.json"))) == 3


def test_add_documents__embeds_only_the_new_document(
    settings: Settings, uploads: Path, encode_spy: EncodeSpy
) -> None:
    before = open_index(settings)
    add_documents([uploads / "ferry.docx"], settings)
    after = open_index(settings)

    new = [p for p in after.passages if p.source == "ferry.docx"]
    assert encode_spy.texts == 2 * len(new)  # a context and a sentence vector each
    kept = [i for i, p in enumerate(after.passages) if p.source == "notes.md"]
    assert [after.passages[i] for i in kept] == before.passages
    np.testing.assert_array_equal(after.context_vectors[kept], before.context_vectors)


def test_add_documents__incremental_index_equals_a_full_rebuild(
    settings: Settings, uploads: Path
) -> None:
    add_documents([uploads / "harbour report.pdf"], settings)
    add_documents([uploads / "lighthouse.html", uploads / "ferry.docx"], settings)
    remove_document("ferry.docx", settings)
    incremental = open_index(settings)
    questions = ["Who is the harbour master?", "Who built the lighthouse?", "Who is treasurer?"]
    answers = [ask(q, settings=settings).to_dict() for q in questions]

    rebuilt = build_index(settings, rebuild=True)

    assert rebuilt.store != incremental.store
    assert rebuilt.passages == incremental.passages
    np.testing.assert_allclose(rebuilt.context_vectors, incremental.context_vectors, atol=1e-5)
    np.testing.assert_allclose(rebuilt.sentence_vectors, incremental.sentence_vectors, atol=1e-5)
    assert [ask(q, settings=settings).to_dict() for q in questions] == answers


def test_add_documents__same_name_needs_replace_and_identical_is_a_no_op(
    settings: Settings, tmp_path: Path
) -> None:
    newer = tmp_path / "notes.md"
    newer.write_text(NOTES.replace("Ivo Marsh", "Rosa Lind"), encoding="utf-8")
    state = _state(settings)

    with pytest.raises(CorpusError, match=r"different document named notes\.md"):
        add_documents([newer], settings)
    assert _state(settings) == state

    same = tmp_path / "same" / "notes.md"
    same.parent.mkdir()
    same.write_text(NOTES, encoding="utf-8")
    assert [d.source for d in add_documents([same], settings)] == ["notes.md"]
    assert _state(settings) == state  # nothing rebuilt

    add_documents([newer], settings, replace=True)
    assert ask("Who is the treasurer?", settings=settings).answer == "Rosa Lind"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("tool.pdf", ELF_HEADER, r"tool\.pdf is not a PDF"),
        ("tool.txt", ELF_HEADER, r"tool\.txt"),
        ("tool.docx", ELF_HEADER, r"tool\.docx"),
        ("setup.exe", ELF_HEADER, r"setup\.exe is a type the assistant does not read"),
        ("scan.pdf", None, r"scan\.pdf: OCR found no text on page 1"),
        ("bomb.png", None, r"bomb\.png, page 1: its declared size is more than 40 megapixels"),
        ("cut.png", None, r"cut\.png, page 1 can't be decoded"),
        ("bomb.docx", None, r"bomb\.docx would inflate to 400 MB .*possible zip bomb"),
        ("cut.pdf", b"", r"cut\.pdf can't be read as a PDF"),
        ("locked.pdf", None, r"locked\.pdf is encrypted"),
        ("empty.md", b" \n\n ", r"empty\.md is empty"),
    ],
)
def test_add_documents__a_hostile_or_broken_file_changes_nothing(
    settings: Settings, tmp_path: Path, name: str, content: bytes | None, problem: str
) -> None:
    path = tmp_path / name
    if name == "scan.pdf":
        content = make_scanned_pdf()
    elif name == "bomb.png":
        content = png_header(60_000, 60_000)
    elif name == "bomb.docx":
        content = make_docx_bomb(400_000_000)
    elif name == "cut.png":
        content = make_scan("PNG")[:3000]
    elif name == "cut.pdf":
        content = make_pdf()[:300]
    elif name == "locked.pdf":
        content = _encrypted(make_pdf())
    path.write_bytes(content or b"")
    state = _state(settings)

    with pytest.raises(CorpusError, match=problem):
        add_documents([path], settings)

    assert _state(settings) == state


def test_add_documents__an_oversize_file_or_too_many_files_change_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Words. " * 200, encoding="utf-8")
    monkeypatch.setattr(assistant.corpus, "MAX_FILE_BYTES", 1000)
    state = _state(settings)

    with pytest.raises(CorpusError, match=r"big\.txt is larger than"):
        add_documents([big], settings)
    with pytest.raises(CorpusError, match=r"at most 20"):
        add_documents([big] * 21, settings)
    assert _state(settings) == state


def test_add_documents__a_traversal_name_lands_inside_the_corpus(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "deep" / "er"
    folder.mkdir(parents=True)
    sneaky = folder / "..\\..\\evil\x07.md"  # a Windows path and a control character
    sneaky.write_text("# Evil\n\nThe evil plan was filed in 1999.\n", encoding="utf-8")

    added = add_documents([sneaky], settings)

    assert [d.source for d in added] == ["evil.md"]
    assert (settings.corpus_dir / "evil.md").is_file()
    assert not (tmp_path / "evil.md").exists()


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\Q3 report.pdf", "Q3 report.pdf"),
        (".hidden.md", "hidden.md"),
        ("a<b>|c?.html", "a_b_c_.html"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_safe_name__keeps_names_inside_the_folder(given: str, safe: str) -> None:
    assert safe_name(given) == safe


@pytest.mark.parametrize("given", ["..", "/", " . ", "\x00\x01"])
def test_safe_name__refuses_a_name_with_nothing_left(given: str) -> None:
    with pytest.raises(CorpusError, match="not a usable file name"):
        safe_name(given)


def test_remove_document__the_document_is_no_longer_answered_or_kept(
    settings: Settings, uploads: Path
) -> None:
    add_documents([uploads / "lighthouse.html"], settings)
    assert ask("When was the Gullrock lighthouse built?", settings=settings).answer == "1871"

    remove_document("lighthouse.html", settings)

    assert [d.source for d in documents(settings).documents] == ["notes.md"]
    assert not (settings.corpus_dir / "lighthouse.html").exists()
    got = ask("When was the Gullrock lighthouse built?", settings=settings)
    assert all(c.source == "notes.md" for c in got.citations)
    with pytest.raises(CorpusError, match=r"no document named 'lighthouse\.html'"):
        remove_document("lighthouse.html", settings)
    with pytest.raises(CorpusError, match=r"notes\.md is the only document"):
        remove_document("notes.md", settings)


def test_build_index__an_unreadable_file_is_skipped_with_a_message_and_the_rest_answers(
    settings: Settings,
) -> None:
    (settings.corpus_dir / "tool.pdf").write_bytes(ELF_HEADER)
    (settings.corpus_dir / "figures.xlsx").write_bytes(b"PK\x03\x04")

    data = build_index(settings)

    reasons = {s.source: s.reason for s in data.skipped}
    assert set(reasons) == {"tool.pdf", "figures.xlsx"}
    assert "tool.pdf is not a PDF" in reasons["tool.pdf"]
    assert "does not read .xlsx" in reasons["figures.xlsx"]
    assert documents(settings).skipped == list(data.skipped)
    assert ask("Who is the treasurer?", settings=settings).answer == "Ivo Marsh"


def test_add_documents__killed_mid_index_leaves_the_previous_index_answering(
    settings: Settings, tmp_path: Path
) -> None:
    long_doc = tmp_path / "long.md"
    long_doc.write_text(
        "\n\n".join(f"Paragraph {i} says the tide rose {i} cm on day {i}." for i in range(4000)),
        encoding="utf-8",
    )
    state = _state(settings)
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "add", str(long_doc)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    staged = settings.corpus_dir / ".incoming"
    while time.monotonic() < deadline and not any(staged.glob("*/long.md")):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.05)
    time.sleep(2.0)  # into the embedding of 4,000 sentences
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    assert _state(settings) == state  # corpus and CURRENT as before
    got = ask("Who is the treasurer?", settings=settings)
    assert got.answer == "Ivo Marsh"
    assert _state(settings) == state  # answering rebuilt nothing
    add_documents([long_doc], settings)  # the next change clears what was left
    assert not staged.exists()
    listed = {d.source: d.passages for d in documents(settings).documents}
    assert listed == {"notes.md": 3, "long.md": 4000}


def _encrypted(pdf: bytes) -> bytes:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_ask__a_document_added_by_another_process_is_answered_without_a_restart(
    settings: Settings, uploads: Path
) -> None:
    assert ask("Who keeps the seed budget?", settings=settings).answer == "Ivo Marsh"
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_dir),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "add", str(uploads / "lighthouse.html")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr

    assert ask("When was the Gullrock lighthouse built?", settings=settings).answer == "1871"


def test_add_documents__parses_each_added_file_once(
    settings: Settings, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.formats
    import assistant.index

    calls: list[str] = []
    real = assistant.corpus.extract_apart

    def counting(data: bytes, name: str, ocr: Any = None) -> Any:
        calls.append(name)
        return real(data, name, ocr)

    monkeypatch.setattr(assistant.corpus, "extract_apart", counting)
    monkeypatch.setattr(assistant.index, "read_document", lambda *a, **k: pytest.fail("re-read"))

    add_documents([uploads / "ferry.docx"], settings)

    assert calls == ["ferry.docx"]


def test_extract_apart__a_runaway_reader_costs_one_message_and_the_caller_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import assistant.sandbox as sandbox

    scan = make_scan("PNG")
    got = sandbox.extract_apart(scan, "scan.png")  # the same text as in process
    assert "Kestrel Bay harbour" in got.text and got.ocr_pages == (1,)
    monkeypatch.setattr(sandbox, "MEMORY_BYTES", 300 * 1024**2)
    with pytest.raises(CorpusError, match=r"^scan\.png could not be read within 300 MB of memory"):
        sandbox.extract_apart(scan, "scan.png")
    monkeypatch.setattr(sandbox, "MEMORY_BYTES", 6 * 1024**3)
    monkeypatch.setattr(sandbox, "SECONDS", 0.5)
    with pytest.raises(CorpusError, match=r"^scan\.png took longer than 0\.5 s to read"):
        sandbox.extract_apart(scan, "scan.png")
    assert sandbox.extract_apart(b"# Notes\n\nStill here.", "n.md").text == "# Notes\n\nStill here."
