"""assistant.formats: real PDF, Word and HTML files -> text, and every refusal a user can meet."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from assistant import formats
from assistant.errors import CorpusError
from assistant.formats import Extracted, extract, kind_of, page_at, sniff
from assistant.layout import reflow

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
LONG_1 = "The plant produced more steel than in any year before. " * 4
LONG_2 = "A second paragraph follows with its own sentences about costs. " * 3


def write(pdf: FPDF, text: str) -> None:
    """A paragraph wrapped to the page width, the cursor then back at the left margin."""
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def make_pdf(*, blank_page: bool = False) -> bytes:
    """Page 1: a heading, two paragraphs; page 2: a word split "manage-/ment"; or 4 pages, 3 blank."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(text="Annual Report")
    pdf.ln(12)
    pdf.set_font("Helvetica", size=11)
    write(pdf, LONG_1 + "Output rose in the third quarter.")
    pdf.ln(4)
    write(pdf, LONG_2)
    pdf.add_page()
    write(pdf, "Page two begins here. The costs were well under control and the manage-")
    write(pdf, "ment was pleased with the outcome.")
    if blank_page:
        pdf.add_page()
        pdf.rect(10, 10, 50, 50)
        pdf.add_page()
        write(pdf, "The last page has one sentence.")
    return bytes(pdf.output())


def make_blank_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    return bytes(pdf.output())


def encrypt(data: bytes, user_password: str) -> bytes:
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(data)).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Plant Report", level=0)  # style "Title"
    document.add_heading("Costs", level=1)
    document.add_paragraph("Costs fell by 4% in 2023.")
    document.add_paragraph("")  # empty paragraphs are dropped
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["Year", "Output", "Costs"], strict=True):
        cell.text = text
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    table.cell(1, 0).text = "2023"
    merged.text = "not reported"
    document.add_heading("Outlook", level=2)
    document.add_paragraph("Sales should\trise  again.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_zip(names: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return out.getvalue()


PAGE = b"""<!DOCTYPE html>
<html><head><title>Steel &amp; Iron</title>
<style>p { color: red }</style><script>var secret = "SCRIPT TEXT";</script></head>
<body>
<header><a href="/">Home</a> SITE BANNER</header>
<nav><ul><li>Menu item</li></ul></nav>
<main>
  <h1>Annual   Report</h1>
  <p>Output rose by 7&nbsp;% &mdash; a <b>record</b> year.</p>
  <p hidden>HIDDEN TEXT</p>
  <div aria-hidden="true">ARIA HIDDEN</div>
  <ul><li>First point</li><li>Second point</li></ul>
  <table><tr><th>Year</th><th>Output</th></tr><tr><td>2023</td><td>1.2 Mt</td></tr></table>
  <p>Line one<br>Line two</p>
  <form><button>Subscribe</button></form>
</main>
<aside>SIDEBAR</aside>
<footer>COPYRIGHT FOOTER</footer>
</body></html>"""


# --- kind_of, sniff, page_at ---------------------------------------------------------------


def test_kind_of__reads_the_suffix_case_insensitively():
    assert kind_of("corpus/Report.PDF") == "pdf"
    assert kind_of("a.htm") == kind_of("b.HTML") == "html"
    assert kind_of("notes.md") == kind_of("notes.txt") == "text"
    assert kind_of("memo.docx") == "docx"
    assert kind_of("sheet.xlsx") is None
    assert kind_of("README") is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\r\n  \n%PDF-1.4\n", "pdf"),
        (b"PK\x03\x04 not really a zip", "zip"),
        (ELF, "binary"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "binary"),
        (b"plain\x00text", "binary"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html>", "html"),
        (b"<!-- saved page -->\n<HTML lang=en>", "html"),
        (b"Some notes\n<div class=x>inline</div>", "html"),
        (b"MZ is a postcode area.\n", "text"),
        ("caf\u00e9 prices".encode("latin-1"), "text"),
    ],
)
def test_sniff__names_what_the_content_is(data, expected):
    assert sniff(data) == expected


def test_sniff__tells_a_docx_from_another_zip():
    assert sniff(make_docx()) == "docx"
    assert sniff(make_zip({"xl/workbook.xml": b"<x/>"})) == "zip"


def test_page_at__maps_offsets_to_pages():
    assert page_at((), 10) is None
    assert page_at((0, 120, 300), 0) == 1
    assert page_at((0, 120, 300), 119) == 1
    assert page_at((0, 120, 300), 120) == 2
    assert page_at((0, 120, 300), 5000) == 3
    # Page 2 has no text and starts where page 3 starts: the text there is page 3's.
    assert page_at((0, 50, 50), 50) == 3


# --- text files ------------------------------------------------------------------------------


def test_extract__returns_a_text_file_byte_for_byte():
    data = "Title\r\n\r\n  Café costs rose.  \n\n\tTabbed — “quoted”\n".encode()
    extracted = extract(data, "corpus/notes.txt")
    assert extracted == Extracted(text=data.decode("utf-8"), kind="text", pages=())
    assert extracted.text.encode("utf-8") == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"text\x00with NUL", r"^corpus/a\.txt looks binary \(it contains NUL bytes\); remove it$"),
        ("café".encode("latin-1"), r"^corpus/a\.txt is not UTF-8 text; convert it or remove it$"),
        (b"\xef\xbb\xbfhello", r"^corpus/a\.txt starts with a byte-order mark; save it as UTF-8"),
        (b" \n\t\n", r"^corpus/a\.txt is empty; add text to it or remove it$"),
    ],
)
def test_extract__refuses_unusable_text_files_as_ingest_does(data, message):
    with pytest.raises(CorpusError, match=message):
        extract(data, "corpus/a.txt")


def test_extract__refuses_a_file_over_the_size_limit(monkeypatch):
    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 100)
    with pytest.raises(CorpusError, match=r"^big\.md is larger than .* MB; split it$"):
        extract(b"x" * 101, "big.md")
    assert extract(b"x" * 100, "big.md").text == "x" * 100


@pytest.mark.parametrize("name", ["corpus/sheet.xlsx", "corpus/README"])
def test_extract__refuses_a_type_it_does_not_read(name):
    with pytest.raises(
        CorpusError, match=rf"^{name} is a type .* does not read .*use \.pdf, \.docx"
    ):
        extract(b"anything", name)


@pytest.mark.parametrize("name", ["report.pdf", "notes.txt", "memo.docx", "notes.md", "page.html"])
def test_extract__refuses_an_executable_whatever_its_name(name):
    with pytest.raises(
        CorpusError, match=rf"^{name} is not .*looks like an executable\); remove it"
    ):
        extract(ELF, name)


def test_extract__says_what_a_misnamed_file_really_is():
    with pytest.raises(CorpusError, match=r"notes\.txt is not text .*a PDF\); rename it to \.pdf"):
        extract(make_pdf(), "notes.txt")
    with pytest.raises(CorpusError, match=r"report\.pdf is not a PDF .*a web page\); rename it"):
        extract(PAGE, "report.pdf")
    with pytest.raises(CorpusError, match=r"memo\.docx is not a Word document .*zip archive"):
        extract(make_zip({"content.xml": b"<office/>"}), "memo.docx")
    with pytest.raises(CorpusError, match=r"page\.html is not HTML .*Word document\); rename"):
        extract(make_docx(), "page.html")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # a .doc, or a .docx with a password
    with pytest.raises(CorpusError, match=r"memo\.docx is not .*as \.docx without a password$"):
        extract(ole, "memo.docx")


# --- PDF -----------------------------------------------------------------------------------


def test_extract_pdf__joins_wrapped_lines_into_paragraphs_in_order():
    extracted = extract(make_pdf(), "corpus/report.pdf")
    assert extracted.kind == "pdf"
    paragraphs = extracted.text.split("\n\n")
    assert paragraphs[0] == "Annual Report"
    assert paragraphs[1] == (LONG_1 + "Output rose in the third quarter.")
    assert paragraphs[2] == LONG_2.strip()
    assert "\r" not in extracted.text and "  " not in extracted.text


def test_extract_pdf__undoes_hyphenation_across_lines():
    text = extract(make_pdf(), "report.pdf").text
    assert "the management was pleased with the outcome." in text
    assert "manage-" not in text


def test_extract_pdf__page_offsets_point_at_each_page_start():
    extracted = extract(make_pdf(blank_page=True), "report.pdf")
    pages = extracted.pages
    assert len(pages) == 4
    assert extracted.text[pages[0] :].startswith("Annual Report")
    assert extracted.text[pages[1] :].startswith("Page two begins here.")
    # The blank page 3 starts where page 4's text starts.
    assert pages[2] == pages[3]
    assert extracted.text[pages[3] :] == "The last page has one sentence."
    assert page_at(pages, extracted.text.index("third quarter")) == 1
    assert page_at(pages, extracted.text.index("management")) == 2
    assert page_at(pages, extracted.text.index("last page")) == 4


def test_extract_pdf__allows_whitespace_before_the_header():
    assert extract(b"\n\n  " + make_pdf(), "report.pdf").text.startswith("Annual Report")


def test_extract_pdf__refuses_a_pdf_without_text_even_by_ocr():
    with pytest.raises(CorpusError, match=r"^scan\.pdf: OCR found no text on page 1; scan it"):
        extract(make_blank_pdf(), "scan.pdf")


def test_extract_pdf__refuses_a_password_protected_pdf():
    with pytest.raises(CorpusError, match=r"^locked\.pdf is encrypted with a password; save an"):
        extract(encrypt(make_pdf(), user_password="secret"), "locked.pdf")


def test_extract_pdf__opens_a_pdf_with_only_an_owner_password():
    extracted = extract(encrypt(make_pdf(), user_password=""), "restricted.pdf")
    assert extracted.text.startswith("Annual Report")


def test_extract_pdf__refuses_a_truncated_pdf_naming_it():
    with pytest.raises(
        CorpusError, match=r"^corpus/cut\.pdf can't be read as a PDF \(.+\); export"
    ):
        extract(make_pdf()[:200], "corpus/cut.pdf")


def test_extract_pdf__reflow_breaks_paragraphs_at_blank_lines_short_lines_and_headings():
    long = "x" * 60
    lines = [
        "Outlook",  # short, unpunctuated, followed by a capital: a heading
        f"Sales rose in every {long}",
        "region.",  # short and ends a sentence: ends the paragraph
        f"Rolls-Royce and Bentley {long} Rolls-",
        f"Royce again {long}",
        "",
        "After a blank line.",
        "and a short line with lower case",
        "• First item",
        "• Second item",
    ]
    assert reflow("\n".join(lines)) == [
        "Outlook",
        f"Sales rose in every {long} region.",
        f"Rolls-Royce and Bentley {long} Rolls-Royce again {long}",
        "After a blank line.",
        "and a short line with lower case",
        "• First item",
        "• Second item",
    ]


def test_extract_pdf__reflow_follows_its_docstring_example():
    lines = ["Costs were man-", "aged well. Sales", "rose.", "Outlook", "Good."]
    assert reflow("\n".join(lines)) == ["Costs were managed well. Sales rose.", "Outlook", "Good."]


def test_extract_pdf__reflow_keeps_long_lines_ending_in_a_full_stop_together():
    # Wrapped lines of one paragraph end with "." by chance; only short lines end paragraphs.
    lines = ["The plant was built in 1970. It grew fast and it employs many people.", "Now it"]
    assert reflow("\r\n".join(lines)) == [" ".join(lines)]


# --- Word ----------------------------------------------------------------------------------


def test_extract_docx__keeps_headings_paragraphs_and_table_rows_in_order():
    extracted = extract(make_docx(), "corpus/memo.docx")
    assert extracted.kind == "docx"
    assert extracted.pages == ()
    assert extracted.text.split("\n\n") == [
        "# Plant Report",
        "# Costs",
        "Costs fell by 4% in 2023.",
        "Year | Output | Costs",
        "2023 | not reported",  # the merged cell once
        "## Outlook",
        "Sales should rise again.",
    ]


def test_extract_docx__refuses_an_empty_document():
    out = io.BytesIO()
    docx.Document().save(out)
    with pytest.raises(CorpusError, match=r"^memo\.docx is empty; add text to it or remove it$"):
        extract(out.getvalue(), "memo.docx")


def test_extract_docx__refuses_a_broken_document():
    broken = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not xml"})
    with pytest.raises(CorpusError, match=r"^memo\.docx can't be read as a Word document \("):
        extract(broken, "memo.docx")


# --- HTML ----------------------------------------------------------------------------------


def test_extract_html__keeps_the_main_content_without_scripts_or_page_furniture():
    extracted = extract(PAGE, "corpus/page.html")
    assert extracted.kind == "html"
    assert extracted.text.split("\n\n") == [
        "# Annual Report",
        "Output rose by 7 % — a record year.",  # &nbsp; is a space here
        "First point",
        "Second point",
        "Year | Output",
        "2023 | 1.2 Mt",
        "Line one",
        "Line two",
    ]
    for absent in ("SCRIPT", "color", "BANNER", "Menu", "HIDDEN", "SIDEBAR", "FOOTER", "Subscribe"):
        assert absent not in extracted.text


def test_extract_html__puts_the_title_first_when_the_text_has_no_heading():
    page = b"<html><head><title>Plant  news</title></head><body><p>Costs fell.</p></body></html>"
    assert extract(page, "news.htm").text == "# Plant news\n\nCosts fell."


def test_extract_html__keeps_an_article_header_and_reads_the_declared_charset():
    page = (
        '<html><head><meta charset="iso-8859-1"></head><body><header>Site</header>'
        "<article><header><h2>Caf\xe9 prices</h2></header><p>Up 3%.</p>"
        "<footer>Tags: coffee</footer></article></body></html>"
    ).encode("latin-1")
    assert extract(page, "cafe.html").text == "## Café prices\n\nUp 3%.\n\nTags: coffee"


def test_extract_html__reads_a_fragment_and_deep_nesting():
    assert extract(b"Just a line of text.\r\n", "note.html").text == "Just a line of text."
    deep = b"<div>" * 5000 + b"Deep text." + b"</div>" * 5000
    assert extract(deep, "deep.html").text == "Deep text."


def test_extract_html__refuses_a_page_without_text():
    page = b"<html><head><title>Only title</title><script>x()</script></head><body> </body></html>"
    with pytest.raises(CorpusError, match=r"^empty\.html is empty; add text to it or remove it$"):
        extract(page, "empty.html")


# --- loading -------------------------------------------------------------------------------


def test_formats__imports_no_parser_until_one_is_needed():
    code = (
        "import sys, assistant.formats; print(sorted({'pypdf', 'docx', 'bs4'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- Scans (OCR) ---------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "name"), [("PNG", "scan.png"), ("JPEG", "photo.JPG")])
def test_extract_image__reads_a_png_or_jpeg_page_by_ocr(fmt, name):
    from makedocs import make_scan

    extracted = extract(make_scan(fmt), name)
    assert extracted.kind == "image"
    assert extracted.pages == (0,)
    assert extracted.ocr_pages == (1,) and extracted.ocr_confidence[0] > 0.9
    assert extracted.text.startswith("Harbour Annual Report\n\nThe Kestrel Bay harbour handled")
    assert "4.2 million tonnes of cargo in 2023" in extracted.text


def test_extract_image__reads_every_page_of_a_tiff_with_its_page_offsets():
    from makedocs import make_scan

    extracted = extract(make_scan("TIFF"), "scan.tiff")
    assert extracted.ocr_pages == (1, 2)
    second = extracted.text[extracted.pages[1] :]
    assert second.startswith("Cranes and Staff")
    assert page_at(extracted.pages, extracted.text.index("Petra Holm")) == 2


def test_extract_pdf__ocr_reads_only_the_pages_without_a_text_layer():
    from makedocs import make_mixed_pdf

    extracted = extract(make_mixed_pdf(), "mixed.pdf")
    assert extracted.ocr_pages == (2,)
    assert extracted.text.startswith("Harbour Annual Report")  # page 1's text layer
    assert page_at(extracted.pages, extracted.text.index("Petra Holm")) == 2


def test_sniff__knows_images_by_content():
    from makedocs import make_scan, png_header

    assert sniff(png_header(10, 10)) == "image"
    assert sniff(make_scan("JPEG")) == "image"


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "bomb.png",
            "bomb",
            r"^bomb\.png, page 1: its declared size is more than 40 megapixels \(refused before",
        ),
        ("cut.png", "cut", r"^cut\.png, page 1 can't be decoded \(.*\); export it again"),
        ("noise.png", "garbage", r"^noise\.png can't be read as an image \(.*\); export it again"),
        (
            "tool.png",
            "elf",
            r"^tool\.png is not a PNG, JPEG or TIFF image \(its content looks like an executable\)",
        ),
        (
            "pages.tif",
            "many",
            r"^pages\.tif has 101 pages; OCR reads at most 100 per file, split it",
        ),
        ("pages.pdf", "many-pdf", r"^pages\.pdf has 101 scanned pages; OCR reads at most 100"),
        ("wide.png", "wide", r"^wide\.png, page 1: 9000x5000 pixels is more than 40 megapixels"),
        ("blank.png", "blank", r"^blank\.png: OCR found no text on page 1"),
        ("picture.gif", "gif", r"^picture\.gif is a type the assistant does not read \(\.gif\)"),
    ],
)
def test_extract_image__refuses_hostile_and_broken_images_with_the_file_and_page(
    name, make, message
):
    from makedocs import ELF_HEADER, make_scan, png_header
    from PIL import Image

    from evals.pages import image_file, image_pdf

    tiny = [Image.new("L", (20, 20), 255)] * 101
    data = {
        "bomb": lambda: png_header(100_000, 100_000),
        "wide": lambda: png_header(9000, 5000),  # over the limit, under Pillow's own
        "cut": lambda: make_scan("PNG")[:2000],
        "garbage": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50,
        "elf": lambda: ELF_HEADER,
        "many": lambda: image_file(tiny, "TIFF", 72),
        "many-pdf": lambda: image_pdf(tiny, 72),
        "blank": lambda: image_file([Image.new("L", (600, 800), 255)], "PNG", 72),
        "gif": lambda: b"GIF89a",
    }[make]()
    with pytest.raises(CorpusError, match=message):
        extract(data, name)


def test_extract_docx__refuses_a_zip_bomb_before_inflating_it():
    import resource

    from makedocs import make_docx_bomb

    bomb = make_docx_bomb(400_000_000)
    assert len(bomb) < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    with pytest.raises(
        CorpusError,
        match=r"^bomb\.docx would inflate to 400 MB \(word/document\.xml, .* possible zip bomb",
    ):
        extract(bomb, "bomb.docx")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # < 100 MB more
