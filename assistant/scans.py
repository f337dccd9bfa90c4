"""Scanned documents -> text: image files and the PDF pages that have no text layer.

Scope: opening ``.png``/``.jpg``/``.tif`` files (every frame of a multi-page TIFF) and
rendering image-only PDF pages (pypdfium2), within the limits below, then reading them
with ``ocr``. Limits are checked before any pixel is decoded: the declared size of an
image (a decompression bomb is refused from its header), the page count, and OCR's
time per file. Every problem is a ``CorpusError`` naming the file and, where it is one
page's, the page. Non-goals: deskewing, dewarping photos, PDFs' embedded fonts as text
(pypdf reads the text layer), handwriting.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.errors import CorpusError, short_reason
from assistant.ocr import OCR_SECONDS, OcrOptions, OcrPage, read_pages

if TYPE_CHECKING:
    from PIL import Image

MAX_OCR_PAGES = 100  # pages of one file read by OCR
MAX_PIXELS = 40_000_000  # of one page image (an A4 page at 300 dpi has 8.7 million)
OCR_DPI = 300  # PDF pages are rendered at this resolution, or less to stay under MAX_PIXELS
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "TIFF": "tiff"}
LIMITS = (
    f"Scans and photos are read by OCR: at most {MAX_OCR_PAGES} pages a file, "
    f"{MAX_PIXELS // 1_000_000} megapixels a page, {OCR_SECONDS / 60:g} minutes a file"
)


def image_pages(data: bytes, name: str, digest: str, options: OcrOptions) -> list[OcrPage]:
    """The OCR'd pages of an image file (one per TIFF frame), in order."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = (
        4 * MAX_PIXELS
    )  # Pillow refuses far larger ones at open; ours names the size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            frames = getattr(image, "n_frames", 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(name, 1, "its declared size") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise CorpusError(
            f"{name} can't be read as an image ({short_reason(exc)}); export it again"
        ) from None
    if image.format not in IMAGE_FORMATS:
        raise CorpusError(
            f"{name} is a {image.format} image; the assistant reads PNG, JPEG and TIFF"
        )
    if frames > MAX_OCR_PAGES:
        raise CorpusError(
            f"{name} has {frames} pages; OCR reads at most {MAX_OCR_PAGES} per file, split it"
        )

    def frame(number: int) -> Callable[[], Image.Image]:
        def render() -> Image.Image:
            try:
                image.seek(number - 1)
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise CorpusError(
                        f"{name}, page {number}: {width}x{height} pixels is more than "
                        f"{MAX_PIXELS // 1_000_000} megapixels; scan it at a lower resolution"
                    )
                image.load()
                return image.convert("RGB")
            except CorpusError:
                raise
            except (
                Image.DecompressionBombError,
                OSError,
                ValueError,
                SyntaxError,
                EOFError,
            ) as exc:
                raise CorpusError(
                    f"{name}, page {number} can't be decoded ({short_reason(exc)}); export it again"
                ) from None

        return render

    try:
        found = read_pages(name, digest, [(n, frame(n)) for n in range(1, frames + 1)], options)
    finally:
        image.close()
    return [found[n] for n in range(1, frames + 1)]


def _too_large(name: str, page: int, size: str) -> CorpusError:
    return CorpusError(
        f"{name}, page {page}: {size} is more than {MAX_PIXELS // 1_000_000} megapixels "
        "(refused before decoding); scan it at a lower resolution"
    )


def pdf_pages(
    data: bytes, name: str, digest: str, numbers: list[int], options: OcrOptions
) -> dict[int, OcrPage]:
    """OCR of the 1-based pages ``numbers`` of a PDF (the ones without a text layer)."""
    if len(numbers) > MAX_OCR_PAGES:
        raise CorpusError(
            f"{name} has {len(numbers)} scanned pages; OCR reads at most {MAX_OCR_PAGES} "
            "per file, split it"
        )
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CorpusError(
            f"{name} can't be rendered for OCR ({short_reason(exc)}); export it again"
        ) from None

    def page(number: int) -> Callable[[], Image.Image]:
        def render() -> Image.Image:
            try:
                pdf_page = document[number - 1]
                width, height = pdf_page.get_size()  # points, 1/72 inch
                scale = min(OCR_DPI / 72, (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
                return pdf_page.render(scale=scale).to_pil().convert("RGB")
            except (pdfium.PdfiumError, ValueError, OSError, MemoryError) as exc:
                raise CorpusError(
                    f"{name}, page {number} can't be rendered for OCR ({short_reason(exc)}); export it again"
                ) from None

        return render

    try:
        return read_pages(name, digest, [(n, page(n)) for n in numbers], options)
    finally:
        document.close()
