"""What ``bench/bench.py`` reports: the Markdown table, issue 6's targets (pass/fail),
where the time goes, and the ``bench.json`` / ``bench.md`` files.

Pure functions of the collected results (a dict keyed by section) and the run's metadata,
apart from ``write_reports``. Non-goals: measuring anything, or failing on a missed target.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMATS: dict[str, Callable[[float], str]] = {
    "s": lambda v: f"{v:.2f} s",
    "ms": lambda v: f"{v:.1f} ms",
    "MiB": lambda v: f"{v:.0f} MiB",
    "x": lambda v: f"{v:.2f}",
    "n": lambda v: f"{v:.0f}",
}
# (metric, format, assistant value, plain value): dotted paths into the results
ROWS = [
    ("cold start to exit, wall (median of {repeat})", "s", "cold.ours.wall_s", "cold.plain.wall_s"),
    ("cold start to printed answer", "s", "cold.ours.first_output_s", "cold.plain.first_output_s"),
    ("cold start, peak RSS", "MiB", "cold.ours.rss_mib", "cold.plain.rss_mib"),
    ("warm p50 (ask vs retrieve, n={n_warm})", "ms", "ours.warm.p50_ms", "plain.warm.p50_ms"),
    ("warm p95", "ms", "ours.warm.p95_ms", "plain.warm.p95_ms"),
    ("warm p50, plain on 1 torch thread", "ms", "ours.warm.p50_ms", "plain.warm_1_thread.p50_ms"),
    ("warm p95, plain on 1 torch thread", "ms", "ours.warm.p95_ms", "plain.warm_1_thread.p95_ms"),
    ("warm process, peak RSS", "MiB", "ours.peak_rss_mib", "plain.peak_rss_mib"),
    ("index build from scratch (process)", "s", "builds.ours.wall_s", "builds.plain.wall_s"),
    ("index build, peak RSS", "MiB", "builds.ours.rss_mib", "builds.plain.rss_mib"),
    ("start-up, unchanged corpus (`assistant index`)", "s", "startup.wall_s", None),
    ("start-up: the same imports only (process)", "s", "startup.imports_wall_s", None),
    ("start-up over imports", "s", "startup.over_imports_s", None),
    ("open_index in-process, unchanged corpus, first", "ms", "ours.open_index_first_ms", None),
    ("open_index in-process, again", "ms", "ours.open_index_again_ms", None),
    ("web app: start to first /ask answer", "s", "web_app.ready_s", None),
    ("web app: peak RSS after first answer", "MiB", "web_app.rss_mib", None),
    ("eval suite, whole process ({n_cases} cases)", "s", "eval_suite.wall_s", None),
    ("eval suite, sum of per-case latencies", "s", "eval_suite.cases_s_total", None),
    (
        "evidence@1 (n={n_evidence} answerable single-turn)",
        "x",
        "ours.evidence_at_1",
        "plain.evidence_at_1",
    ),
    ("top-1 text length (mean characters)", "n", "ours.top1_chars_mean", "plain.top1_chars_mean"),
]


def _get(results: dict[str, Any], path: str | None) -> Any:
    """``results`` at a dotted path; a leading "ours"/"plain" means that worker's results."""
    if path is None:
        return None
    first, *rest = path.split(".")
    node: Any = results.get({"ours": "worker_ours", "plain": "worker_plain"}.get(first, first))
    for key in rest:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _fmt(value: Any, unit: str) -> str:
    return "-" if value is None else FORMATS[unit](value)


def table(r: dict[str, Any], repeat: int) -> list[tuple[str, str, str, str]]:
    """Rows of (metric, assistant, plain pipeline, assistant/plain)."""
    counts = {
        "repeat": repeat,
        "n_warm": _get(r, "ours.warm.n"),
        "n_evidence": _get(r, "ours.evidence_n"),
        "n_cases": _get(r, "eval_suite.n_cases"),
    }
    rows = []
    for label, unit, ours_path, plain_path in ROWS:
        a, b = _get(r, ours_path), _get(r, plain_path)
        ratio = f"{a / b:.2f}" if a is not None and b else "-"
        rows.append((label.format(**counts), _fmt(a, unit), _fmt(b, unit), ratio))
    return rows


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Issue 6's targets as (target, measured, met); met is None when not measured."""
    cold, rss = _get(r, "cold.ours.wall_s"), _get(r, "cold.ours.rss_mib")
    plain_cold, p50 = _get(r, "cold.plain.wall_s"), _get(r, "ours.warm.p50_ms")
    speedup = plain_cold / cold if cold and plain_cold else None
    plain_p50s = [_get(r, f"plain.{k}.p50_ms") for k in ("warm", "warm_1_thread")]
    plain_best = min((v for v in plain_p50s if v), default=None)
    warm = p50 / plain_best if p50 and plain_best else None
    over, reused = _get(r, "startup.over_imports_s"), _get(r, "startup.reused_without_embedding")
    torch_free = _get(r, "ours.heavy_modules_after_open") == []
    app, suite = _get(r, "web_app.ready_s"), _get(r, "eval_suite.wall_s")

    def met(value: float | None, ok: Callable[[float], bool]) -> bool | None:
        return None if value is None else ok(value)

    return [
        ("cold `assistant ask` <= 2.5 s wall", _fmt(cold, "s"), met(cold, lambda v: v <= 2.5)),
        ("cold `assistant ask` <= 400 MB peak RSS", _fmt(rss, "MiB"), met(rss, lambda v: v <= 400)),
        (
            "cold `assistant ask` >= 3x faster than the plain cold start",
            "-" if speedup is None else f"{speedup:.1f}x faster",
            met(speedup, lambda v: v >= 3),
        ),
        (
            "warm ask p50 / plain's best retrieve p50 <= 1.0",
            _fmt(warm, "x"),
            met(warm, lambda v: v <= 1),
        ),
        (
            "unchanged corpus: no embedding, < 0.5 s over imports",
            f"{_fmt(over, 's')} over imports; store reused: {reused}; torch-free: {torch_free}",
            met(over, lambda v: bool(v < 0.5 and reused and torch_free)),
        ),
        ("web app ready <= 6 s", _fmt(app, "s"), met(app, lambda v: v <= 6)),
        (
            "eval suite < 10 s (the runner's process wall)",
            _fmt(suite, "s"),
            met(suite, lambda v: v < 10),
        ),
    ]


def _notes(r: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """Where the time goes, from the in-process breakdowns and the app's log."""
    notes = []
    if (ow := r.get("worker_ours")) is not None:
        notes.append(
            f"assistant: imports {_fmt(ow['imports_ms'], 'ms')}, open_index "
            f"{_fmt(ow['open_index_first_ms'], 'ms')} ({ow['passages']} passages), first ask "
            f"{_fmt(ow['first_ask_ms'], 'ms')}; torch loaded by ask: {ow['torch_loaded_by_ask']}; "
            f"ask errors: {ow['errors']}"
        )
    if (pw := r.get("worker_plain")) is not None:
        notes.append(
            f"plain: imports {_fmt(pw['imports_ms'], 'ms')}, model + store load "
            f"{_fmt(pw['load_ms'], 'ms')}, first retrieve {_fmt(pw['first_retrieve_ms'], 'ms')} "
            f"(torch threads: {pw['torch_threads']}); "
            f"{_get(r, 'builds.plain_chunks')} chunks from the default SentenceSplitter"
        )
    for run in (r.get("web_app") or {}).get("runs", [])[:1]:
        notes.append(
            f"web app (first run): index and model loaded at {_fmt(run['log_loaded_s'], 's')}, "
            f"'Ready' logged at {_fmt(run['log_ready_s'], 's')}, first /ask answer at "
            f"{_fmt(run['ready_s'], 's')}"
        )
    if (suite := r.get("eval_suite")) is not None:
        notes.append(
            f"eval suite: cold first call {_fmt(suite['cold_first_call_ms'], 'ms')}, exit code "
            f"{suite['returncode']} (its thresholds), its citation@1 "
            f"{_fmt(suite['citation_at_1'], 'x')}"
        )
    others = meta["other_cpus_by_section"]
    if any(v > 0.2 for v in others.values()):
        shares = ", ".join(f"{k} {v:.1f}" for k, v in others.items())
        notes.append(
            f"other programs were using the {meta['cpus']} CPUs (CPUs taken, by section: "
            f"{shares}); timings are inflated, torch's default thread pool most of all"
        )
    return notes


def markdown(r: dict[str, Any], meta: dict[str, Any], errors: dict[str, str]) -> str:
    """The whole report: table, targets, where the time goes, crashed sections."""
    lines = [
        "# Benchmark: assistant vs a plain llama-index pipeline",
        "",
        f"{meta['started']} · {meta['cpus']} CPUs (load {meta['load_before']:.1f} at start) · "
        f"Python {meta['python']} · "
        f"repeat {meta['repeat']} (medians) · {meta['seconds']:.0f} s in all",
        "",
        "| metric | assistant | plain pipeline | ratio |",
        "|---|---:|---:|---:|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table(r, meta["repeat"])),
        "",
        "## Targets (issue 6)",
        "",
        *(
            f"- {'n/a ' if ok is None else 'PASS' if ok else 'FAIL'} {t}: {v}"
            for t, v, ok in targets(r)
        ),
        "",
        "## Where the time goes",
        "",
        *(f"- {n}" for n in _notes(r, meta)),
    ]
    if errors:
        lines += ["", "## Crashed sections", "", *(f"- {k}: {v}" for k, v in errors.items())]
    return "\n".join(lines) + "\n"


def write_reports(
    report_dir: Path,
    report: str,
    meta: dict[str, Any],
    results: dict[str, Any],
    errors: dict[str, str],
) -> tuple[Path, Path]:
    """Write ``bench.json`` (meta, results, targets, errors) and ``bench.md``; return both paths."""
    report_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "results": results,
        "targets": [{"target": t, "measured": v, "met": ok} for t, v, ok in targets(results)],
        "errors": errors,
    }
    (report_dir / "bench.json").write_text(json.dumps(data, indent=2) + "\n")
    (report_dir / "bench.md").write_text(report)
    return report_dir / "bench.json", report_dir / "bench.md"
