"""Evals: the question set (``cases.jsonl``), its scorer and its runner.

Evals are not tests: ``python -m evals`` (``make eval``) asks every case, prints a per-type
table, writes ``reports/eval.json`` and ``reports/eval.md``, and exits 1 under the limits
in ``thresholds.toml``. Importing this package does not import ``assistant``.
"""

from __future__ import annotations

from evals.runner import CaseResult, Report, run
from evals.scoring import Case, answer_correct

__all__ = ["Case", "CaseResult", "Report", "answer_correct", "run"]
