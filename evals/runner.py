"""Run the question set through ``assistant.ask`` and report per-type scores.

Scope: load cases, call ``ask`` once per case (after one untimed warm-up call), score with
:mod:`evals.scoring`, print the table and the failed cases, write ``eval.json`` and
``eval.md``, and compare the summary with ``thresholds.toml``. Non-goals: scoring rules
(they live in :mod:`evals.scoring`), the question set itself (``cases.jsonl`` is data).
``assistant`` is imported only inside :func:`run`, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals import numbers, scoring
from evals.scoring import Case

EVALS_DIR = Path(__file__).resolve().parent
DEFAULT_CASES = EVALS_DIR / "cases.jsonl"
DEFAULT_THRESHOLDS = EVALS_DIR / "thresholds.toml"
DEFAULT_REPORT_DIR = Path("reports")
WARM_UP_QUESTION = "What is this document about?"
LEGEND = (
    "acc: correct by the scorer's rules (unanswerable: abstained); EM: exact match; "
    "num: numeric match where the gold states a figure; cite@1: first citation contains the "
    "evidence; R@k, MRR: rank of the first supporting citation among those returned; "
    "abst: abstained on unanswerable cases; f-abst: abstained on answerable cases."
)
COLUMNS = ("n", "acc", "EM", "F1", "num", "cite@1", "R@1", "R@3", "R@5", "MRR", "abst", "f-abst")

AskFn = Callable[..., Any]  # assistant.ask: (question, history=..., settings=...) -> Answer


@dataclass
class CaseResult:
    """Everything measured for one case (one row of ``eval.json``)."""

    id: str
    type: str
    kind: str
    question: str
    expected: list[str]
    evidence: str | list[str] | None
    answer: str = ""
    abstained: bool = False
    correct: bool = False
    em: bool | None = None  # None: not applicable (unanswerable case)
    f1: float | None = None
    numeric: bool | None = None  # None: the gold states no quantity
    scale_error: bool = False
    unit_error: bool = False
    cite_at_1: bool | None = None  # None: no evidence to support
    evidence_rank: int | None = None
    citations: int = 0
    citations_valid: int = 0
    first_citation: str = ""
    latency_ms: float | None = None
    path: str = "fast"  # which answerer decided: fast, llm or rules
    read: bool = False  # the language model read the question (its quote kept or not)
    cut: bool = False  # the reading ran past the question's deadline
    error: str | None = None
    mode: str = "extractive"  # who wrote the reply: "extractive" | "generated"
    llm_ran: bool = False  # an LLM wrote a reply (shown or not)
    dropped: int = 0  # generated sentences that failed the check

    @property
    def answerable(self) -> bool:
        return bool(self.expected) and self.type != "unanswerable"


@dataclass
class Report:
    """The outcome of :func:`run`: per-case results, table rows, summary and verdict."""

    results: list[CaseResult]
    rows: dict[str, dict[str, float | int | None]]  # type -> column -> value
    kind_rows: dict[str, dict[str, float | int | None]]  # underlying answer kind -> ...
    summary: dict[str, Any]
    thresholds: dict[str, float] = field(default_factory=dict)
    check: scoring.ThresholdCheck = field(default_factory=scoring.ThresholdCheck)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.correct]

    @property
    def exit_code(self) -> int:
        """0 when every threshold is met, 1 otherwise."""
        return 0 if self.check.passed else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "thresholds": self.thresholds,
            "threshold_failures": self.check.failures,
            "thresholds_skipped": self.check.skipped,
            "rows": self.rows,
            "kind_rows": self.kind_rows,
            "cases": [asdict(r) for r in self.results],
        }


# ----------------------------------------------------------------------- loading


def load_cases(path: Path, only: str | None = None) -> list[Case]:
    """Cases from a JSONL file, filtered on ``type`` or ``answer_type`` when ``only`` is set.

    Raises ``ValueError`` naming the file and line of a malformed or duplicated case.
    """
    cases: list[Case] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = Case.from_dict(json.loads(line))
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path} line {lineno}: {exc}") from None
        if case.id in seen:
            raise ValueError(f"{path} line {lineno}: duplicate id {case.id!r}")
        seen.add(case.id)
        if only is None or only in (case.type, case.answer_type):
            cases.append(case)
    return cases


def load_thresholds(path: Path) -> dict[str, float]:
    """Flat ``name = number`` pairs from a TOML file."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    bad = [k for k, v in data.items() if isinstance(v, bool) or not isinstance(v, int | float)]
    if bad:
        raise ValueError(f"{path}: {', '.join(bad)} must be numbers")
    return {k: float(v) for k, v in data.items()}


# ----------------------------------------------------------------------- scoring


def score_case(
    case: Case,
    answer: Any,
    corpus_texts: dict[str, str],
    latency_ms: float | None = None,
) -> CaseResult:
    """Score one ``assistant.Answer`` (anything with its fields) against ``case``."""
    pred, abstained, citations = answer.answer or "", bool(answer.abstained), answer.citations
    result = CaseResult(
        id=case.id,
        type=case.type,
        kind=case.kind,
        question=case.question,
        expected=list(case.answers),
        evidence=list(case.evidence) if isinstance(case.evidence, tuple) else case.evidence,
        answer=pred,
        abstained=abstained,
        correct=scoring.answer_correct(case, pred, abstained),
        citations=len(citations),
        citations_valid=sum(scoring.offsets_valid(c, corpus_texts) for c in citations),
        first_citation=citations[0].text if citations else "",
        latency_ms=latency_ms,
        path=str(getattr(answer, "answered_by", "fast")),
    )
    result.read, result.cut = scoring.reading_of(getattr(answer, "timings", {}) or {})
    if case.answerable:
        result.em = scoring.exact_match(pred, case.answers) and not abstained
        result.f1 = 0.0 if abstained else scoring.token_f1(pred, case.answers)
        if case.kind not in scoring.NON_NUMERIC_KINDS and numbers.has_quantity(case.answers):
            numeric = numbers.numeric_match(pred, case.answers)
            result.numeric = numeric.match and not abstained
            result.scale_error, result.unit_error = numeric.scale_error, numeric.unit_error
    if case.answerable and case.evidence:
        result.evidence_rank = scoring.evidence_rank(case.evidence, citations)
        result.cite_at_1 = result.evidence_rank == 1
    return result


def _mean(values: Sequence[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _row(results: Sequence[CaseResult]) -> dict[str, float | int | None]:
    answerable = [r for r in results if r.answerable]
    ranked = [r.evidence_rank for r in answerable if r.evidence]

    def recall(k: int) -> float | None:
        return scoring.recall_at(ranked, k) if ranked else None

    return {
        "n": len(results),
        "acc": _mean([r.correct for r in results]),
        "EM": _mean([r.em for r in answerable]),
        "F1": _mean([r.f1 for r in answerable]),
        "num": _mean([r.numeric for r in answerable]),
        "cite@1": _mean([r.cite_at_1 for r in answerable]),
        "R@1": recall(1),
        "R@3": recall(3),
        "R@5": recall(5),
        "MRR": scoring.mean_reciprocal_rank(ranked) if ranked else None,
        "abst": _mean([r.abstained for r in results if not r.answerable]),
        "f-abst": _mean([r.abstained for r in answerable]),
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile: [10, 20, 30, 40] at 50 -> 25.0."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(results: Sequence[CaseResult], cold_ms: float | None) -> dict[str, Any]:
    """The headline numbers; the keys are the ones ``thresholds.toml`` names."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    total_citations = sum(r.citations for r in results)
    valid_citations = sum(r.citations_valid for r in results)
    latencies = [r.latency_ms for r in results if r.latency_ms is not None and r.error is None]
    overall = _row(results)
    return {
        "n_cases": len(results),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "accuracy": overall["acc"],
        "answer_accuracy": _mean([r.correct for r in answerable]),
        "citation_at_1": _mean([r.cite_at_1 for r in answerable]),
        "unanswerable_accuracy": _mean([r.correct for r in unanswerable]),
        "false_abstention": _mean([r.abstained for r in answerable]),
        "offsets_valid": valid_citations / total_citations if total_citations else 1.0,
        "offsets_valid_count": valid_citations,
        "citations_total": total_citations,
        "recall_at_1": overall["R@1"],
        "recall_at_3": overall["R@3"],
        "recall_at_5": overall["R@5"],
        "mrr": overall["MRR"],
        "scale_errors": sum(r.scale_error for r in results),
        "unit_errors": sum(r.unit_error for r in results),
        "errors": sum(r.error is not None for r in results),
        "read_by_llm": _mean([r.path == "llm" for r in results]),
        "sent_to_llm": _mean([r.read for r in results]),
        "deadline_hit": _mean([r.cut for r in results]),
        **{
            f"{path}_accuracy": _mean([r.correct for r in results if r.path == path])
            for path in ("fast", "llm")
        },
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "cold_first_call_ms": cold_ms,
        **_llm_summary(results),
    }


def _llm_summary(results: Sequence[CaseResult]) -> dict[str, int]:
    """How generated replies fared ({} when no LLM ran)."""
    ran = [r for r in results if r.llm_ran]
    if not ran:
        return {}
    return {
        "llm_replies": len(ran),
        "llm_verified": sum(r.mode == "generated" for r in ran),
        "llm_fallbacks": sum(r.mode != "generated" for r in ran),
        "llm_dropped_sentences": sum(r.dropped for r in ran),
    }


# ----------------------------------------------------------------------- running


def _call(ask: AskFn, case: Case, settings: Any) -> tuple[Any | None, float, str | None]:
    history = [dict(h) for h in case.history] or None
    start = time.perf_counter()
    try:
        answer = ask(case.question, history=history, settings=settings)
    except Exception as exc:  # one broken case is a failed case, not a crashed run
        return None, (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}"
    return answer, (time.perf_counter() - start) * 1000, None


def _read_corpus(settings: Any, citations: Sequence[Any], texts: dict[str, str]) -> None:
    """Add the cited documents' indexed text not read yet to ``texts`` (an unknown one stays
    absent). A PDF's or a scan's citations are offsets into its extracted text."""
    from assistant import AssistantError, document_text

    for source in {c.source for c in citations} - texts.keys():
        with contextlib.suppress(AssistantError):
            texts[source] = document_text(source, settings)


def run(
    cases_path: Path = DEFAULT_CASES,
    *,
    thresholds_path: Path | None = DEFAULT_THRESHOLDS,
    only: str | None = None,
    ask: AskFn | None = None,
    settings: Any = None,
    progress: Callable[[int, int, CaseResult], None] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> Report:
    """Ask every case, score it, and check the thresholds (``thresholds_path=None``: none).

    ``ask`` and ``settings`` default to ``assistant.ask`` and ``Settings.from_env()``.
    ``sample``: a seeded sample of that many cases (``seed``), in the file's order.
    """
    cases = load_cases(Path(cases_path), only)
    if sample is not None and sample < len(cases):
        chosen = set(random.Random(seed).sample(range(len(cases)), sample))
        cases = [c for i, c in enumerate(cases) if i in chosen]
    if not cases:
        raise ValueError(f"{cases_path}: no cases to run" + (f" of type {only!r}" if only else ""))
    thresholds = load_thresholds(Path(thresholds_path)) if thresholds_path else {}
    if ask is None or settings is None:
        import assistant  # heavy parts load on the first ask, i.e. in the warm-up

        ask = ask or assistant.ask
        settings = settings or assistant.Settings.from_env()

    _, cold_ms, warm_error = _call(ask, Case("warm-up", WARM_UP_QUESTION, (), "warm-up"), settings)
    corpus_texts: dict[str, str] = {}
    results = []
    for i, case in enumerate(cases, start=1):
        answer, ms, error = _call(ask, case, settings)
        if answer is None:
            result = score_case(case, _Failed(), corpus_texts)
            result.error = error
        else:
            _read_corpus(settings, answer.citations, corpus_texts)
            result = score_case(case, answer, corpus_texts, latency_ms=ms)
            result.mode = getattr(answer, "mode", "extractive")
            result.llm_ran = bool(getattr(answer, "generated", ""))
            result.dropped = len(getattr(answer, "dropped", ()))
        results.append(result)
        if progress:
            progress(i, len(cases), result)

    summary = summarize(results, cold_ms)
    summary["warm_up_error"] = warm_error
    return Report(
        results=results,
        rows=_rows_by(results, lambda r: r.type, overall=True),
        kind_rows=_rows_by([r for r in results if r.type != r.kind], lambda r: r.kind),
        summary=summary,
        thresholds=thresholds,
        check=scoring.check_thresholds(summary, thresholds),
    )


@dataclass(frozen=True)
class _Failed:
    """Stands in for the Answer of a call that raised: no answer, no citations."""

    answer: str = ""
    abstained: bool = False
    citations: tuple[Any, ...] = ()


def _rows_by(
    results: Sequence[CaseResult], key: Callable[[CaseResult], str], overall: bool = False
) -> dict[str, dict[str, float | int | None]]:
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    rows = {name: _row(group) for name, group in sorted(groups.items())}
    if overall and results:
        rows["overall"] = _row(results)
    return rows


# ---------------------------------------------------------------------- printing
