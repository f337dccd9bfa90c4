"""Pure scoring for the eval: answer correctness, citation support and retrieval ranks.

Scope: compare one returned answer (and its citations) with one case of ``cases.jsonl``,
and aggregate ranks and thresholds. Standard library only; it never imports ``assistant``
(citations are anything with ``text``, ``source``, ``start`` and ``end``), so it is
unit-tested on fixed answers. Non-goals: running the assistant, reading files, printing.

Rules in one place (the docstrings below give examples):

- text is compared after :func:`normalize` (SQuAD plus numbers, hyphens and bold);
- an answer longer than :data:`MAX_ANSWER_WORDS` words (or twice the gold, if longer)
  is a dump and never matches, except for "why" answers, which are sentences;
- a gold alias that states quantities is matched on them: same numbers at the gold's
  precision, same scale, no clashing unit (see :func:`numeric_match`);
- any other alias: exact match, or the alias contained in the answer as whole words;
- list answers need every item of the gold list; unanswerable cases need an abstention.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, Protocol

MAX_ANSWER_WORDS = 12
# Kinds whose gold is never compared as a quantity ("2022" in a date is not an amount).
NON_NUMERIC_KINDS = frozenset({"date", "person", "org", "list", "why"})
RECALL_KS = (1, 3, 5)


class CitationLike(Protocol):
    """The fields of ``assistant.Citation`` the scorer reads."""

    @property
    def text(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class Case:
    """One line of ``cases.jsonl``; ``kind`` is what the answer is (money, why, ...)."""

    id: str
    question: str
    answers: tuple[str, ...]
    type: str
    evidence: str | tuple[str, ...] | None = None  # a tuple lists equally good alternatives
    history: tuple[dict[str, str], ...] = ()
    answer_type: str | None = None

    @property
    def kind(self) -> str:
        """``answer_type`` when given (followup, paraphrase, ...), else ``type``."""
        return self.answer_type or self.type

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable" and bool(self.answers)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Case:
        """Build from a decoded JSON line; raises ``ValueError`` naming the bad field."""
        missing = [k for k in ("id", "question", "answers", "type") if k not in data]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        answers = data["answers"]
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise ValueError("'answers' must be a list of strings")
        evidence = data.get("evidence")
        if isinstance(evidence, list) and all(isinstance(e, str) for e in evidence):
            evidence = tuple(evidence)
        elif evidence is not None and not isinstance(evidence, str):
            raise ValueError("'evidence' must be a string, a list of strings or null")
        history = data.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise ValueError("'history' must be a list of {role, content} objects")
        return cls(
            id=str(data["id"]),
            question=str(data["question"]),
            answers=tuple(answers),
            type=str(data["type"]),
            evidence=evidence,
            history=tuple(history),
            answer_type=data.get("answer_type"),
        )


# --------------------------------------------------------------------------- text

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


def exact_match(pred: str, golds: str | Iterable[str]) -> bool:
    """True if the normalised prediction equals any normalised alias."""
    p = normalize(pred)
    return any(p == normalize(g) for g in _aliases(golds))


def _f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def token_f1(pred: str, golds: str | Iterable[str]) -> float:
    """SQuAD token F1, max over aliases; no aliases means "" is the gold."""
    aliases = _aliases(golds) or [""]
    return max(_f1(pred, g) for g in aliases)


# ------------------------------------------------------------------------ numbers


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

_LIST_SPLIT = re.compile(r",|;|\band\b", re.IGNORECASE)


def list_items(gold: str) -> list[str]:
    """Items of a gold list: "AITO, Luxeed and Enjoy" -> ["AITO", "Luxeed", "Enjoy"]."""
    return [item.strip() for item in _LIST_SPLIT.split(gold) if normalize(item)]


def _as_case(case: Case | Mapping[str, Any]) -> Case:
    return case if isinstance(case, Case) else Case.from_dict(case)


def answer_correct(case: Case | Mapping[str, Any], pred_answer: str, abstained: bool) -> bool:
    """Whether a returned answer is right for ``case`` (rules in the module docstring).

    Example: a money case with gold "11.5 billion yuan" accepts "RMB 11.5 billion" and
    rejects "11.5 million yuan", an abstention, and a 60-word dump containing the gold.
    """
    case = _as_case(case)
    if not case.answerable:
        return abstained
    if abstained or not normalize(pred_answer):
        return False
    n_words = len(normalize(pred_answer).split())
    if case.kind == "why" or case.type == "why":
        return any(contains(pred_answer, g) for g in case.answers)
    if case.kind == "list":
        return any(
            exact_match(pred_answer, g)
            or (
                n_words <= word_limit(g)
                and bool(list_items(g))
                and all(contains(pred_answer, item) for item in list_items(g))
            )
            for g in case.answers
        )
    numeric_kind = case.kind not in NON_NUMERIC_KINDS
    for gold in case.answers:
        if exact_match(pred_answer, gold):
            return True
        if numeric_kind and parse_quantities(gold):
            # The quantities decide: containment would let "80 units" pass for "80".
            if numeric_match(pred_answer, gold).match:
                return True
        elif n_words <= word_limit(gold) and contains(pred_answer, gold):
            return True
    return False


# -------------------------------------------------------------------- citations


def citation_supports(evidence: str | None, citation_text: str, min_overlap: float = 0.5) -> bool:
    """Whether a cited passage backs the case's evidence.

    Rule: the normalised evidence lies inside the normalised citation (whole words), or,
    for a citation cut shorter than the evidence, the citation lies inside the evidence
    and covers at least ``min_overlap`` of its words.
    """
    if not evidence or not normalize(evidence) or not normalize(citation_text):
        return False
    if contains(citation_text, evidence):
        return True
    ev_words, cit_words = normalize(evidence).split(), normalize(citation_text).split()
    return contains(evidence, citation_text) and len(cit_words) >= min_overlap * len(ev_words)


def offsets_valid(citation: CitationLike, corpus_texts: Mapping[str, str]) -> bool:
    """True if ``corpus_texts[citation.source][start:end] == citation.text`` (non-empty)."""
    text = corpus_texts.get(citation.source)
    if text is None or not citation.text:
        return False
    if not 0 <= citation.start < citation.end <= len(text):
        return False
    return text[citation.start : citation.end] == citation.text


def evidence_rank(
    evidence: str | Sequence[str] | None, citations: Sequence[CitationLike]
) -> int | None:
    """1-based rank of the first citation supporting ``evidence`` (or any of a list of
    alternatives, when the corpus states the fact twice); None if none does."""
    alternatives = [evidence] if isinstance(evidence, str) else list(evidence or [])
    for rank, citation in enumerate(citations, start=1):
        if any(citation_supports(e, citation.text) for e in alternatives):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of ranks that are <= k: [1, 3, None, 2] at k=2 -> 0.5."""
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else math.nan


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/rank, a miss counting 0: [1, 2, None] -> 0.5."""
    return sum(1 / r for r in ranks if r) / len(ranks) if ranks else math.nan


# ------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class ThresholdCheck:
    """Outcome of comparing a summary with ``thresholds.toml``."""

    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # metrics with no cases to measure

    @property
    def passed(self) -> bool:
        return not self.failures


def check_thresholds(
    summary: Mapping[str, float | None], thresholds: Mapping[str, float]
) -> ThresholdCheck:
    """Compare metrics with thresholds: "x_max" caps summary["x"], any other key is a floor.

    Example: {"answer_accuracy": 0.8} vs {"answer_accuracy": 0.9} -> one failure. A metric
    that is None (no case measured it, e.g. with ``--only money``) is skipped; a threshold
    naming an unknown metric fails, so a typo cannot pass silently.
    """
    failures, skipped = [], []
    for key, limit in thresholds.items():
        is_max = key.endswith("_max")
        metric = key.removesuffix("_max") if is_max else key
        if metric not in summary:
            failures.append(f"{key}: unknown metric {metric!r} (not in the summary)")
            continue
        value = summary[metric]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            skipped.append(key)
        elif is_max and value > limit:
            failures.append(f"{metric} = {value:.3f} is above the maximum {limit:.3f}")
        elif not is_max and value < limit:
            failures.append(f"{metric} = {value:.3f} is below the minimum {limit:.3f}")
    return ThresholdCheck(failures, skipped)
