"""Typed answer spans inside a sentence: amounts, percentages, dates, names, lists, quotes.

Every span carries offsets into the sentence, so the answer is always an exact
piece of the document. Rules are about English forms (numbers, scales, months,
capitalisation, enumerations), never about a particular document.
Non-goals: named-entity recognition with a model, number words ("seven").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:thousand|million|billion|trillion|bn|mn)"
_MODIFIER = (
    r"(?:(?:more|less|fewer) than|over|under|about|around|approximately|nearly|almost|"
    r"at least|at most|up to|only|roughly|some)"
)
_CURRENCY_WORDS = (
    r"(?:(?:Hong Kong|HK|US|U\.S\.|Singapore|Canadian|Australian|New Taiwan)\s+dollars?|"
    r"yuan|renminbi|RMB|dollars?|euros?|pounds?|yen|won|rupees?|francs?)"
)
_CURRENCY_SIGN = r"(?:(?:RMB|CNY|USD|HKD|US\$|HK\$|\$|€|£|¥)\s?)"
# A count noun after a number: "732 units", "28,000 AITO vehicles", "50,000 large - order bookings".
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
    r"(?:first|second|third|fourth) quarter)\s+of\s+(?:the\s+year|"
    + _MONTH
    + r"(?:\s+"
    + _YEAR
    + r")?|"
    + _YEAR
    + r")"
    r"|(?:early|mid|late)(?:\s*-\s*|\s+)(?:"
    + _MONTH
    + r"\s+)?"
    + _YEAR
    + r"|(?:(?:early|mid|late)\s+)?"
    + _MONTH
    + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,\s*"
    + _YEAR
    + r")?|\d{1,2}\s+"
    + _MONTH
    + r"(?:\s+"
    + _YEAR
    + r")?|"
    + _MONTH
    + r"\s+"
    + _YEAR
    + r"|(?:from\s+)?"
    + _YEAR
    + r"(?:\s+to\s+"
    + _YEAR
    + r")?"
    r"|(?:\w+|\d+)\s+(?:years?|months?|weeks?|days?)\s+ago|last\s+year|next\s+year)"
    r"(?![\w])"
)
_DURATION = re.compile(
    rf"(?:(?:{_MODIFIER}|in)\s+)?(?:{_NUM}|a|an|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|several|a few)\s+(?:consecutive\s+)?(?:trading\s+)?(?:years?|months?|weeks?|days?|"
    r"hours?|quarters?)\b"
)
_QUOTE = re.compile(r"[\"“]([^\"“”]{1,80}?)[\"”]")
_NAME_WORD = r"(?:[A-Z][\w'’&+]*(?:\s-\s[A-Z]?[\w]+)*|[A-Z0-9]*[A-Z][A-Z0-9+]*)"
_NAME = re.compile(
    rf"(?<![\w])(?:{_NAME_WORD})(?:\s+(?:{_NAME_WORD}|\d+[A-Za-z+]*|&|of the|of)(?=\s|[,.;:!?)'\"”’]|$))*"
)
_ORG_WORDS = {
    "automobile",
    "auto",
    "motors",
    "group",
    "inc",
    "ltd",
    "corp",
    "co",
    "bank",
    "index",
    "insight",
    "securities",
    "capital",
    "holdings",
    "technologies",
    "technology",
    "company",
    "board",
    "committee",
    "business",
    "media",
    "platform",
    "system",
    "brand",
    "model",
}
_ROLE_AFTER = re.compile(
    r"^,?\s+(?:the|a|an)?\s*(?:\w+\s+){0,2}(?:chairman|chairwoman|chair|ceo|president|director|"
    r"founder|head|manager|chief|executive|officer|spokesperson|analyst|minister|partner)\b",
    re.I,
)
_ROLE_BEFORE = re.compile(
    r"\b(?:chairman|chairwoman|ceo|president|director|founder|chief|executive|analyst|"
    r"minister|mr|mrs|ms|dr)\.?\s*,?\s*$",
    re.I,
)
_PERSON_VERB = re.compile(r"^\s+(?:said|says|told|described|asserted|thanked|responded|used)\b")
_ENUM_WORD = r"(?!(?:and|or)\b)[\"“]?[\w&+'’-]+(?:,?[\"”])?"
_ENUM_ITEM = rf"(?:{_ENUM_WORD}(?:\s+(?:-\s+|&\s+)?{_ENUM_WORD}){{0,5}})"
_ENUMERATION = re.compile(
    rf"(?<![\w.,]){_ENUM_ITEM}(?:(?:,|(?<=,[\"”]))\s+{_ENUM_ITEM}){{1,9}}?,?\s+(?:and|or)\s+"
    rf"{_ENUM_ITEM}"
)


# English words that often open a sentence capitalised without being names.
_COMMON_OPENERS = frozenset(
    """although though however instead meanwhile subsequently before after due if when while
    as since because others other some many most this these those that such despite according
    facing following besides moreover furthermore nevertheless still yet also then thus
    therefore hence rather only even just there here it its we they he she you our their what
    which who how why where in on at by for from with without under over after during until
    once now today yesterday recently finally first second last next another each every both
    all any no not rumors reports analysts""".split()
)
# Titles written before a name: "Chairman Zhang Wei" is the person "Zhang Wei".
_TITLES = frozenset(
    "chairman chairwoman ceo president director mr mrs ms dr prof professor sir dame".split()
)
_OPENERS = frozenset({"The", "A", "An", "In", "On", "At", "By", "For", "From", "Since"})


@dataclass(frozen=True)
class Span:
    """A typed piece of a sentence: ``sentence[start:end] == text``."""

    start: int
    end: int
    text: str
    kind: str  # quantity, percent, date, duration, name, person, quote, list
    has_unit: bool = False
    has_scale: bool = False


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
        if re.fullmatch(_YEAR, span.strip()) or re.match(
            r"(?:th|st|nd|rd|%|\s*%|\s*percent\b|\s*per cent\b)", after
        ):
            continue
        has_scale = bool(re.search(rf"\d\s*{_SCALE}\b", span))
        has_unit = bool(re.search(rf"{_CURRENCY_WORDS}|{_CURRENCY_SIGN}|[a-z]s$|yuan", span))
        if (
            not (has_scale or has_unit)
            and re.search(r"[A-Z][\w+]*\s$", before)
            and not re.search(rf"{_MONTH}\s$|[.,:]\s$", before)
        ):
            continue  # "Mate 60", "Model 3": part of a name, not a quantity
        if re.match(r"[A-Za-z]", after) and not after.startswith(" "):
            continue  # "5G"
        if re.search(rf"{_MONTH}\s+$", before) or re.match(rf",\s*{_YEAR}", after):
            continue  # a day of a month
        out.append(Span(s, e, span.rstrip(" ,"), "quantity", has_unit, has_scale))
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
        if sp.text.split()[-1].lower() not in _NOT_UNITS
    ]


def percents(text: str) -> list[Span]:
    """Example: "a 150% increase and 10% of the shares" -> ["150%", "10%"]"""
    return list(_spans(_PERCENT, text, "percent"))


def dates(text: str) -> list[Span]:
    """Example: "In May 2021, ... since August 28, 2023" -> ["May 2021", "August 28, 2023"]"""
    return [sp for sp in _spans(_DATE, text, "date") if not _inside_number(text, sp)]


def durations(text: str) -> list[Span]:
    """Example: "50,000 bookings in 25 days" -> ["in 25 days"]"""
    return list(_spans(_DURATION, text, "duration"))


def _inside_number(text: str, sp: Span) -> bool:
    return (sp.start > 0 and text[sp.start - 1] in ".,") or text[sp.end : sp.end + 1].isdigit()


def quotes(text: str) -> list[Span]:
    """Quoted phrases of at most eight words. Example: 'the "Luxeed" brand' -> ["Luxeed"]"""
    out = []
    for m in _QUOTE.finditer(text):
        inner = m.group(1).strip().rstrip(",.;:")
        if 0 < len(inner.split()) <= 8:
            s = m.start(1) + (len(m.group(1)) - len(m.group(1).lstrip()))
            out.append(Span(s, s + len(inner), inner, "quote"))
    return out


def names(text: str, proper_words: frozenset[str] | None = None) -> list[Span]:
    """Proper-noun phrases; persons are told apart by shape and role words.

    ``proper_words`` are words the corpus capitalises inside sentences: a capitalised
    word at the start of a sentence or quote that is not among them ("However",
    "Although") is not a name.
    Example: "At the event, Zhang Wei, the chairman of Acme Motors, spoke."
    -> [Span("Zhang Wei", kind="person"), Span("Acme Motors", kind="name")]
    """
    out = []
    for m in _NAME.finditer(text):
        s, e = m.start(), m.end()
        parts = text[s:e].split()
        initial = s == 0 or bool(re.search(r"[\"“(]\s*$|[.!?:]\s+$", text[:s]))
        # A sentence-opening word the corpus never capitalises elsewhere ("However",
        # "Although Acme") is not part of a name, unless the rest is unknown too ("Jane Doe").
        unknown_opener = (
            initial
            and proper_words is not None
            and parts[0] not in proper_words
            and (
                parts[0].lower() in _COMMON_OPENERS
                or (len(parts) == 1 and text[m.end() : m.end() + 1] == ",")
                or (len(parts) > 1 and parts[1] in proper_words)
            )
        )
        titled = len(parts) > 1 and parts[0].lower().rstrip(".") in _TITLES
        if unknown_opener or parts[0] in _OPENERS or titled:
            s = text.index(parts[1], s + len(parts[0])) if len(parts) > 1 else e
            parts = parts[1:]
            initial = False
        while parts and parts[-1] in ("of", "of the", "&", "the"):
            parts = parts[:-1]
        if not parts:
            continue
        phrase = re.sub(r"['’]s?$", "", " ".join(parts))
        e = s + len(phrase) if text[s : s + len(phrase)] == phrase else e
        span_text = text[s:e]
        if re.fullmatch(_YEAR, span_text) or re.fullmatch(_MONTH, span_text):
            continue
        if initial and re.match(r"-[a-z]", text[e : e + 2]):
            continue  # "Self-research": a capitalised compound, not a name
        person = titled or _looks_like_person(text, s, e, parts)
        kind = "person" if person else "name"
        out.append(Span(s, e, span_text, kind))
    return out


def _looks_like_person(text: str, s: int, e: int, parts: list[str]) -> bool:
    if not 2 <= len(parts) <= 3 or any(not p[:1].isupper() or p.isupper() for p in parts):
        return False
    if any(p.lower().strip("'’s") in _ORG_WORDS for p in parts) or any(
        ch.isdigit() for ch in "".join(parts)
    ):
        return False
    return bool(
        _ROLE_AFTER.match(text[e:]) or _ROLE_BEFORE.search(text[:s]) or _PERSON_VERB.match(text[e:])
    )


def enumerations(text: str) -> list[Span]:
    """Lists of three or more items (or two joined by "and").

    Example: "brands: Alpha, Beta, Gamma, and Delta." -> ["Alpha, Beta, Gamma, and Delta"]
    """
    out = []
    for m in _ENUMERATION.finditer(text):
        s, e = m.start(), m.end()
        colon = text.rfind(":", s, e)
        if colon != -1:
            s = colon + 1
        items = [_item_words(i) for i in list_items(text[s:e])]
        # The regex starts the first item too early ("model with Acme to Alpha, Beta, ...")
        # and may end the last one late: cut each to one word more than the middle ones.
        middle = max(len(i) for i in items[1:-1] or items[1:])
        last = items[-1]
        if len(last) > middle + 1:
            e = _end_of_words(text, s, e, last[: middle + 1])
            items[-1] = last[: middle + 1]
        first = items[0]
        longest = max(len(i) for i in items[1:])
        if len(first) > longest + 1:
            s = _start_of_words(text, s, e, first[-(longest + 1) :])
        lead = re.match(
            r"(?:\s|(?:of|the|as|such as|including|to|with|and|its|their|his|her|our)\b)*",
            text[s:e],
        )
        s += lead.end() if lead else 0
        clause = re.search(r"\s+-\s+(?:which|that|who|where)\b", text[s:e])
        if clause:
            e = s + clause.start()  # "..., and power systems - which are also ..."
        tail = re.search(r"(?:\s+(?:to|in|of|the|with|for|from|as|at|by|on|under))+$", text[s:e])
        if tail:
            e = s + tail.start()
        while e > s and text[e - 1] in " -,;":
            e -= 1
        out.append(Span(s, e, text[s:e], "list"))
    return out


def _item_words(item: str) -> list[str]:
    """Words of a list item; the article's spaced hyphen joins words ("in - car" is one)."""
    return re.sub(r"\s+([-&])\s+", r"\1", item).split()


def _pattern(words: list[str]) -> str:
    return r"\s+".join(
        re.escape(w).replace(r"\-", r"\s*-\s*").replace(r"\&", "&").replace("&", r"\s*&\s*")
        for w in words
    )


def _start_of_words(text: str, s: int, e: int, words: list[str]) -> int:
    m = re.search(_pattern(words), text[s:e])
    return s + m.start() if m else s


def _end_of_words(text: str, s: int, e: int, words: list[str]) -> int:
    m = re.search(_pattern(words), text[s:e])
    return s + m.end() if m else e


def list_items(text: str) -> list[str]:
    """Items of an enumeration. Example: "A, B C, and D" -> ["A", "B C", "D"]"""
    return re.split(r",[\"”]?\s+(?:and\s+|or\s+)?|\s+(?:and|or)\s+(?=[^,]*$)", text)


def name_pairs(text: str, found: list[Span]) -> list[Span]:
    """Two names joined by "and": "the L9 and L8", "BAIC and Changan" -> one list span."""
    out = []
    for a, b in itertools.pairwise(found):
        if re.fullmatch(r",?\s+(?:and|or)\s+(?:the\s+)?(?:[a-z]+\s+)?", text[a.end : b.start]):
            out.append(Span(a.start, b.end, text[a.start : b.end], "list"))
    return out


def word_pairs(text: str, stopwords: frozenset[str]) -> list[Span]:
    """Two short noun phrases joined by "and" (up to two content words each).

    Example: "Self-research and overseas expansion are the two strategies"
    -> ["Self-research and overseas expansion"]
    """
    out = []
    for m in re.finditer(r"\s+and\s+", text):
        left = list(re.finditer(r"[\w'’-]+", text[: m.start()]))[-2:]
        while left and (left[0].group().lower() in stopwords or _gap(text, left[0], left[-1])):
            left = left[1:]
        right = list(re.finditer(r"[\w'’-]+", text[m.end() :]))[:2]
        right = right[: next((i for i, w in enumerate(right) if w.group().lower() in stopwords), 2)]
        if right and _gap(text[m.end() :], right[0], right[-1]):
            right = right[:1]
        if not left or not right or left[-1].group().lower() in stopwords:
            continue
        s, e = left[0].start(), m.end() + right[-1].end()
        out.append(Span(s, e, text[s:e], "list"))
    return out


def _gap(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    """Punctuation between two words ends a phrase."""
    return bool(re.search(r"[^\w\s'’-]", text[a.end() : b.start()]))


def respectively_keys(text: str) -> list[str]:
    """Keys that a "respectively" sentence assigns values to, in order.

    Example: "From 2020 to 2022, it lost 1, 2, and 3 respectively." -> ["2020", "2021", "2022"]
    """
    if "respectively" not in text:
        return []
    m = re.search(rf"\b({_YEAR})\s*(?:to|-|through)\s*({_YEAR})\b", text)
    if m and int(m.group(2)) > int(m.group(1)):
        return [str(y) for y in range(int(m.group(1)), int(m.group(2)) + 1)]
    return re.findall(_YEAR, text)
