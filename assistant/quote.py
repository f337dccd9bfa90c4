"""Find a language model's quote in the passages it read, or decide it quotes nothing.

The model is asked to copy the answer from the passages; what it returns is only an
answer once it is located there. Exact match first, ignoring case, spacing and the
typographic forms of quotes and dashes, then also how numbers are spelt ("9%" for "9
percent", "1/8" for "one-eighth", "1702-1709" for "between 1702 and 1709"); else the
closest span (RapidFuzz's partial-ratio alignment, snapped to whole words) when it is at
least ``floor`` similar; else nothing.
Non-goals: judging whether the located span answers the question (``decide``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

FLOOR = 0.85  # similarity below which a near miss is not taken for a quote
_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_PARTS = {"half": 2, "third": 3, "quarter": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
          "ninth": 9, "tenth": 10}  # fmt: skip
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9}  # fmt: skip
# Spellings models and documents swap, each given one written form: "mid - 2022" and
# "mid-2022"; "9 percent" and "9%"; "one-eighth" and "1/8"; "between 1702 and 1709",
# "1702 to 1709" and "1702-1709".
_SPELLING = re.compile(
    rf"\b(?P<count>{'|'.join(_COUNTS)})[ -](?P<part>{'|'.join(_PARTS)})s?\b"
    r"|\b(?P<range>between|from) (?=\d[\d,.]* (?:and|to) \d)"
    r"|(?<=\d)(?P<to> (?:and|to) )(?=\d)"
    r"|(?P<hyphen> ?- ?)|(?<=\d)(?P<percent> ?per ?cent)\b"
)
# What models wrap quotes in: quotes, brackets, a trailing full stop, "Answer:".
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
    quoted = clean(quote)
    wanted, _ = _normalise(quoted)
    if not wanted.strip() or not any(ch.isalnum() for ch in wanted):
        return None
    folded = [_normalise(p) for p in passages]
    # as written first: "fifth straight year" is in "a fifth straight year", not in "1/5 ..."
    exact = _exact(wanted, passages, folded, False) or _exact(
        _normalise(quoted, True)[0], passages, [_normalise(p, True) for p in passages], True
    )
    if exact is not None:
        return exact
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


def _exact(
    wanted: str, passages: Sequence[str], folded: list[tuple[str, list[int]]], spelt: bool
) -> Located | None:
    """The first whole-word occurrence of ``wanted`` in ``passages`` (``folded``: each
    passage normalised, ``spelt`` or not, as ``wanted`` is)."""
    for i, (text, where) in enumerate(folded):
        for at in _find_words(text, wanted):
            start, end = where[at], where[at + len(wanted) - 1] + 1
            if _normalise(passages[i][start:end], spelt)[0] == wanted:  # not inside a written form
                return Located(i, start, end, 1.0)
    return None


def _normalise(text: str, spelt: bool = False) -> tuple[str, list[int]]:
    """Lower-cased text with runs of spaces as one (and, if ``spelt``, ``_SPELLING``'s
    forms written one way), and each character's original offset.

    Example: "A  B" -> ("a b", [0, 1, 3]); spelt: "mid - 2022, 9 per cent" -> "mid-2022, 9%"
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
    if not spelt:
        return folded, where
    short: list[str] = []
    at: list[int] = []
    last = 0
    for m in _SPELLING.finditer(folded):
        short.append(folded[last : m.start()])
        at.extend(where[last : m.start()])
        written = _written(m)
        short.append(written)
        if written:  # it stands for the whole match: from its first character to its last
            at.extend([where[m.start()]] * (len(written) - 1) + [where[m.end() - 1]])
        last = m.end()
    short.append(folded[last:])
    at.extend(where[last:])
    return "".join(short), at


def _written(m: re.Match[str]) -> str:
    """The one written form of a ``_SPELLING`` match. Example: "a quarter" -> "1/4"."""
    if m["part"]:
        return f"{_COUNTS[m['count']]}/{_PARTS[m['part']]}"
    if m["range"]:
        return ""
    return "%" if m["percent"] else "-"


def _find_words(text: str, wanted: str) -> Iterator[int]:
    """Each occurrence of ``wanted`` in ``text`` not inside a longer word."""
    at = text.find(wanted)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(wanted)] if at + len(wanted) < len(text) else " "
        if not (before.isalnum() and wanted[0].isalnum()) and not (
            after.isalnum() and wanted[-1].isalnum()
        ):
            yield at
        at = text.find(wanted, at + 1)


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
