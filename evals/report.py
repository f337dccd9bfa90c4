"""Printing and saving an eval ``Report``: the per-type table, the summary, the failures,
and ``eval.json`` / ``eval.md`` in the report folder (gitignored ``reports/``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.runner import COLUMNS, LEGEND, CaseResult, Report


def _cell(value: float | int | None, column: str) -> str:
    if value is None:
        return "-"
    return str(value) if column == "n" else f"{value:.2f}"


def format_table(
    rows: dict[str, dict[str, float | int | None]], markdown: bool = False, label: str = "type"
) -> str:
    """The per-type table, as aligned text or as a Markdown table."""
    header = [label, *COLUMNS]
    body = [[name, *(_cell(row[c], c) for c in COLUMNS)] for name, row in rows.items()]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in body)])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*r) for r in [header, *body])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_summary(summary: dict[str, Any]) -> str:
    """The headline numbers, one per line."""
    s = summary
    lines = [
        f"answer accuracy (answerable): {_pct(s['answer_accuracy'])}",
        f"citation@1 (answerable):      {_pct(s['citation_at_1'])}",
        f"unanswerable accuracy:        {_pct(s['unanswerable_accuracy'])}",
        f"false abstention:             {_pct(s['false_abstention'])}",
        f"offsets valid:                {s['offsets_valid_count']}/{s['citations_total']}",
        f"scale errors / unit errors:   {s['scale_errors']} / {s['unit_errors']}",
        f"errors raised by ask:         {s['errors']}",
        f"latency p50 / p95 (warm):     {_ms(s['latency_p50_ms'])} / {_ms(s['latency_p95_ms'])}",
        f"cold first call:              {_ms(s['cold_first_call_ms'])}",
        f"answered by the model:        {_pct(s.get('read_by_llm'))} (accuracy there "
        f"{_pct(s.get('llm_accuracy'))}, fast path {_pct(s.get('fast_accuracy'))})",
        f"sent to the model:            {_pct(s.get('sent_to_llm'))} (cut by the deadline "
        f"{_pct(s.get('deadline_hit'))})",
    ]
    if s.get("llm_replies"):
        lines.append(
            f"LLM replies shown / fell back: {s['llm_verified']} / {s['llm_fallbacks']} "
            f"of {s['llm_replies']} ({s['llm_dropped_sentences']} sentences dropped)"
        )
    if s.get("warm_up_error"):
        lines.append(f"warm-up call failed:          {s['warm_up_error']}")
    return "\n".join(lines)


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_failures(results: Sequence[CaseResult]) -> str:
    """One block per failed case: what was asked, expected, returned and cited."""
    blocks = []
    for r in results:
        if r.correct:
            continue
        lines = [
            f"[{r.id}] ({r.type}{'/' + r.kind if r.kind != r.type else ''}) {r.question}",
            f"  expected:  {r.expected or '(abstain)'}",
            f"  returned:  {r.answer!r}  abstained={r.abstained}",
            f"  cited[1]:  {_clip(r.first_citation) or '-'}",
        ]
        if r.error:
            lines.append(f"  error:     {_clip(r.error)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_markdown(report: Report) -> str:
    """``eval.md``: the tables, the summary and the threshold verdict."""
    parts = ["# Eval report", "", "## By type", "", format_table(report.rows, markdown=True)]
    parts += ["", LEGEND]
    if report.kind_rows:
        parts += ["", "## Reformulated cases by answer kind", ""]
        parts += [format_table(report.kind_rows, markdown=True, label="answer kind")]
    parts += ["", "## Summary", "", "```", format_summary(report.summary), "```", ""]
    verdict = "all thresholds met" if report.check.passed else "thresholds missed:"
    parts += [f"**Thresholds:** {verdict}", *(f"- {f}" for f in report.check.failures)]
    return "\n".join(parts) + "\n"


def write_reports(report: Report, report_dir: Path) -> tuple[Path, Path]:
    """Write ``eval.json`` and ``eval.md`` into ``report_dir`` (created if needed)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = report_dir / "eval.json", report_dir / "eval.md"
    json_path.write_text(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    md_path.write_text(format_markdown(report), encoding="utf-8")
    return json_path, md_path
