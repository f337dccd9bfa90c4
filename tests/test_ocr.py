"""OCR with the real PP-OCRv4 models: text read from typeset pages, the cache, the time limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import CorpusError
from assistant.ocr import OcrOptions, read_image, read_pages
from evals.ocr import error_rates
from evals.pages import degrade, plain, rasterise, typeset

TEXT = (
    "The Kestrel Bay harbour handled 4.2 million tonnes of cargo in 2023. Most of it was "
    "grain and timber shipped to northern ports.\n"
    "In 2024 the harbour bought three electric cranes from Lindqvist Engineering."
)


@pytest.fixture(scope="module")
def page() -> object:
    (image,) = rasterise(typeset(TEXT), 300)
    return image


def test_read_image__a_clean_300_dpi_page_reads_with_under_2_percent_errors(page: object) -> None:
    got = read_image(page)  # type: ignore[arg-type]
    cer, _ = error_rates(got.text, plain(TEXT))
    assert cer <= 0.02, got.text
    assert got.text.split("\n\n")[-1].startswith("In 2024 the harbour bought")  # a paragraph each
    assert got.confidence > 0.9


def test_read_image__a_noisy_150_dpi_page_keeps_its_words_apart() -> None:
    (image,) = rasterise(typeset(TEXT), 150)
    got = read_image(degrade(image, "all", seed=1))
    cer, wer = error_rates(got.text, plain(TEXT))
    assert cer <= 0.05 and wer <= 0.15, got.text


def test_read_image__a_blank_page_has_no_text() -> None:
    from PIL import Image

    got = read_image(Image.new("L", (1240, 1754), 255))
    assert (got.text, got.confidence) == ("", 0.0)


def test_read_pages__the_cache_answers_the_second_time_without_rendering(
    page: object, tmp_path: Path
) -> None:
    renders: list[int] = []
    heard: list[tuple[str, int, int]] = []

    def render() -> object:
        renders.append(1)
        return page

    options = OcrOptions(cache_dir=tmp_path, on_page=lambda *a: heard.append(a))
    first = read_pages("scan.png", "ab" * 32, [(1, render)], options)  # type: ignore[list-item]
    assert renders == [1] and heard == [("scan.png", 0, 1), ("scan.png", 1, 1)]
    again = read_pages("scan.png", "ab" * 32, [(1, render)], options)  # type: ignore[list-item]
    assert again == first and renders == [1] and len(heard) == 2  # no OCR, no progress
    assert list(tmp_path.iterdir()) == [tmp_path / f"{'ab' * 32}.json"]


def test_read_pages__a_corrupt_cache_is_read_again_not_trusted(
    page: object, tmp_path: Path
) -> None:
    (tmp_path / f"{'cd' * 32}.json").write_text("{not json")
    got = read_pages("scan.png", "cd" * 32, [(1, lambda: page)], OcrOptions(cache_dir=tmp_path))  # type: ignore[list-item, return-value]
    assert "Kestrel Bay" in got[1].text


def test_read_pages__the_time_limit_names_the_file_and_the_page(
    page: object, tmp_path: Path
) -> None:
    pages = [(n, lambda: page) for n in (1, 2, 3)]
    with pytest.raises(CorpusError, match=r"^scan\.tif: OCR stopped at page 2 after 0 s"):
        read_pages("scan.tif", "ef" * 32, pages, OcrOptions(cache_dir=tmp_path, seconds=0))  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())  # nothing cached from a refused file
