"""Numbers in answers: parse value, scale, percent and unit, and compare them.

"RMB 11.5 billion" -> Quantity(11.5, 1e9, unit="yuan"). A prediction matches a gold
figure when value x scale agree at the gold's precision; wrong scale and wrong unit are
reported apart. Pure, standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from evals.text import _DASHES, _aliases, normalize, word_limit


@dataclass(frozen=True)
class Quantity:
    """A number as written: "RMB 11.5 billion" -> value 11.5, scale 1e9, unit "yuan"."""

    value: float
    scale: float = 1.0
    percent: bool = False
    unit: str | None = None
    decimals: int = 0  # digits after the decimal point, the precision of the figure
    text: str = ""

    @property
    def total(self) -> float:
        return self.value * self.scale

    @property
    def is_bare_year(self) -> bool:
        """True for a year on its own ("2023"): context in an answer, not an amount."""
        return (
            self.scale == 1
            and not self.percent
            and self.unit is None
            and self.decimals == 0
            and "," not in self.text
            and 1900 <= self.value <= 2100
        )


@dataclass(frozen=True)
class NumericResult:
    """``scale_error``: right digits, wrong scale; ``unit_error``: right value, other unit."""

    match: bool = False
    scale_error: bool = False
    unit_error: bool = False


_SCALES = {
    "thousand": 1e3, "k": 1e3,
    "million": 1e6, "m": 1e6, "mn": 1e6,
    "billion": 1e9, "b": 1e9, "bn": 1e9,
    "trillion": 1e12, "tn": 1e12,
}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d,]\d)")
_SCALE = re.compile(
    r"\s*-?\s*(thousand|million|billion|trillion)s?\b|\s?(bn|mn|tn)\b|(?<=\d)(k|m|b)\b",
    re.IGNORECASE,
)
_PERCENT_SUFFIX = re.compile(r"\s*(?:%|percent\b|per\s+cent\b|pct\b)", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(
    r"\s*-?\s*(hong\s+kong\s+dollars?|hk\s+dollars?|hkd|yuan|rmb|cny|renminbi"
    r"|us\s+dollars?|usd|dollars?)\b",
    re.IGNORECASE,
)
_COUNT_SUFFIX = re.compile(r"\s*-?\s*(?:[^\W\d_]+\s+)?(units?|vehicles?|cars?)\b", re.IGNORECASE)
_PREFIX = re.compile(r"(hk\$|hkd|us\$|usd|\$|rmb|cny|¥)\s*$", re.IGNORECASE)
_RANGE_JOIN = re.compile(rf"\s*(?:to|and|or|[{_DASHES}])\s*", re.IGNORECASE)


def _unit(word: str) -> str:
    w = " ".join(word.lower().split())
    if w.startswith(("hong kong", "hk")):
        return "hkd"
    if w in {"yuan", "rmb", "cny", "renminbi", "¥"}:
        return "yuan"
    if w.startswith(("unit", "vehicle", "car")):
        return "units"
    return "usd"  # usd, us dollars, us$, $, dollars


def parse_quantities(s: str) -> list[Quantity]:
    """Every number in ``s`` with its scale, percent sign and unit.

    Example: "between 10 and 20 billion yuan" -> [10e9 yuan, 20e9 yuan]; the first number
    of a range takes the scale and unit of the second.
    """
    found: list[tuple[int, int, Quantity, bool]] = []  # start, end, quantity, has own scale
    for m in _NUMBER.finditer(s):
        whole, dec = m.group(1), m.group(2) or ""
        value = float(whole.replace(",", "") + (f".{dec}" if dec else ""))
        end, scale, unit, percent = m.end(), 1.0, None, False
        if sm := _SCALE.match(s, end):
            scale = _SCALES[next(g for g in sm.groups() if g).lower()]
            end = sm.end()
        if pm := _PERCENT_SUFFIX.match(s, end):
            percent, end = True, pm.end()
        elif um := _CURRENCY_SUFFIX.match(s, end) or _COUNT_SUFFIX.match(s, end):
            unit, end = _unit(um.group(1)), um.end()
        if unit is None and (pre := _PREFIX.search(s, 0, m.start())):
            unit = _unit(pre.group(1))
        q = Quantity(value, scale, percent, unit, len(dec), s[m.start() : end].strip())
        found.append((m.start(), end, q, scale != 1.0))
    # "10 to 20 billion yuan": the first number borrows what the second one carries.
    for i in range(len(found) - 2, -1, -1):
        start, end, q, own_scale = found[i]
        nxt_start, _, nxt, _ = found[i + 1]
        if _RANGE_JOIN.fullmatch(s, end, nxt_start):
            q = Quantity(
                q.value,
                q.scale if own_scale else nxt.scale,
                q.percent or nxt.percent,
                q.unit or nxt.unit,
                q.decimals,
                q.text,
            )
            found[i] = (start, end, q, own_scale)
    return [q for _, _, q, _ in found]


def parse_quantity(s: str) -> Quantity | None:
    """The first quantity in ``s``: "RMB 11.5 billion" -> Quantity(11.5, 1e9, unit="yuan")."""
    quantities = parse_quantities(s)
    return quantities[0] if quantities else None


def _effective_unit(q: Quantity) -> str | None:
    return "percent" if q.percent else q.unit


def _compare(pred: Quantity, gold: Quantity) -> str:
    """Verdict "match", "scale", "unit" or "miss", at the gold's precision and scale."""
    with localcontext() as ctx:
        ctx.prec = 60
        step = Decimal(1).scaleb(-gold.decimals)
        g = Decimal(repr(gold.value)).quantize(step, ROUND_HALF_UP)
        p_raw = Decimal(repr(pred.value))
        p_at_gold_scale = p_raw * Decimal(repr(pred.scale)) / Decimal(repr(gold.scale))
        same_total = p_at_gold_scale.quantize(step, ROUND_HALF_UP) == g
        same_digits = p_raw.quantize(step, ROUND_HALF_UP) == g
    pu, gu = _effective_unit(pred), _effective_unit(gold)
    unit_clash = pu is not None and gu is not None and pu != gu
    if same_total:
        return "unit" if unit_clash else "match"
    if same_digits and pred.scale != gold.scale and not unit_clash:
        return "scale"
    return "miss"


def _numeric_one(pred: str, gold: str) -> NumericResult:
    golds = parse_quantities(gold)
    if not golds or len(normalize(pred).split()) > word_limit(gold):
        return NumericResult()
    preds = parse_quantities(pred)
    if not any(g.is_bare_year for g in golds):
        preds = [p for p in preds if not p.is_bare_year]
    if len(preds) != len(golds):  # a hedge listing several figures is not an answer
        return NumericResult()
    verdicts = {_compare(p, g) for p, g in zip(preds, golds, strict=True)}
    if verdicts == {"match"}:
        return NumericResult(match=True)
    return NumericResult(
        scale_error=verdicts <= {"match", "scale"},
        unit_error=verdicts <= {"match", "unit"},
    )


def numeric_match(pred: str, golds: str | Iterable[str]) -> NumericResult:
    """Compare the quantities of ``pred`` with those of each gold alias, in order.

    Values are compared as value*scale rounded to the gold's precision: gold "1.73 billion"
    accepts "1.729 billion", gold "1.729 billion" rejects "1.73 billion". A unit only counts
    against the answer when both sides state one ("11.5 billion" matches "11.5 billion
    yuan"). Bare years in the answer are ignored unless the gold has one. A dump (see
    :func:`word_limit`) never matches. Errors are reported only when nothing matched.
    """
    results = [_numeric_one(pred, g) for g in _aliases(golds)]
    if any(r.match for r in results):
        return NumericResult(match=True)
    return NumericResult(
        scale_error=any(r.scale_error for r in results),
        unit_error=any(r.unit_error for r in results),
    )


def has_quantity(golds: Iterable[str]) -> bool:
    """True if any gold alias states a number."""
    return any(parse_quantities(g) for g in golds)


# ------------------------------------------------------------------ correctness
