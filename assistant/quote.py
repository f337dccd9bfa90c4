"""Find a language model's quote in the passages it read, or decide it quotes nothing.

The model is asked to copy the answer from the passages; what it returns is only an
answer once it is located there. Exact match first, ignoring case, spacing, the
typographic forms of quotes and dashes, spaces around hyphens and "percent" against "%"; else the closest span (RapidFuzz's partial-ratio
alignment, snapped to whole words) when it is at least ``floor`` similar; else nothing.
Non-goals: judging whether the located span answers the question (``decide``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

FLOOR = 0.85  # similarity below which a near miss is not taken for a quote
_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
# What models wrap quotes in: quotes, brackets, a trailing full stop, "Answer:".
# Spellings models and documents swap: "mid - 2022" / "mid-2022", "9 percent" / "9%".
_SPELLING = re.compile(r"( ?- ?)|(?<=\d) ?per ?cent\b")
_WRAPPING = re.compile(r"""^(?:answer\s*:\s*)?["'`*\s]+|["'`*\s.;,:]+$""", re.IGNORECASE)


@dataclass(frozen=True)
class Located:
    """Where a quote is: ``passages[passage][start:end]``, and how closely it matched."""

    passage: int
    start: int
    end: int
    similarity: float  # 1.0 for an exact match (case and spacing aside)


def clean(reply: str) -> str:
    """The quote inside a model's reply. Example: ' "3.8 billion yuan". ' -> '3.8 billion yuan'"""
    first = reply.strip().splitlines()[0] if reply.strip() else ""
    previous = None
    while previous != first:
        previous, first = first, _WRAPPING.sub("", first)
    return first


def locate(quote: str, passages: Sequence[str], floor: float = FLOOR) -> Located | None:
    """The span of ``passages`` that ``quote`` copies, earliest passage first; None if none.

    Example: locate("acme group", ["Chairman of  Acme Group, Lee."]) ->
    Located(passage=0, start=13, end=23, similarity=1.0)
    """
    wanted, _ = _normalise(clean(quote))
    if not wanted.strip() or not any(ch.isalnum() for ch in wanted):
        return None
    folded = [_normalise(p) for p in passages]
    for i, (text, where) in enumerate(folded):
        at = _find_word(text, wanted)
        if at >= 0:
            return Located(i, where[at], where[at + len(wanted) - 1] + 1, 1.0)
    best: Located | None = None
    if len(wanted) < 4:  # too short for a near miss to mean anything
        return None
    from rapidfuzz import fuzz

    for i, (text, where) in enumerate(folded):
        if not text:
            continue
        found = fuzz.partial_ratio_alignment(wanted, text, score_cutoff=100 * floor)
        if found is None or (best is not None and found.score / 100 <= best.similarity):
            continue
        a, b = _words(text, found.dest_start, found.dest_end)
        if b > a:
            best = Located(i, where[a], where[b - 1] + 1, found.score / 100)
    return best


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with runs of spaces as one, spaced hyphens closed up and "percent"
    written "%", and each character's original offset.

    Example: "A  B" -> ("a b", [0, 1, 3]); "mid - 2022, 9 per cent" -> "mid-2022, 9%"
    """
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text.translate(_FOLD)):
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
        where.append(i)
    folded = "".join(out)
    short: list[str] = []
    at: list[int] = []
    last = 0
    for m in _SPELLING.finditer(folded):
        short.append(folded[last : m.start()])
        at.extend(where[last : m.start()])
        # the sign stands for the whole match: it starts where the match starts, ends where it ends
        sign = "-" if m.group(1) else "%"
        short.append(sign)
        at.append(where[m.start()] if sign == "-" else where[m.end() - 1])
        last = m.end()
    short.append(folded[last:])
    at.extend(where[last:])
    return "".join(short), at


def _find_word(text: str, wanted: str) -> int:
    """First occurrence of ``wanted`` in ``text`` not inside a longer word, else -1."""
    at = text.find(wanted)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(wanted)] if at + len(wanted) < len(text) else " "
        if not (before.isalnum() and wanted[0].isalnum()) and not (
            after.isalnum() and wanted[-1].isalnum()
        ):
            return at
        at = text.find(wanted, at + 1)
    return -1


def _words(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` widened to whole words and trimmed of spaces and punctuation."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in "%)"):
        end -= 1
    return start, end
