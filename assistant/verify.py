"""Check a generated reply, sentence by sentence, against the passages it cites.

Scope: splitting a reply into sentences, reading its ``[n]`` markers, and the facts a
sentence states (numbers with their scale and percent sign, months, proper names).
A sentence is kept only when it cites at least one passage and every fact in it occurs
in the passages it cites. Non-goals: judging meaning; a kept sentence can still
misread its passage, which is why the reply always shows the passages themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from assistant.types import Dropped

# "[1]", "[1, 2]", "[1][2]", "[Passage 2]", "(1)" is not a marker: models use it for lists.
_MARKER = re.compile(r"\[\s*(?:passages?\s*)?(\d+(?:\s*(?:,|and)\s*\d+)*)\s*\]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(\[]?[A-Z0-9])|\n+")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[[^\]]*\])+")
# A full stop after these ends an abbreviation, not a sentence: "in Nov. 2025", "Mr. Yu".
_ABBREVIATION = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mr|Mrs|Ms|Dr|Prof|Inc|Ltd|Co|Corp|"
    r"St|No|vs|approx|(?<![\w&])[A-Z])\.$"
)
_SCALES = {
    "thousand": "thousand",
    "million": "million",
    "mn": "million",
    "m": "million",
    "billion": "billion",
    "bn": "billion",
    "b": "billion",
    "trillion": "trillion",
}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(%|percent\b|per\s+cent\b))?"
    r"(?:\s*(thousand|million|billion|trillion|bn|mn|m|b)\b)?",
    re.IGNORECASE,
)
# "one" is a pronoun as often as a number ("the best one"): not checked.
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split(),
        2,
    )
} | {w: 10 * i for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
_WORD_NUMBER = re.compile(
    r"\b(" + "|".join(_NUMBER_WORDS) + r")\b(?:\s*(percent\b|per\s+cent\b))?"
    r"(?:\s*(thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_MONTH = re.compile(
    r"\b(January|February|March|April|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?"
)
_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w'’&+-]*")
# Capitalised only because they open a sentence or are grammar, never names.
# Capitalised only because they open a sentence. Any other capitalised word is checked as
# a name: "Tesla lost ..." must find "Tesla" (or "tesla") in the cited passages.
_FUNCTION_WORDS = frozenset(
    """a an the this that these those it its in on at by for from to of with as and or but
    so if when while since after before during according however also yes no not i we
    they he she his her their there here what which who whom whose why how where
    both each all some many most more less other another such every several only just
    about over under around nearly almost roughly approximately then thus therefore
    overall meanwhile later earlier first finally initially currently today now instead
    despite although though because once until unlike like given based following""".split()
)
_NOT_NAMES = _FUNCTION_WORDS | set(_NUMBER_WORDS)


@dataclass(frozen=True)
class Fact:
    """One checkable claim: a number (with scale/percent), a month or a name word."""

    kind: str  # "number" | "month" | "name"
    value: str  # normalised: "3.5", "november", "acme"
    scale: str = ""  # "billion", ... for numbers
    percent: bool = False
    shown: str = field(default="", compare=False)  # as written, for messages

    def label(self) -> str:
        if self.kind != "number":
            return self.shown or self.value
        unit = "%" if self.percent else (f" {self.scale}" if self.scale else "")
        return f"{self.value}{unit}"


@dataclass(frozen=True)
class Verification:
    """The outcome for one reply: sentences kept (with their markers) and dropped."""

    kept: list[str]
    dropped: list[Dropped]
    cited: list[int]  # passage numbers the kept sentences cite, in first-use order


def sentences(reply: str) -> list[str]:
    """Split a reply into sentences; a marker after the full stop stays with its sentence.

    Example: "It lost 3 billion. [1] It grew. [2]" -> ["It lost 3 billion. [1]", "It grew. [2]"]
    """
    reply = reply.replace("**", "").strip()
    parts = [p.strip(" \t-*•") for p in _SENTENCE_END.split(reply)]
    out: list[str] = []
    for part in parts:
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
            continue
        lead = _LEADING_MARKERS.match(part)
        if lead:  # "... sales. [1] Next" cites for the sentence before; "[1] First" for itself
            markers_text, part = lead.group(0).strip(), part[lead.end() :].strip()
            if out:
                out[-1] = f"{out[-1]} {markers_text}"
            elif part:
                part = f"{part} {markers_text}"
        if part:
            out.append(part)
    return out


def markers(sentence: str) -> list[int]:
    """Passage numbers cited in a sentence. Example: "x [1, 3] y [2]" -> [1, 3, 2]"""
    found: list[int] = []
    for m in _MARKER.finditer(sentence):
        for n in re.split(r"\s*(?:,|and)\s*", m.group(1)):
            if n.strip().isdigit() and int(n) not in found:
                found.append(int(n))
    return found


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` markers. Example: "It fell 8.7% [2]." -> "It fell 8.7%."."""
    text = re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text))
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def facts(text: str) -> set[Fact]:
    """The checkable facts in ``text`` (markers removed first).

    Example: "Acme lost 1.73 billion yuan in March 2021 [1]." ->
    {number 1.73 billion, number 2021, month mar, name acme}
    """
    text = _MARKER.sub(" ", text)
    found: set[Fact] = set()
    for m in _NUMBER.finditer(text):
        found.add(_number(m.group(1), m.group(2), m.group(3)))
    for m in _WORD_NUMBER.finditer(text):
        found.add(_number(str(_NUMBER_WORDS[m.group(1).lower()]), m.group(2), m.group(3)))
    for m in _MONTH.finditer(text):
        found.add(Fact("month", m.group(1).lower()[:3], shown=m.group(1)))
    for m in _CAPITALISED.finditer(text):
        word = _name_word(m.group(0))
        if word and word not in _NOT_NAMES and not _MONTH.fullmatch(m.group(0)):
            found.add(Fact("name", word, shown=m.group(0)))
    return found


def unsupported(sentence: str, passages: list[str]) -> list[Fact]:
    """Facts of ``sentence`` that none of ``passages`` states."""
    source = _tight(" ".join(passages))
    known = facts(source)
    source_words = {_name_word(w) for w in re.findall(r"[\w'’&+-]+", source)}
    initials = _initials(source)
    numbers = [f for f in known if f.kind == "number"]
    missing: list[Fact] = []
    for fact in facts(_tight(sentence)):
        if fact.kind == "number":
            ok = any(_same_number(fact, k) for k in numbers)
        elif fact.kind == "name":
            ok = fact.value in source_words or fact.value in initials
        else:
            ok = fact in known
        if not ok:
            missing.append(fact)
    return sorted(missing, key=lambda f: (f.kind, f.value))


def verify(reply: str, passages: list[str]) -> Verification:
    """Keep the sentences of ``reply`` whose facts all occur in the passages they cite.

    ``passages[i]`` is passage ``[i + 1]``. Example: with passages ["Acme lost 1.73
    billion yuan in 2020."], "Acme lost 1.73 billion yuan [1]." is kept, "Acme lost
    2 billion yuan [1]." is dropped (2 billion is not in [1]), and "Acme lost money."
    is dropped (it cites nothing).
    """
    kept: list[str] = []
    dropped: list[Dropped] = []
    cited: list[int] = []
    for sentence in sentences(reply):
        numbers = markers(sentence)
        bad = [n for n in numbers if not 1 <= n <= len(passages)]
        if not _MARKER.sub("", sentence).strip(" .,;:!?\"'“”"):
            continue  # a stray marker on its own line
        if not numbers:
            dropped.append(Dropped(sentence, "cites no passage"))
            continue
        if bad:
            dropped.append(Dropped(sentence, f"cites [{bad[0]}], which is not a passage"))
            continue
        missing = unsupported(sentence, [passages[n - 1] for n in numbers])
        if missing:
            shown = ", ".join(f.label() for f in missing[:4])
            cites = ", ".join(f"[{n}]" for n in numbers)
            dropped.append(Dropped(sentence, f"{shown} not in {cites}"))
            continue
        kept.append(sentence)
        cited += [n for n in numbers if n not in cited]
    return Verification(kept, dropped, cited)


def _number(digits: str, percent: str | None, scale: str | None) -> Fact:
    try:
        value = Decimal(digits.replace(",", "")).normalize()
    except InvalidOperation:  # pragma: no cover - the pattern only matches digits
        return Fact("number", digits)
    shown = format(value, "f")
    return Fact("number", shown, _SCALES.get((scale or "").lower(), ""), bool(percent))


def _same_number(claim: Fact, stated: Fact) -> bool:
    """A claim matches when the value agrees and any scale/percent it adds agrees too."""
    if claim.value != stated.value:
        return False
    if claim.percent and not stated.percent:
        return False
    return not claim.scale or claim.scale == stated.scale


def _tight(text: str) -> str:
    """Close the spaced joiners of some translations. Example: "R & D" -> "R&D"."""
    return re.sub(r"(?<=\w) ([&-]) (?=\w)", r"\1", text)


def _initials(text: str) -> set[str]:
    """Acronyms of runs of capitalised words. Example: "Hong Kong dollars" -> {"hk"}"""
    out: set[str] = set()
    for run in re.finditer(r"(?:[A-Z][a-z]+\s+)+[A-Z][a-z]+", text):
        letters = "".join(w[0] for w in run.group(0).split()).lower()
        out |= {letters[i:j] for i in range(len(letters)) for j in range(i + 2, len(letters) + 1)}
    return out


def _name_word(word: str) -> str:
    word = re.sub(r"['’]s$", "", word).strip("'’-&+").lower()
    return "" if len(word) < 2 and word != "i" else word
