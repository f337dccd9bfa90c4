"""Real PDF, Word and HTML files for the tests, generated with libraries (no binaries kept).

Each document is about a made-up harbour (facts nobody else states), so a question
about it can only be answered from the file.
"""

from __future__ import annotations

import io

PDF_PAGES = [
    [
        "Harbour Annual Report",
        "The Kestrel Bay harbour handled 4.2 million tonnes of cargo in 2023. "
        "Most of it was grain and timber shipped to northern ports.",
    ],
    [
        "Cranes and Staff",
        "In 2024 the harbour bought three electric cranes from Lindqvist Engineering. "
        "The harbour master, Petra Holm, said the cranes cut diesel use by a third.",
    ],
]
DOCX_TITLE = "Ferry Timetable Review"
DOCX_PARAGRAPHS = [
    "The night ferry to Saltholm was cancelled in March 2022 after a storm damaged the pier.",
    "Service resumed in June 2022 with a smaller vessel called the Tern.",
]
HTML_PAGE = """<!doctype html>
<html><head><title>Lighthouse notes</title><style>p { color: red }</style>
<script>window.__ran = 1; document.write("script text")</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About the site</a></nav>
<main><h1>The Gullrock Lighthouse</h1>
<p>The Gullrock lighthouse was built in 1871 by the engineer Tomas Ek &amp; his crew.</p>
<p>Its lamp was automated in 1964 and can be seen from 19 nautical miles away.</p></main>
<footer>Copyright notice and cookie settings</footer></body></html>
"""


def make_pdf(pages: list[list[str]] = PDF_PAGES) -> bytes:
    """A PDF with a text layer: each page a heading line, then its paragraphs."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    for heading, *paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for text in paragraphs:
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    return bytes(pdf.output())


def make_scanned_pdf() -> bytes:
    """A PDF whose only page is a drawing: no text layer, as a scan without OCR."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def make_docx(title: str = DOCX_TITLE, paragraphs: list[str] = DOCX_PARAGRAPHS) -> bytes:
    """A Word document: a heading, paragraphs and a small table."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Route", "Crossing time"
    table.cell(1, 0).text, table.cell(1, 1).text = "Saltholm", "45 minutes"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56  # the start of a Linux executable


def make_scan(fmt: str = "PDF", pages: list[list[str]] = PDF_PAGES, dpi: int = 200) -> bytes:
    """``make_pdf(pages)`` as a scanner gives it: page images without a text layer,
    as an image-only PDF, a PNG or JPEG (the first page) or a multi-page TIFF."""
    from evals.pages import image_file, image_pdf, rasterise

    images = rasterise(make_pdf(pages), dpi)
    if fmt == "PDF":
        return image_pdf(images, dpi)
    return image_file(images if fmt == "TIFF" else images[:1], fmt, dpi)


def make_mixed_pdf() -> bytes:
    """Page 1 with a text layer, page 2 scanned (an image only): OCR reads page 2 alone."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(make_pdf(PDF_PAGES[:1]))).pages[0])
    writer.add_page(PdfReader(io.BytesIO(make_scan("PDF", PDF_PAGES[1:]))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels but holds one row: a decompression
    bomb's header, refused before any pixel is decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" + b"\xff" * min(width, 1000)))
        + chunk(b"IEND", b"")
    )


def make_docx_bomb(inflated: int) -> bytes:
    """A real Word file whose word/document.xml is padded to ``inflated`` bytes of spaces
    inside its XML (a zip bomb: the padding packs about 1,000 to 1)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "word/document.xml":
                head, tail = body.split(b"<w:body>", 1)
                with bomb.open(item.filename, "w", force_zip64=True) as stream:
                    stream.write(head + b"<w:body>")
                    chunk = b" " * 1_000_000
                    for _ in range(inflated // len(chunk)):
                        stream.write(chunk)
                    stream.write(tail)
            else:
                bomb.writestr(item, body)
    return out.getvalue()
