"""Reading order of OCR'd lines, on made-up boxes (pure geometry, no model)."""

from __future__ import annotations

from assistant.layout import Box, ordered_lines


def line(text: str, x0: float, y0: float, x1: float, height: float = 20) -> Box:
    return Box(text, x0, y0, x1, y0 + height)


def test_ordered_lines__one_column_top_to_bottom_with_a_paragraph_gap() -> None:
    boxes = [
        line("second line", 0, 25, 800),
        line("first line", 0, 0, 800),
        line("after a gap", 0, 80, 800),
    ]
    assert ordered_lines(boxes) == ["first line", "second line", "", "after a gap"]


def test_ordered_lines__two_columns_read_left_then_right_under_a_spanning_title() -> None:
    boxes = [line("Title across both columns", 0, 0, 900)]
    for i in range(4):
        boxes.append(line(f"left {i}", 0, 40 + 25 * i, 400))
        boxes.append(line(f"right {i}", 500, 40 + 25 * i, 900))
    assert ordered_lines(boxes) == [
        "Title across both columns",
        "",
        *[f"left {i}" for i in range(4)],
        "",
        *[f"right {i}" for i in range(4)],
    ]


def test_ordered_lines__a_centred_heading_and_a_page_number_are_not_columns() -> None:
    boxes = [
        line("Heading", 300, 0, 500),
        *[line(f"body {i}", 0, 40 + 25 * i, 800) for i in range(3)],
        line("last short line", 0, 115, 300),
        line("7", 780, 200, 800),
    ]
    assert ordered_lines(boxes) == [
        "Heading",
        "",
        "body 0",
        "body 1",
        "body 2",
        "last short line",
        "",
        "7",
    ]


def test_ordered_lines__boxes_on_one_line_join_left_to_right_and_an_indent_starts_a_paragraph() -> (
    None
):
    boxes = [
        line("Year", 0, 0, 100),
        line("Output", 300, 0, 500),
        line("wrapped text of a paragraph", 0, 25, 800),
        line("Indented start", 60, 50, 800),
    ]
    assert ordered_lines(boxes) == [
        "Year Output",
        "wrapped text of a paragraph",
        "",
        "Indented start",
    ]


def test_ordered_lines__nothing_readable_gives_no_lines() -> None:
    assert ordered_lines([]) == []
    assert ordered_lines([Box("  ", 0, 0, 10, 10)]) == []


def test_upright__turns_a_skewed_page_back_so_lines_do_not_overlap() -> None:
    import math

    from assistant.layout import upright

    angle = math.radians(1.0)

    def skewed(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        turn = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        return [
            (x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle))
            for x, y in turn
        ]

    boxes = upright([skewed(0, 0, 2000, 50), skewed(0, 60, 2000, 110), skewed(0, 120, 900, 170)])
    for (x0, y0, x1, y1), want in zip(
        boxes, [(0, 0, 2000, 50), (0, 60, 2000, 110), (0, 120, 900, 170)], strict=True
    ):
        assert [round(v, 3) for v in (x0, y0, x1, y1)] == list(want)
