"""Names, quotes and lists inside a sentence: the phrase-shaped answers.

Proper-noun phrases (telling persons from organisations by shape and role words),
short quoted phrases, enumerations ("A, B, and C") and pairs ("A and B"), each as a
``Span`` with offsets into the sentence. Rules are about English forms, never about a
particular document. Non-goals: named-entity recognition with a model.
"""

from __future__ import annotations

import itertools
import re

from assistant.extract import MONTH, YEAR, Span

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


def quotes(text: str) -> list[Span]:
    """Quoted phrases of at most twelve words. Example: 'the "Luxeed" brand' -> ["Luxeed"]"""
    out = []
    for m in _QUOTE.finditer(text):
        inner = m.group(1).strip().rstrip(",.;:")
        if 0 < len(inner.split()) <= 12:
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
                re.sub(r"['’]\w*$", "", parts[0].lower()) in _COMMON_OPENERS  # "It's"
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
        if re.fullmatch(YEAR, span_text) or re.fullmatch(MONTH, span_text):
            continue
        if re.fullmatch(r"[A-Z]\s*&\s*[A-Z]", span_text):
            continue  # "R & D", "M&A": abbreviated common nouns, not names
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


_PLACE_BEFORE = re.compile(
    r"\b(?:in|at|from|into|across|throughout|based in|headquartered in)\s+(?:the\s+)?$"
)
_PLACE_AFTER = re.compile(r"\s*-\s*based\b|\s+(?:IPO|listing|stock exchange|market)\b", re.I)


def places(text: str, proper_words: frozenset[str] | None = None) -> list[Span]:
    """Proper names where something is, by the words around them (no gazetteer).

    Example: "This Lyon-based firm listed in Geneva" -> ["Lyon", "Geneva"]
    """
    out = []
    for sp in names(text, proper_words):
        if sp.kind == "person" or re.search(rf"\d|^{MONTH}\b", sp.text):
            continue
        s, e = sp.start, sp.end
        trailing = re.search(r"\s+(?:IPO|Stock Exchange|Exchange)$", sp.text)
        if trailing:
            e = s + trailing.start()
        if _PLACE_BEFORE.search(text[:s]) or _PLACE_AFTER.match(text[e:]):
            out.append(Span(s, e, text[s:e], "place"))
    return out
