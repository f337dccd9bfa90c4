"""Typed answer spans inside a sentence: amounts, counts, percentages, dates, durations.

Every span carries offsets into the sentence, so the answer is always an exact piece
of the document. Rules are about English forms (numbers, scales, units, months),
never about a particular document. Names, quotes and lists live in ``phrases``.
Non-goals: arithmetic, number words beyond simple counts ("seven times").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
YEAR = r"(?:1[89]\d\d|20\d\d)"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:thousand|million|billion|trillion|bn|mn)"
_MODIFIER = (
    r"(?:(?:no |not )?(?:more|less|fewer) than|over|under|about|around|approximately|nearly|almost|"
    r"at least|at most|up to|only|roughly|some)"
)
_CURRENCY_WORDS = (
    r"(?:(?:Hong Kong|HK|US|U\.S\.|Singapore|Canadian|Australian|New Taiwan)\s+dollars?|"
    r"yuan|renminbi|RMB|dollars?|euros?|pounds?|yen|won|rupees?|francs?)"
)
_CURRENCY_SIGN = r"(?:(?:RMB|CNY|USD|HKD|US\$|HK\$|\$|€|£|¥)\s?)"
# A count noun after a number: "732 units", "28,000 electric vehicles", "50,000 large - order bookings".
_COUNT_NOUN = r"(?:(?:[A-Z]{2,}|[a-z]+(?:\s-\s[a-z]+)*)\s+)?[a-z]+s\b"
_NOT_UNITS = {"is", "was", "has", "as", "its", "this", "thus", "less", "plus"}

_AMOUNT = re.compile(
    rf"(?<![\w.])(?:{_MODIFIER}\s+)?(?:between\s+|from\s+)?{_CURRENCY_SIGN}?(?:{_NUM})"
    rf"(?:\s+(?:and|to|-)\s+{_CURRENCY_SIGN}?(?:{_NUM}))?"
    rf"(?:\s*{_SCALE}\b)?(?:\s+{_CURRENCY_WORDS}\b|\s+-\s+yuan\b|(?P<count>\s+{_COUNT_NOUN}))?"
)
_PERCENT = re.compile(
    rf"(?<![\w.])(?:{_MODIFIER}\s+)?(?:{_NUM})\s*(?:%|percent\b|per cent\b|percentage points?\b)"
)
_DATE = re.compile(
    r"(?:(?:the\s+)?(?:beginning|start|end|middle|first half|second half|"
    r"(?:first|second|third|fourth) quarter|spring|summer|autumn|fall|winter)\s+of\s+(?:the\s+year|"
    + MONTH
    + r"(?:\s+"
    + YEAR
    + r")?|"
    + YEAR
    + r")"
    r"|(?:early|mid|late)(?:\s*-\s*|\s+)(?:"
    + MONTH
    + r"\s+)?"
    + YEAR
    + r"|(?:(?:early|late)\s+)?(?:spring|summer|autumn|winter)\s+"
    + YEAR
    + r"|(?:(?:early|mid|late)\s+)?"
    + MONTH
    + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,\s*"
    + YEAR
    + r")?|\d{1,2}\s+"
    + MONTH
    + r"(?:\s+"
    + YEAR
    + r")?|"
    + MONTH
    + r"\s+"
    + YEAR
    + r"|(?:from\s+)?"
    + YEAR
    + r"(?:\s+to\s+"
    + YEAR
    + r")?"
    r"|(?:\w+|\d+)\s+(?:years?|months?|weeks?|days?)\s+ago|(?:"
    + MONTH
    + r"\s+)?(?:last|next|this)\s+year|last\s+year|next\s+year)"
    r"(?![\w])"
)
_DURATION = re.compile(
    rf"(?:(?:{_MODIFIER}|in|the next|the past|the last|over the next)\s+)?"
    rf"(?:(?:{_NUM})(?:\s*-\s*(?:{_NUM}))?|a|an|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|several|a few)\s+(?:consecutive\s+)?(?:trading\s+)?(?:years?|months?|weeks?|days?|"
    r"hours?|quarters?)\b"
)


@dataclass(frozen=True)
class Span:
    """A typed piece of a sentence: ``sentence[start:end] == text``."""

    start: int
    end: int
    text: str
    kind: str  # quantity, percent, date, duration, name, person, quote, list
    has_unit: bool = False
    has_scale: bool = False
    attributive: bool = False  # "a 500,000 - yuan price range": describes a noun, is no amount


def _spans(pattern: re.Pattern[str], text: str, kind: str) -> Iterator[Span]:
    for m in pattern.finditer(text):
        s, e = m.start(), m.end()
        while e > s and text[e - 1] in " ,;":
            e -= 1
        if e > s:
            yield Span(s, e, text[s:e], kind)


def amounts(text: str) -> list[Span]:
    """Numbers with scale and unit, not years, ordinals or model numbers.

    Example: "a net loss of 1.73 billion yuan in 2020" -> ["1.73 billion yuan"]
    """
    out = []
    for m in _AMOUNT.finditer(text):
        s, e = m.start(), m.end()
        span = text[s:e]
        if m.group("count"):
            words = m.group("count").split()
            if words[-1] in _NOT_UNITS or words[0] in _NOT_UNITS:
                e = m.start("count")
                span = text[s:e]
        digits = re.search(_NUM, span)
        if not digits:
            continue
        before = text[max(0, s - 12) : s]
        after = text[e : e + 12]
        if re.fullmatch(YEAR, span.strip()) or re.match(
            r"(?:th|st|nd|rd|%|\s*%|\s*percent\b|\s*per cent\b)", after
        ):
            continue
        has_scale = bool(re.search(rf"\d\s*{_SCALE}\b", span))
        has_unit = bool(re.search(rf"{_CURRENCY_WORDS}|{_CURRENCY_SIGN}|[a-z]s$|yuan", span))
        if (
            not (has_scale or has_unit)
            and re.search(r"[A-Z][\w+]*\s$", before)
            and not re.search(rf"{MONTH}\s$|[.,:]\s$", before)
        ):
            continue  # "Mate 60", "Model 3": part of a name, not a quantity
        if re.match(r"[A-Za-z]", after) and not after.startswith(" "):
            continue  # "5G"
        if re.search(rf"{MONTH}\s+$", before) or re.match(rf",\s*{YEAR}", after):
            continue  # a day of a month
        attributive = bool(re.search(r"\s-\s*[a-z]+$", span)) and bool(re.match(r"\s+[a-z]", after))
        out.append(Span(s, e, span.rstrip(" ,"), "quantity", has_unit, has_scale, attributive))
    return out


_WORD_COUNT = re.compile(
    r"(?<![\w-])(?:(?:more|less|fewer) than\s+|about\s+|only\s+)?(?:a few|several|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|eleven|twelve|dozens of|hundreds of|thousands of)"
    r"(?:\s+(?:hundred|thousand|million|billion))?\s+(?:consecutive\s+|trading\s+|major\s+)?"
    r"[a-z]+s\b",
    re.I,
)


def word_counts(text: str) -> list[Span]:
    """Counts written in words. Example: "losses for two consecutive years" -> ["two consecutive years"]"""
    return [
        Span(sp.start, sp.end, sp.text, "quantity", has_unit=True)
        for sp in _spans(_WORD_COUNT, text, "quantity")
        if sp.text.split()[-1].lower() not in _NOT_UNITS and not _AGO.match(text[sp.end :])
    ]


_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)"
# "expanded from one brand to five": the bare number after "to" counts the same noun.
_ELLIPTIC_COUNT = re.compile(
    rf"\bfrom\s+(?:a|an|{_NUMBER_WORDS})\s+[a-z]+\s+to\s+(?P<n>{_NUMBER_WORDS})\b"
    r"(?!\s*(?:[a-z]|%|-|\.\d))",
    re.I,
)


def elliptic_counts(text: str) -> list[Span]:
    """Example: "grew from one brand to five, ..." -> ["five"] (a count of brands)."""
    return [
        Span(m.start("n"), m.end("n"), m.group("n"), "quantity")
        for m in _ELLIPTIC_COUNT.finditer(text)
    ]


_MULTIPLE = re.compile(
    r"(?<![\w-])(?:(?:more|less) than\s+|nearly\s+|almost\s+|roughly\s+)?"
    r"(?:doubled|tripled|trebled|quadrupled|halved|\d+(?:\.\d+)?\s*-?\s*fold)\b",
    re.I,
)


def multiples(text: str) -> list[Span]:
    """Changes said as multiples. Example: "the price more than tripled" -> ["more than tripled"]"""
    return [Span(sp.start, sp.end, sp.text, "percent") for sp in _spans(_MULTIPLE, text, "percent")]


def percents(text: str) -> list[Span]:
    """Example: "a 150% increase and 10% of the shares" -> ["150%", "10%"]"""
    return list(_spans(_PERCENT, text, "percent"))


def dates(text: str) -> list[Span]:
    """Example: "In May 2021, ... since August 28, 2023" -> ["May 2021", "August 28, 2023"]"""
    return [sp for sp in _spans(_DATE, text, "date") if not _inside_number(text, sp)]


def durations(text: str) -> list[Span]:
    """Example: "50,000 bookings in 25 days" -> ["in 25 days"]; "five years ago" is a date."""
    return [sp for sp in _spans(_DURATION, text, "duration") if not _AGO.match(text[sp.end :])]


_AGO = re.compile(r"\s+ago\b")


def _inside_number(text: str, sp: Span) -> bool:
    return (sp.start > 0 and text[sp.start - 1] in ".,") or text[sp.end : sp.end + 1].isdigit()


def respectively_keys(text: str) -> list[str]:
    """Keys that a "respectively" sentence assigns values to, in order.

    Example: "From 2020 to 2022, it lost 1, 2, and 3 respectively." -> ["2020", "2021", "2022"]
    """
    if "respectively" not in text:
        return []
    m = re.search(rf"\b({YEAR})\s*(?:to|-|through)\s*({YEAR})\b", text)
    if m and int(m.group(2)) > int(m.group(1)):
        return [str(y) for y in range(int(m.group(1)), int(m.group(2)) + 1)]
    return re.findall(YEAR, text)
