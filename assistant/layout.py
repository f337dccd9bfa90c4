"""Lines of a page -> paragraphs: the reading order of OCR'd lines, and reflowing wrapped lines.

Scope: pure geometry and text. ``ordered_lines`` puts the text boxes an OCR engine
found on a page into reading order (columns left to right, a heading or other box
spanning the columns read where it stands) and marks paragraph gaps with blank lines;
``reflow`` joins wrapped lines into paragraphs (the PDF text layer goes through it too).
Non-goals: tables, footnotes, rotated or vertical text, right-to-left scripts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\xad": ""}
)
_CLOSERS = "\"'”’)]"
_BULLETS = ("•", "◦", "▪", "‣", "●")  # a line starting with one starts a list item
_SHORT_LINE = 0.7  # a line under 70% of the page's longest line ends its paragraph (see below)
# Geometry, in multiples of the page's median line height:
_GAP = 1.0  # a blank stripe at least this wide, with lines side by side across it, splits columns
_SIDE_BY_SIDE = 3  # ... at least this many such line pairs
_PARAGRAPH_GAP = 0.6  # more space than this between two lines starts a paragraph
_INDENT = 1.5  # a line starting this far right of its column's left edge starts a paragraph


def squash(text: str) -> str:
    """Whitespace runs (newlines, tabs, no-break spaces) -> one space. Example: " a\\n b " -> "a b"."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Box:
    """A line (or part of one) of text found on a page, in pixels, y down."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0  # the recogniser's confidence, 0..1

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def upright(
    quads: list[list[tuple[float, float]]],
) -> list[tuple[float, float, float, float]]:
    """Text quadrilaterals (top-left, top-right, bottom-right, bottom-left) -> (x0, y0, x1, y1)
    boxes with the page's skew turned back: the median slope of the lines' top edges.

    On a page scanned 1 degree askew, a long line's upright box is one line high, where
    its axis-aligned box would overlap the next line. Example: a level quad
    [(0, 0), (100, 0), (100, 10), (0, 10)] -> [(0.0, 0.0, 100.0, 10.0)]
    """
    slopes = [
        math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0])
        for q in quads
        if q[1][0] - q[0][0] > 2 * abs(q[3][1] - q[0][1])  # lines, not single characters
    ]
    angle = median(slopes) if slopes else 0.0
    cos, sin = math.cos(angle), math.sin(angle)
    out = []
    for q in quads:
        xs = [x * cos + y * sin for x, y in q]
        ys = [y * cos - x * sin for x, y in q]
        out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def ordered_lines(boxes: list[Box]) -> list[str]:
    """The page's text lines in reading order, with "" where a paragraph gap is.

    Example (two columns, each of two lines, under a title spanning both):
    [Box("Title", 0, 0, 900, 20), Box("a1", 0, 40, 400, 60), Box("b1", 500, 40, 900, 60),
     Box("a2", 0, 65, 400, 85), Box("b2", 500, 65, 900, 85), ...] -> ["Title", "", "a1", "a2", ..., "", "b1", "b2", ...]
    """
    boxes = [b for b in boxes if b.text.strip() and b.height > 0]
    if not boxes:
        return []
    unit = median(b.height for b in boxes)
    splits = _column_splits(boxes, unit)
    out: list[str] = []
    for block in _blocks(boxes, splits):
        if out:
            out.append("")
        out.extend(_block_lines(block, unit))
    return out


def _column_splits(boxes: list[Box], unit: float) -> list[float]:
    """x positions of the gaps between columns (empty for a single column)."""
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    narrow = [b for b in boxes if b.x1 - b.x0 < 0.6 * (right - left)]
    edges = sorted((b.x0, b.x1) for b in narrow)
    gaps: list[tuple[float, float]] = []
    reach = left
    for x0, x1 in edges:
        if x0 - reach >= _GAP * unit and reach > left:
            gaps.append((reach, x0))
        reach = max(reach, x1)
    splits = []
    for g0, g1 in gaps:
        pairs = sum(
            1
            for a in narrow
            if a.x1 <= g0
            for b in narrow
            if b.x0 >= g1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5 * unit
        )
        if pairs >= _SIDE_BY_SIDE:
            splits.append((g0 + g1) / 2)
    return splits


def _blocks(boxes: list[Box], splits: list[float]) -> list[list[Box]]:
    """Boxes grouped into blocks in reading order: between boxes spanning a column gap,
    each column top to bottom, columns left to right."""
    if not splits:
        return [boxes]
    blocks: list[list[Box]] = []
    band: list[Box] = []

    def close_band() -> None:
        for column in range(len(splits) + 1):
            own = [b for b in band if _column(b, splits) == column]
            if own:
                blocks.append(own)
        band.clear()

    for b in sorted(boxes, key=lambda b: b.y0):
        if any(b.x0 < s < b.x1 for s in splits):  # spans the columns: a title, a wide figure
            close_band()
            blocks.append([b])
        else:
            band.append(b)
    close_band()
    return blocks


def _column(b: Box, splits: list[float]) -> int:
    centre = (b.x0 + b.x1) / 2
    return sum(1 for s in splits if centre > s)


def _block_lines(block: list[Box], unit: float) -> list[str]:
    """One column's boxes -> its lines top to bottom (boxes side by side joined by a space)."""
    rows: list[list[Box]] = []
    for b in sorted(block, key=lambda b: (b.y0 + b.y1) / 2):
        row = rows[-1] if rows else None
        if row and min(row[-1].y1, b.y1) - max(row[-1].y0, b.y0) > 0.5 * min(
            row[-1].height, b.height
        ):
            row.append(b)
        else:
            rows.append([b])
    left = min(b.x0 for b in block)
    lines: list[str] = []
    previous_bottom: float | None = None
    for row in rows:
        row.sort(key=lambda b: b.x0)
        top, bottom = min(b.y0 for b in row), max(b.y1 for b in row)
        gap = top - previous_bottom if previous_bottom is not None else 0.0
        if lines and (gap > _PARAGRAPH_GAP * unit or row[0].x0 - left > _INDENT * unit):
            lines.append("")
        lines.append(" ".join(squash(b.text) for b in row))
        previous_bottom = bottom
    return lines


def reflow(page_text: str) -> list[str]:
    """One page's lines -> paragraphs: wrapped lines joined, hyphenation undone.

    A paragraph ends at a blank line, or after a line clearly shorter than the page's
    longest (a last line or a heading): when it ends with . ! ? : or when it is a short
    unpunctuated line followed by a capitalised one (a heading such as "Annual Report").
    A line starting with a bullet ("•") starts a paragraph.
    Example: ["Costs were man-", "aged well. Sales", "rose.", "Outlook", "Good."]
    -> ["Costs were managed well. Sales rose.", "Outlook", "Good."] (if "rose." is short)
    """
    lines = [squash(line.translate(_LIGATURES)) for line in page_text.splitlines()]
    longest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        if not line:
            paragraphs.append(current)
            current = ""
            continue
        if current and line.startswith(_BULLETS):
            paragraphs.append(current)
            current = ""
        if not current:
            current = line
        elif current.endswith("-") and current[-2:-1].isalpha() and line[0].islower():
            current = current[:-1] + line  # "manage-" + "ment" -> "management"
        elif current.endswith("-") and current[-2:-1].isalpha() and line[0].isupper():
            current = current + line  # "Rolls-" + "Royce" keeps its hyphen
        else:
            current = f"{current} {line}"
        if len(line) < _SHORT_LINE * longest:
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if line.rstrip(_CLOSERS).endswith((".", "!", "?", ":")) or (
                len(line.split()) <= 12 and (following[:1].isupper() or following[:1].isdigit())
            ):
                paragraphs.append(current)
                current = ""
    paragraphs.append(current)
    return [p for p in paragraphs if p]
