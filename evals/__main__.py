"""``python -m evals``: run the question set and exit non-zero under the thresholds.

Thin CLI over :func:`evals.runner.run`: parse options, print, write the reports.
Exit codes: 0 all thresholds met, 1 a threshold missed, 2 bad input (cases, thresholds).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from assistant.errors import AssistantError
from evals.report import format_failures, format_summary, format_table, write_reports
from evals.runner import DEFAULT_CASES, DEFAULT_REPORT_DIR, DEFAULT_THRESHOLDS, CaseResult, run


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="JSONL question set")
    p.add_argument(
        "--thresholds", type=Path, help="TOML limits (default: thresholds.toml; none for --squad)"
    )
    p.add_argument("--report-dir", type=Path, default=DEFAULT_REPORT_DIR, help="output folder")
    p.add_argument("--only", metavar="TYPE", help="only cases of this type or answer_type")
    p.add_argument("--quiet", action="store_true", help="no progress and no failed-case list")
    p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N cases (--seed)")
    p.add_argument(
        "--answerer",
        choices=("auto", "llm", "fast", "learned", "rules"),
        help="the answerer to score (default: ASSISTANT_ANSWERER, else auto)",
    )
    p.add_argument(
        "--llm",
        metavar="SPEC",
        help="score generated replies from this backend (llamacpp:PATH, ollama:M, openai:M)",
    )
    squad = p.add_argument_group("SQuAD 2.0 articles (each its own corpus, through ask())")
    squad.add_argument("--squad", type=Path, metavar="FILE", help="a SQuAD 2.0 JSON file")
    squad.add_argument(
        "--articles",
        help="comma-separated titles, or 'all' (default: the test articles of squad_split.json)",
    )
    squad.add_argument("--per-article", type=int, metavar="N", help="a seeded sample of N each")
    squad.add_argument("--seed", type=int, default=0, help="seed of --per-article and --sample")
    squad.add_argument(
        "--given-paragraph",
        action="store_true",
        help="the reader alone on each paragraph (the language model's with --answerer llm)",
    )
    squad.add_argument("--one-corpus", action="store_true", help="all articles in one corpus")
    squad.add_argument(
        "--foreign",
        action="store_true",
        help="ask each article's questions of the next article (all should be abstained)",
    )
    return p


def _progress(i: int, total: int, result: CaseResult) -> None:
    mark = "ok" if result.correct else ("ERR" if result.error else "FAIL")
    print(f"\r[{i}/{total}] {mark:<4} {result.id:<24}", end="", file=sys.stderr, flush=True)
    if i == total:
        print(file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the eval and return the exit code."""
    args = _parser().parse_args(argv)
    if args.squad:
        from evals.squad import main as squad_main

        try:
            return squad_main(args)
        except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError, AssistantError) as exc:
            print(f"evals: {exc}", file=sys.stderr)
            return 2
    progress = None if args.quiet or not sys.stderr.isatty() else _progress
    try:
        chosen = {k: v for k, v in (("llm", args.llm), ("answerer", args.answerer)) if v}
        settings = None
        if chosen:
            from assistant import Settings

            settings = Settings.from_env(**chosen)
        report = run(
            args.cases,
            thresholds_path=args.thresholds or DEFAULT_THRESHOLDS,
            only=args.only,
            settings=settings,
            progress=progress,
            sample=args.sample,
            seed=args.seed,
        )
    except (OSError, ValueError, ImportError, tomllib.TOMLDecodeError, AssistantError) as exc:
        print(f"evals: {exc}", file=sys.stderr)
        return 2

    print(format_table(report.rows))
    if report.kind_rows:
        print("\nreformulated cases by answer kind:")
        print(format_table(report.kind_rows, label="kind"))
    print()
    print(format_summary(report.summary))
    if not args.quiet and report.failed:
        print(f"\nfailed cases ({len(report.failed)}):\n")
        print(format_failures(report.failed))
    json_path, md_path = write_reports(report, args.report_dir)
    print(f"\nreports: {json_path}, {md_path}")
    for failure in report.check.failures:
        print(f"THRESHOLD MISSED: {failure}")
    for skipped in report.check.skipped:
        print(f"threshold not measured (no cases): {skipped}")
    if report.check.passed:
        print("all thresholds met")
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
