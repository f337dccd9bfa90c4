"""The reader's reading plans side by side: answer F1 against seconds per question.

Each plan (the reader model, 1.5b or 0.5b; what it reads, ``--read`` windows or
sentences; how many, 1 to 3) runs the same seeded questions of the dev articles of
evals/squad_split.json (SQuAD 2.0 dev set, Rajpurkar, Jia & Liang 2018, CC BY-SA 4.0)
through ``ask()`` with the language model reading every question (``--answerer llm``),
no deadline, each plan in a process of its own. Nothing is cached: the seconds are the
readings'. Prints a markdown table: F1, answerable F1, unanswerable abstained, p50 and
p95 seconds, F1 per second.

    .venv/bin/python -m evals.plans [--per-article 25] [--seed 7] [--read windows,sentences]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "data" / "squad2-public.json"
MODELS = ("1.5b", "0.5b")
WINDOWS = (1, 2, 3)
READS = ("windows",)  # or "sentences": the same sentences without their neighbours


def run_plan(model: str, read: str, windows: int, args: argparse.Namespace, out: Path) -> dict:
    """The eval's summary for one plan (its own process: the model and settings fresh)."""
    dev = json.loads((ROOT / "evals" / "squad_split.json").read_text(encoding="utf-8"))["dev"]
    env = {
        **os.environ,
        "ASSISTANT_READER_MODEL": model,
        "ASSISTANT_LLM_READ": read,
        "ASSISTANT_LLM_PIECES": str(windows),
        "ASSISTANT_DEADLINE": "600",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    report = out / f"{model}-{read}-{windows}"
    cmd = [
        sys.executable, "-m", "evals", "--quiet", "--squad", str(args.squad),
        "--articles", ",".join(dev), "--per-article", str(args.per_article),
        "--seed", str(args.seed), "--answerer", args.answerer, "--report-dir", str(report),
    ]  # fmt: skip
    subprocess.run(cmd, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return json.loads((report / "squad.json").read_text(encoding="utf-8"))["summary"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.plans", description=__doc__.splitlines()[0])
    p.add_argument("--squad", type=Path, default=SQUAD)
    p.add_argument("--per-article", type=int, default=25)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--answerer", default="llm", choices=("llm", "auto"))
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--windows", default=",".join(map(str, WINDOWS)))
    p.add_argument("--read", default=",".join(READS), help="windows,sentences")
    args = p.parse_args(argv)
    print("| model | reads | pieces | questions | F1 | answerable F1 | unanswerable abstained "
          "| p50 s | p95 s | F1 per p50 s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        plans = [
            (model, read, n)
            for model in args.models.split(",")
            for read in args.read.split(",")
            for n in map(int, args.windows.split(","))
        ]
        for model, read, windows in plans:
            s = run_plan(model, read, windows, args, Path(tmp))
            p50, p95 = s["latency_p50_ms"] / 1000, s["latency_p95_ms"] / 1000
            print(
                f"| {model} | {read} | {windows} | {s['questions']} | {s['f1']:.1f} | "
                f"{s['answerable_f1']:.1f} | {s['unanswerable_abstained']:.1f} | "
                f"{p50:.2f} | {p95:.2f} | {s['f1'] / max(p50, 0.01):.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
