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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from evals.numbers import (
    numeric_match,
    parse_quantities,
)
from evals.text import _aliases, contains, normalize, word_limit

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


def reading_of(timings: Mapping[str, float]) -> tuple[bool, bool]:
    """(the language model read the question, its reading was cut by the deadline).

    A finished reading times both its reply and its "stated?" check; one stopped at the
    deadline times only the reading. Example: {"fast": 0.1, "read": 8.0} -> (True, True)
    """
    read = "read" in timings
    return read, read and "stated" not in timings
