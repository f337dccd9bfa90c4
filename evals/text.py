"""Text normalisation for the eval scorer (SQuAD rules plus numbers, hyphens and bold).

Example: normalize("The **1,729** billion - yuan") -> "1729 billion yuan". Pure, stdlib only.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable

MAX_ANSWER_WORDS = 12

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SPACED_HYPHEN = re.compile(rf"\s+[{_DASHES}]\s+")
_SPACED_AMPERSAND = re.compile(r"\b(\w)\s*&\s*(\w)\b")  # "R & D" -> "R&D"
_PERCENT = re.compile(r"\s*(?:%|\bper\s+cent\b)", re.IGNORECASE)
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _strip_punctuation(s: str) -> str:
    """Drop punctuation, turn dashes into spaces, keep decimal points: "1.73" != "173"."""
    out = []
    for i, ch in enumerate(s):
        if ch == "." and 0 < i < len(s) - 1 and s[i - 1].isdigit() and s[i + 1].isdigit():
            out.append(ch)
        elif ch in _DASHES or unicodedata.category(ch) == "Pd":
            out.append(" ")
        elif ch in string.punctuation or unicodedata.category(ch).startswith("P"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def normalize(s: str) -> str:
    """SQuAD normalisation plus numbers, hyphens, percent signs and markdown bold.

    Example: "**The** mid - 2022 launch, 50,000 units (80%)" -> "mid 2022 launch 50000 units
    80 percent". Hyphens become spaces, so "mid - 2022" == "mid-2022" == "mid 2022".
    """
    s = s.replace("**", "")
    s = _THOUSANDS.sub("", s)
    s = _SPACED_HYPHEN.sub("-", s)  # the article writes "mid - 2022" for "mid-2022"
    s = _SPACED_AMPERSAND.sub(r"\1&\2", s)
    s = _PERCENT.sub(" percent", s)
    s = _strip_punctuation(s.lower())
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _aliases(golds: str | Iterable[str]) -> list[str]:
    return [golds] if isinstance(golds, str) else list(golds)


def word_limit(gold: str) -> int:
    """Most words an answer may have before it counts as a dump (12, or 2x a long gold)."""
    return max(MAX_ANSWER_WORDS, 2 * len(normalize(gold).split()))


def contains(haystack: str, needle: str) -> bool:
    """Whole-word containment after normalisation; an empty needle is never contained."""
    n, h = normalize(needle), normalize(haystack)
    return bool(n) and f" {n} " in f" {h} "
