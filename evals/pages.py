"""Scanned pages of known text, made here: typeset to PDF, rasterised, then degraded.

The OCR eval and the tests read these instead of committed binaries: any text is typeset
(fpdf2, Times 11 pt on A4), rendered at a resolution (pypdfium2), and put through the
conditions a scanner or a phone gives (a slight rotation, blur, noise). Deterministic:
the noise is seeded. ``plain`` is the text as typeset (the core PDF fonts are Latin-1, so
curly quotes and dashes become ASCII), the reference OCR is scored against.

    >>> pdf = typeset("Sales rose in 2023.")
    >>> [image] = rasterise(pdf, dpi=150)
    >>> noisy = degrade(image, "noise", seed=0)
"""

from __future__ import annotations

import io
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

CONDITIONS = ("clean", "rotated", "blurred", "noise", "all")
_ASCII = str.maketrans(
    {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "…": "...", "\xa0": " "}
)


def plain(text: str) -> str:
    """The text as the core PDF fonts can set it. Example: "“Yes” — no" -> '"Yes" - no'."""
    text = unicodedata.normalize("NFKC", text.translate(_ASCII))
    return text.encode("latin-1", "replace").decode("latin-1").replace("\r", "")


def typeset(text: str, size: float = 11.0) -> bytes:
    """A PDF with a text layer: ``plain(text)`` in Times on A4, paragraphs a line apart."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Times", size=size)
    for paragraph in plain(text).split("\n"):
        if paragraph.strip():
            pdf.multi_cell(0, size * 0.5, paragraph.strip(), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(size * 0.3)
    return bytes(pdf.output())


def rasterise(pdf: bytes, dpi: int) -> list[Image.Image]:
    """Every page of ``pdf`` as a greyscale image at ``dpi``."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def degrade(image: Image.Image, condition: str, seed: int = 0) -> Image.Image:
    """``image`` as scanned under ``condition`` (one of ``CONDITIONS``), at its own resolution.

    "rotated": 1 degree; "blurred": a Gaussian blur of a 0.1 mm radius; "noise": Gaussian
    noise (sigma 20 of 255) and 0.2% speckles; "all": the three together.
    """
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageFilter

    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; one of {', '.join(CONDITIONS)}")
    dpi = image.width / 8.27  # A4 is 8.27 inches wide
    out = image.convert("L")
    if condition in ("rotated", "all"):
        out = out.rotate(1.0, resample=PILImage.Resampling.BICUBIC, expand=True, fillcolor=255)
    if condition in ("blurred", "all"):
        out = out.filter(ImageFilter.GaussianBlur(radius=0.1 / 25.4 * dpi))
    if condition in ("noise", "all"):
        rng = np.random.default_rng(seed)
        pixels = np.asarray(out, dtype=np.float32) + rng.normal(0, 20, (out.height, out.width))
        speckles = rng.random((out.height, out.width)) < 0.002
        pixels[speckles] = rng.choice([0.0, 255.0], size=int(speckles.sum()))
        out = PILImage.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return out


def image_pdf(images: list[Image.Image], dpi: int) -> bytes:
    """A PDF of page images and no text layer: what a scanner writes."""
    buffer = io.BytesIO()
    first, *rest = [i.convert("RGB") for i in images]
    first.save(buffer, "PDF", resolution=float(dpi), save_all=True, append_images=rest)
    return buffer.getvalue()


def image_file(images: list[Image.Image], fmt: str, dpi: int) -> bytes:
    """PNG or JPEG of one page, or a TIFF of all of them (one frame a page)."""
    buffer = io.BytesIO()
    if fmt == "TIFF":
        first, *rest = images
        first.save(
            buffer,
            "TIFF",
            dpi=(dpi, dpi),
            save_all=True,
            append_images=rest,
            compression="tiff_deflate",
        )
    else:
        (image,) = images
        image.convert("RGB" if fmt == "JPEG" else image.mode).save(buffer, fmt, dpi=(dpi, dpi))
    return buffer.getvalue()
