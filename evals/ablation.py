"""``python -m evals.ablation NAME``: the default answerer with one rule family switched off.

Each family is switched off in this process only, by replacing what it contributes with
what the answerer does without it; nothing is retrained. Then the seed cases, the
independent questions and a seeded sample of the ``dev`` SQuAD articles go through
``ask()`` as ``python -m evals`` runs them, and one JSON line of figures is printed and
appended to ``--out``. ``none`` is the baseline. A family stays off until the process
ends: run one ablation per process.

    rules            the rule-based answerer never replies (its reply is no candidate)
    typed-spans      the rules answer with whole sentences, never with a typed span
    respectively     "A, B and C respectively" is not read as values of A, B and C
    question-unit    "how many X" does not ask for a count of X

Data: SQuAD 2.0 (Rajpurkar, Jia & Liang 2018), CC BY-SA 4.0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _no_rules() -> None:
    from assistant.answer import Answerer, abstention

    def never(self: Any, question: str, query: Any, hits: list[Any], settings: Any) -> Any:
        passages, scores = [h.passage for h in hits], [h.score for h in hits]
        return abstention(question, query, passages, scores, settings, "")

    Answerer.answer = never  # type: ignore[method-assign]


def _no_typed_spans() -> None:
    from assistant import rank

    rank.SPAN_TYPES.clear()  # the same set answer.py reads


def _no_respectively() -> None:
    from assistant import extract, learned

    def no_keys(text: str) -> list[str]:
        return []

    def in_place(sentence: str, start: int, end: int, years: list[str]) -> tuple[int, int]:
        return start, end

    extract.respectively_keys = no_keys
    learned.align = in_place


def _no_question_unit() -> None:
    import assistant.question as questions
    from assistant import rank

    def no_unit(question: str) -> str | None:
        return None

    questions._unit = rank._unit = no_unit


ABLATIONS: dict[str, Callable[[], None]] = {
    "none": lambda: None,
    "rules": _no_rules,
    "typed-spans": _no_typed_spans,
    "respectively": _no_respectively,
    "question-unit": _no_question_unit,
}


def measure(name: str, squad: Path, per_article: int, seed: int) -> dict[str, Any]:
    """Switch ``name`` off, then score the seed sets and the dev articles through ``ask()``."""
    ABLATIONS[name]()
    from assistant import Settings
    from evals.runner import run
    from evals.squad import run_squad, summarize
    from evals.squad_scoring import load_split

    settings = Settings.from_env(answerer="auto")
    began = time.perf_counter()
    out: dict[str, Any] = {"off": name}
    for label, path in (("cases", "cases.jsonl"), ("independent", "independent.jsonl")):
        report = run(ROOT / "evals" / path, settings=settings)
        s = report.summary
        out[label] = {k: s[k] for k in ("accuracy", "false_abstention", "read_by_llm")}
        h3 = [r.correct for r in report.results if r.id.startswith("h3-")]
        if h3:
            out[label]["h3"] = sum(h3) / len(h3)
    for title in load_split()["dev"]:
        rows = run_squad(squad, [title], per_article=per_article, seed=seed, answerer="auto")
        s = summarize(rows)
        out[title] = {k: s[k] for k in ("f1", "answerable_f1", "unanswerable_abstained")}
    out["minutes"] = round((time.perf_counter() - began) / 60, 1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ablation and print its figures as one JSON line."""
    p = argparse.ArgumentParser(
        prog="python -m evals.ablation", description=__doc__.splitlines()[0]
    )
    p.add_argument("name", choices=sorted(ABLATIONS))
    p.add_argument("--squad", type=Path, default=ROOT.parent / "shared/data/squad2-public.json")
    p.add_argument("--per-article", type=int, default=45, help="questions of each dev article")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="append the JSON line to this file too")
    args = p.parse_args(argv)
    figures = measure(args.name, args.squad, args.per_article, args.seed)
    line = json.dumps(figures)
    print(line)
    if args.out:
        with args.out.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
