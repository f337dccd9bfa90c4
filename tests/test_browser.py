"""The web chat in a real headless Chromium (Debian's ``chromium``), driven by Playwright.

Needs ``/usr/bin/chromium``: ``bash tests/ensure_chromium.sh`` installs it (``make test``
runs that first). Without it these tests fail with that instruction; they never skip.
Screenshots go to ``artifacts/`` (gitignored).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

if TYPE_CHECKING:
    from conftest import AppServer

CHROMIUM = Path("/usr/bin/chromium")
# As root Chromium needs --no-sandbox; the rest keep it off the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
REPLY_TIMEOUT = 20_000  # ms; an answer takes ~30 ms once the server is up

QUESTION_XSS = (
    'Is <img src=x onerror="window.__xss=1"> or <script>window.__xss=2</script> in the article?'
)
# A corpus whose title and one cited line carry markup that would run if not escaped.
XSS_CORPUS = """\
The <b>Harbour</b> Report <img src=x onerror="window.__xss=3">

## Finances
The harbour company invested 7.5 million euros in new cranes in 2021 <img src=x onerror="window.__xss=4">.
The harbour board meets every spring in the old customs house.
Its chairman, Anna Berg, said <script>window.__xss=5</script> the cranes paid off within three years.
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package; "
            "run `bash tests/ensure_chromium.sh` (apt-get install chromium) or `make test`",
            pytrace=False,
        )
    executable = CHROMIUM if CHROMIUM.exists() else Path(str(shutil.which("chromium")))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(REPLY_TIMEOUT)
    yield page
    context.close()


@pytest.fixture(scope="module")
def xss_server(start_app: Callable[..., AppServer], tmp_path_factory) -> AppServer:
    """The web chat over a one-file corpus full of markup, with its own fresh index."""
    root = tmp_path_factory.mktemp("xss")
    (root / "corpus").mkdir()
    (root / "corpus" / "harbour.txt").write_text(XSS_CORPUS, encoding="utf-8")
    return start_app(
        ASSISTANT_CORPUS_DIR=str(root / "corpus"), ASSISTANT_INDEX_DIR=str(root / "index")
    )


def ask_in_page(page: Page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def ask_and_wait(page: Page, question: str, marked: str | re.Pattern[str]) -> None:
    """Ask, then wait for the end of the reply: the sources panel marks ``marked``."""
    ask_in_page(page, question)
    mark = page.locator("#sources .source-card mark.answer-span").first
    expect(mark).to_have_text(marked)


def last_reply(page: Page):
    return page.locator('[data-testid="bot"]').last


def record_reply_lengths(page: Page) -> None:
    """Record each length the chat's last bot message passes through (to see it stream)."""
    page.evaluate(
        """() => {
          window.__lengths = [];
          const chat = document.querySelector('.message-wrap') || document.body;
          new MutationObserver(() => {
            const bots = document.querySelectorAll('[data-testid="bot"]');
            if (bots.length) window.__lengths.push(bots[bots.length - 1].innerText.length);
          }).observe(chat, {subtree: true, childList: true, characterData: true});
        }"""
    )


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_page__streams_answer_and_highlights_source(app_server: AppServer, page: Page) -> None:
    page.goto(app_server.url)
    expect(page.locator("h1")).to_contain_text("Under the shadow of Huawei")
    expect(page.get_by_text("Who is the chairman of Seres?")).to_be_visible()  # an example

    record_reply_lengths(page)
    ask_in_page(page, "How much did Seres and Changan each invest in Yinwang?")
    reply = last_reply(page)
    expect(reply).to_contain_text("11.5 billion yuan")
    expect(reply.locator("strong")).to_have_text("11.5 billion yuan")  # the answer in bold
    expect(reply).to_contain_text("[1]")
    lengths = page.evaluate("window.__lengths")
    assert len({n for n in lengths if n > 1}) >= 3, f"reply did not stream: {lengths}"

    sources = page.locator("#sources")
    mark = sources.locator(".source-card mark.answer-span").first
    expect(mark).to_be_visible()
    expect(mark).to_have_text("11.5 billion yuan")
    expect(sources.locator(".source-card").first).to_contain_text(
        "Investing in Yinwang and Acquiring the AITO Trademark"
    )
    expect(sources.locator(".source-card").first).to_contain_text("score 1.00")

    screenshot(page, "browser-answer.png")

    sources.locator("a.show-in-doc").first.click()
    in_doc = sources.locator("details.doc-view mark#ask-doc-1")
    expect(in_doc).to_be_visible()
    expect(in_doc).to_contain_text("Changan and Seres each invested 11.5 billion yuan")
    expect(in_doc).to_be_in_viewport()
    screenshot(page, "browser-answer-in-document.png")


def test_page__follow_up_abstention_and_new_chat(app_server: AppServer, page: Page) -> None:
    page.goto(app_server.url)
    loss_2020 = re.compile(r"1\.(?:73|729) billion yuan")  # the article gives both figures
    ask_and_wait(page, "How much did Seres lose in 2020?", loss_2020)
    expect(last_reply(page)).to_contain_text(loss_2020)
    ask_and_wait(page, "And in 2022?", "3.832 billion yuan")
    expect(page.locator('[data-testid="bot"]')).to_have_count(2)
    expect(last_reply(page)).to_contain_text("3.832 billion yuan")

    page.get_by_text("Who founded Tesla?").click()  # an example runs when clicked
    expect(page.locator('[data-testid="bot"]')).to_have_count(3)
    expect(last_reply(page)).to_contain_text("doesn't say")
    expect(page.locator("#sources")).to_contain_text("The closest passages")
    expect(page.locator("#sources .source-card")).not_to_have_count(0)

    page.get_by_role("button", name="New chat").click()
    expect(page.locator('[data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#sources .source-card")).to_have_count(0)


def test_page__overlong_question_gets_visible_message(app_server: AppServer, page: Page) -> None:
    page.goto(app_server.url)
    ask_in_page(page, "Why? " * 1000)
    expect(last_reply(page)).to_contain_text("the limit is 1,000")
    expect(page.locator("#question textarea")).to_have_value("Why? " * 1000)  # kept to edit

    page.locator("#question textarea").fill("   ")
    page.locator("#question textarea").press("Enter")
    page.wait_for_timeout(500)
    expect(page.locator('[data-testid="bot"]')).to_have_count(1)  # blank input ignored


def test_page__question_with_markup_shows_as_text_and_runs_nothing(
    app_server: AppServer, page: Page
) -> None:
    page.goto(app_server.url)
    ask_in_page(page, QUESTION_XSS)
    expect(page.locator("#sources .source-card").first).to_be_visible()  # the reply is done
    expect(page.locator('[data-testid="user"]').last).to_have_text(QUESTION_XSS)
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    screenshot(page, "browser-xss-question.png")


def test_page__corpus_markup_shows_as_text_and_runs_nothing(
    xss_server: AppServer, page: Page
) -> None:
    page.goto(xss_server.url)
    expect(page.locator("h1")).to_contain_text(
        '<b>Harbour</b> Report <img src=x onerror="window.__xss=3">'
    )
    ask_in_page(page, "How much did the harbour company invest in new cranes?")
    expect(last_reply(page)).to_contain_text("7.5 million euros")
    expect(last_reply(page)).to_contain_text('<img src=x onerror="window.__xss=4">')
    sources = page.locator("#sources")
    expect(sources.locator(".source-card").first).to_contain_text(
        '<img src=x onerror="window.__xss=4">'
    )
    sources.locator("details.doc-view summary").click()
    expect(sources.locator(".doc-text")).to_contain_text("<script>window.__xss=5</script>")
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    screenshot(page, "browser-xss-corpus.png")


@pytest.fixture(scope="module")
def upload_server(start_app: Callable[..., AppServer], tmp_path_factory) -> AppServer:
    """The web chat over its own copy of the article, for adding and removing documents."""
    root = tmp_path_factory.mktemp("upload")
    (root / "corpus").mkdir()
    article = Path(__file__).resolve().parent.parent / "corpus" / "seres-huawei-aito.txt"
    shutil.copy2(article, root / "corpus" / article.name)
    return start_app(
        ASSISTANT_CORPUS_DIR=str(root / "corpus"), ASSISTANT_INDEX_DIR=str(root / "index")
    )


def test_page__uploaded_pdf_is_answerable_with_its_page_then_removed(
    upload_server: AppServer, page: Page, tmp_path: Path
) -> None:
    from makedocs import ELF_HEADER, make_pdf

    pdf = tmp_path / "harbour report.pdf"
    pdf.write_bytes(make_pdf())
    fake = tmp_path / "tool.pdf"
    fake.write_bytes(ELF_HEADER)
    page.goto(upload_server.url)
    page.get_by_text("Documents", exact=True).click()
    listing = page.locator("#doc-listing")
    expect(listing).to_contain_text("seres-huawei-aito.txt")
    status = page.locator("#library-status")

    page.locator("#upload input[type=file]").set_input_files(str(fake))
    page.locator("#add-documents").click()
    expect(status).to_contain_text("Nothing was added: tool.pdf is not a PDF")
    expect(listing).not_to_contain_text("tool.pdf")

    page.locator("#upload input[type=file]").set_input_files(str(pdf))
    page.locator("#add-documents").click()
    expect(status).to_contain_text("Added harbour report.pdf (PDF, 2 pages", timeout=60_000)
    expect(listing).to_contain_text("harbour report.pdf")
    expect(page.locator("h1")).to_contain_text("2 documents")
    screenshot(page, "browser-upload.png")

    ask_and_wait(page, "Who is the harbour master?", "Petra Holm")
    card = page.locator("#sources .source-card").first
    expect(card).to_contain_text("harbour report.pdf")
    expect(card).to_contain_text("page 2")
    page.locator("#sources details.doc-view summary").first.click()
    expect(page.locator("#sources mark#ask-doc-1")).to_contain_text(
        "The harbour master, Petra Holm"
    )

    page.locator("#remove-choice input").click()
    page.get_by_role("option", name="harbour report.pdf").click()
    page.locator("#remove-document").click()
    expect(status).to_contain_text("Removed harbour report.pdf")
    expect(listing).not_to_contain_text("harbour report.pdf")
    ask_in_page(page, "Who is the harbour master?")
    expect(page.locator('[data-testid="bot"]')).to_have_count(2)
    expect(last_reply(page)).to_contain_text("doesn't say")


def test_page__an_uploaded_scan_is_read_by_ocr_and_cited_with_its_page(
    upload_server: AppServer, page: Page, tmp_path: Path
) -> None:
    from makedocs import make_scan

    scan = tmp_path / "harbour scan.pdf"
    scan.write_bytes(make_scan("PDF"))
    page.goto(upload_server.url)
    page.get_by_text("Documents", exact=True).click()
    expect(page.locator("#library-limits")).to_contain_text("at most 100 pages a file")
    page.locator("#upload input[type=file]").set_input_files(str(scan))
    page.locator("#add-documents").click()
    status = page.locator("#library-status")
    expect(status).to_contain_text("Added harbour scan.pdf (PDF, 2 pages", timeout=120_000)
    expect(status).to_contain_text("OCR on pages 1-2")
    expect(page.locator("#doc-listing")).to_contain_text("OCR on pages 1-2")

    ask_and_wait(page, "Who is the harbour master?", "Petra Holm")
    card = page.locator("#sources .source-card").first
    expect(card).to_contain_text("harbour scan.pdf")
    expect(card).to_contain_text("page 2")
    screenshot(page, "browser-scan.png")


@pytest.fixture(scope="module")
def signin_server(start_app: Callable[..., AppServer], tmp_path_factory) -> tuple[AppServer, Path]:
    """The web chat with sign-in on: a reader and an editor, its own corpus, index and audit log."""
    from conftest import signed_in_app

    root = tmp_path_factory.mktemp("signin")
    accounts = {"rita": ("reader passphrase", "reader"), "ed": ("editor passphrase", "editor")}
    return start_app(**signed_in_app(root, accounts)), root


def sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()


def test_page__a_reader_signs_in_asks_and_sees_no_document_controls(
    signin_server: tuple[AppServer, Path], page: Page
) -> None:
    server, root = signin_server
    page.goto(server.url)
    expect(page.get_by_text("Sign in to ask the documents.")).to_be_visible()
    sign_in(page, server.url, "rita", "wrong passphrase")
    expect(page.get_by_text("Incorrect credentials")).to_be_visible()
    sign_in(page, server.url, "rita", "reader passphrase")
    expect(page.locator("#signed-in")).to_contain_text("Signed in as rita (reader)")
    ask_and_wait(page, "How much did Seres lose in 2020?", "1.73 billion yuan")
    page.get_by_text("Documents", exact=True).click()
    expect(page.locator("#doc-listing")).to_contain_text("seres-huawei-aito.txt")
    expect(page.locator("#upload")).to_be_hidden()
    expect(page.locator("#add-documents")).to_be_hidden()
    expect(page.locator("#remove-document")).to_be_hidden()
    expect(page.locator("#library-limits")).to_be_hidden()
    screenshot(page, "browser-reader.png")
    page.locator("#sign-out").click()
    expect(page.get_by_text("Sign in to ask the documents.")).to_be_visible()
    entries = [line for line in (root / "audit.jsonl").read_text().splitlines() if '"rita"' in line]
    assert '"result": "wrong password"' in entries[0] and '"result": "ok"' in entries[1]


def test_page__an_editor_signs_in_and_adds_a_document_which_the_audit_log_records(
    signin_server: tuple[AppServer, Path], page: Page, tmp_path: Path
) -> None:
    from makedocs import make_docx_bomb

    server, root = signin_server
    bomb = tmp_path / "minutes.docx"
    bomb.write_bytes(make_docx_bomb(400_000_000))
    notes = tmp_path / "garden notes.md"
    notes.write_text(
        "# Garden\n\nThe allotment treasurer, Ivo Marsh, keeps a seed budget of 300 euros.\n"
    )
    sign_in(page, server.url, "ed", "editor passphrase")
    expect(page.locator("#signed-in")).to_contain_text("Signed in as ed (editor)")
    page.get_by_text("Documents", exact=True).click()
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    page.locator("#add-documents").click()
    expect(page.locator("#library-status")).to_contain_text("Added garden notes.md", timeout=60_000)
    page.locator("#upload input[type=file]").set_input_files(str(bomb))
    page.locator("#add-documents").click()
    expect(page.locator("#library-status")).to_contain_text(
        "Nothing was added: minutes.docx would inflate to 400 MB"
    )
    ask_and_wait(page, "Who keeps the seed budget?", "Ivo Marsh")  # still answering
    added = [line for line in (root / "audit.jsonl").read_text().splitlines() if '"add"' in line]
    assert '"user": "ed"' in added[-2] and '"document": "garden notes.md"' in added[-2]
    assert '"result": "added"' in added[-2]
    assert '"document": "minutes.docx"' in added[-1] and '"result": "refused: ' in added[-1]
