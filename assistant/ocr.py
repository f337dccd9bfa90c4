"""Page images -> text, through OCR (RapidOCR's PP-OCRv4 models on onnxruntime), cached by file.

Scope: one page image -> ``OcrPage`` (paragraphs in reading order, a confidence);
the pages of one file -> their ``OcrPage`` in order, with a progress callback, a time
limit and a cache keyed by the file's sha256, so an unchanged file is read once.
Detection runs on the page scaled to ``DETECT_SIDE`` pixels; each line found is cut
from the full-resolution page and recognised on its own (the engine's batching pads
lines to the longest and is slower on 2 cores). The engine's angle classifier is off:
it turns upright lines of Latin text upside down. Non-goals: handwriting, rotated
pages, languages the PP-OCRv4 recogniser does not know (it reads Chinese and English).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import CorpusError
from assistant.layout import Box, ordered_lines, reflow, upright

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

OCR_VERSION = "rapidocr-1.4.4 ppocrv4 det1600 line48 layout-2"  # part of the cache key
DETECT_SIDE = 1600  # pixels of the page's long side that text detection sees
# The recogniser's input height. Shorter lines are enlarged to it here with Lanczos
# rather than by the engine's bilinear resize: on a 150 dpi page that halves the words
# run together (spaces lost between them).
LINE_HEIGHT = 48
OCR_SECONDS = 600.0  # per file
LOW_CONFIDENCE = 0.85  # a page read with less is flagged on the Documents panel

Progress = Callable[[str, int, int], None]  # (file name, pages done, pages to read)


@dataclass(frozen=True)
class OcrPage:
    """One page as OCR read it: ``text`` is paragraphs joined by blank lines ("" if none)."""

    text: str
    confidence: float  # mean recogniser score, weighted by characters; 0.0 without text


@dataclass(frozen=True)
class OcrOptions:
    """How OCR runs for one extraction: where its cache is, who hears of progress."""

    cache_dir: Path | None = None  # None: no cache
    on_page: Progress | None = None
    seconds: float = OCR_SECONDS
    threads: int = 0  # 0: all cores


def read_image(image: Image.Image, threads: int = 0) -> OcrPage:
    """The text on one page image. Example: a scan of "Sales rose." -> OcrPage("Sales rose.", 0.99)"""
    import cv2
    import numpy as np

    from assistant.models import ocr_engine

    engine = ocr_engine(threads)
    page = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    height, width = page.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = (
        page
        if scale == 1.0
        else cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    )
    found, _ = engine.text_det(small)
    if found is None or len(found) == 0:
        return OcrPage("", 0.0)
    quads = [(q / scale).astype(np.float32) for q in found]
    crops = engine.get_crop_img_list(page, quads)
    boxes: list[Box] = []
    corners = upright([[(float(x), float(y)) for x, y in q] for q in quads])
    for (x0, y0, x1, y1), crop in zip(corners, crops, strict=True):
        if 0 < crop.shape[0] < LINE_HEIGHT:  # small print or a low resolution: see LINE_HEIGHT
            width = max(1, round(crop.shape[1] * LINE_HEIGHT / crop.shape[0]))
            crop = cv2.resize(crop, (width, LINE_HEIGHT), interpolation=cv2.INTER_LANCZOS4)
        result, _ = engine.text_rec([crop])
        text, score = result[0][0], result[0][1]
        if text.strip():
            boxes.append(Box(text, x0, y0, x1, y1, float(score)))
    paragraphs = reflow("\n".join(ordered_lines(boxes)))
    chars = sum(len(b.text) for b in boxes)
    confidence = sum(b.score * len(b.text) for b in boxes) / chars if chars else 0.0
    return OcrPage("\n\n".join(paragraphs), round(confidence, 4))


def read_pages(
    name: str,
    digest: str,
    pages: Sequence[tuple[int, Callable[[], Image.Image]]],
    options: OcrOptions,
) -> dict[int, OcrPage]:
    """OCR of ``pages`` (page number, a function rendering it) of file ``name``, by page number.

    Pages in the cache for ``digest`` are not read again (nor reported to ``on_page``);
    the cache is written once all pages are read and some text was found. ``CorpusError`` naming the file and the page
    when the time limit runs out.
    """
    cached = _load_cache(options.cache_dir, digest)
    done: dict[int, OcrPage] = {n: cached[n] for n, _ in pages if n in cached}
    todo = [(n, render) for n, render in pages if n not in done]
    start = time.monotonic()
    for i, (number, render) in enumerate(todo):
        if options.on_page:
            options.on_page(name, len(done), len(pages))
        if i and time.monotonic() - start > options.seconds:  # the first page always runs
            raise CorpusError(
                f"{name}: OCR stopped at page {number} after {options.seconds:g} s "
                f"({i} of {len(todo)} pages read); split the file into smaller parts"
            )
        done[number] = read_image(render(), options.threads)
    if todo and options.on_page:
        options.on_page(name, len(pages), len(pages))
    if todo and any(p.text for p in done.values()):
        _store_cache(options.cache_dir, digest, {**cached, **done})
    return done


def _cache_file(cache_dir: Path, digest: str) -> Path:
    return cache_dir / f"{digest}.json"


def _load_cache(cache_dir: Path | None, digest: str) -> dict[int, OcrPage]:
    if cache_dir is None:
        return {}
    try:
        data = json.loads(_cache_file(cache_dir, digest).read_text("utf-8"))
        if data.get("version") != OCR_VERSION:
            return {}
        return {
            int(n): OcrPage(p["text"], float(p["confidence"])) for n, p in data["pages"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning(
            "OCR cache for %s is unreadable (%s); reading the pages again", digest[:12], exc
        )
        return {}


def _store_cache(cache_dir: Path | None, digest: str, pages: dict[int, OcrPage]) -> None:
    if cache_dir is None:
        return
    data: dict[str, Any] = {
        "version": OCR_VERSION,
        "pages": {
            str(n): {"text": p.text, "confidence": p.confidence} for n, p in sorted(pages.items())
        },
    }
    target = _cache_file(cache_dir, digest)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data), "utf-8")
        temporary.replace(target)
    except OSError as exc:  # a read-only index folder: OCR runs again next time, nothing breaks
        log.warning("can't write the OCR cache under %s (%s)", cache_dir, exc)


def ocr_options(index_dir: Path, on_page: Progress | None = None) -> OcrOptions:
    """OCR for a corpus whose index lives in ``index_dir``: its cache in ``index_dir/ocr``."""
    return OcrOptions(cache_dir=index_dir / "ocr", on_page=on_page)


def pages_named(numbers: list[int]) -> str:
    """Example: [1] -> "page 1"; [1, 2, 3] -> "pages 1-3"; [2, 5] -> "pages 2, 5"."""
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"pages {numbers[0]}-{numbers[-1]}"
    return "pages " + ", ".join(map(str, numbers))


def ocr_note(pages: tuple[int, ...], confidence: tuple[float, ...]) -> str:
    """What a document's listing says of OCR ("" when none ran).

    Example: ((2, 3), (0.97, 0.62)) -> "OCR on pages 2-3 (page 3: 62% confidence)"
    """
    if not pages:
        return ""
    low = [
        f"page {n}: {c:.0%} confidence"
        for n, c in zip(pages, confidence, strict=True)
        if c < LOW_CONFIDENCE
    ]
    return f"OCR on {pages_named(list(pages))}" + (f" ({', '.join(low)})" if low else "")
