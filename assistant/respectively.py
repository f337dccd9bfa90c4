""" "A, B and C respectively": the value that belongs to the year the question asks about.

A small reader misses this English construction: asked about 2022 in "From 2020 to 2022
it lost 1.7, 1.8 and 3.8 billion yuan respectively", it may pick any of the three. When
the chosen span is one of the listed values and the question names one of the listed
years, the value at that year's position is the answer. Non-goals: keys other than years.
"""

from __future__ import annotations

import re

_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
_RANGE = re.compile(rf"\b({_YEAR})\s*(?:to|-|–|through)\s*({_YEAR})\b")
_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")
_VALUE_START = re.compile(r"[$€£¥]|\d")


def keys(sentence: str) -> list[str]:
    """The years a "respectively" sentence lists values for, in order.

    Example: "From 2020 to 2022, it lost 1, 2, and 3 respectively." -> ["2020", "2021", "2022"]
    """
    m = _RANGE.search(sentence)
    if m and int(m.group(2)) > int(m.group(1)):
        return [str(y) for y in range(int(m.group(1)), int(m.group(2)) + 1)]
    return re.findall(rf"\b{_YEAR}\b", sentence)


def values(sentence: str) -> list[tuple[int, int]]:
    """Offsets of the listed values before "respectively", in order.

    Example: "It lost 1 bn, 2 bn, and 3 bn respectively." -> offsets of "1 bn", "2 bn", "3 bn"
    """
    end = sentence.find("respectively")
    if end < 0:
        return []
    stop = end
    while stop > 0 and sentence[stop - 1] in " ,":
        stop -= 1
    items: list[tuple[int, int]] = []
    pos = stop
    for sep in reversed(list(_SEPARATOR.finditer(sentence, 0, stop))):
        items.append((sep.end(), pos))
        pos = sep.start()
    items.append((0, pos))
    out = []
    for a, b in items:  # last item first: the list is the trailing run holding figures
        first = _VALUE_START.search(sentence, a, b)
        if first is None:
            break
        out.append((first.start(), b))
    return out[::-1]


def align(sentence: str, start: int, end: int, years: list[str]) -> tuple[int, int]:
    """The (start, end) in ``sentence`` of the value for the asked year, else the span given.

    Example: ("From 2020 to 2022 it lost 1 bn, 2 bn and 3 bn respectively.", span of "1 bn",
    ["2022"]) -> span of "3 bn"
    """
    if "respectively" not in sentence or len(years) != 1:
        return start, end
    listed, found = keys(sentence), values(sentence)
    if years[0] not in listed or len(found) < len(listed):
        return start, end
    found = found[-len(listed) :]  # "From 2020 to 2022, ..." may open the list's first item
    if not any(a < end and start < b for a, b in found):
        return start, end  # the span is not one of the listed values
    return found[listed.index(years[0])]
