"""Speed and memory of each answerer: ``fast``, ``auto`` (the default) and ``llm``.

For each: the cold first answer as a fresh ``assistant ask`` process (wall time, peak
RSS), then warm latency in one process (p50, p95, the share read by the language model)
on a seeded sample of the seed article's single-turn questions and of one Wikipedia
article (the first ``test`` article of evals/squad_split.json, its own corpus and index,
when the SQuAD file is beside the clone), and in ``auto`` the seconds of each hostile
input of tests/test_robustness.py. Prints the CPU and a table beside the targets; never
fails on a figure, only on a crash. Writes ``reports/answerers.json``.

    .venv/bin/python bench/answerers.py [--questions 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import ROOT, cpu_line, run_process, vm_hwm_mib
from evals.runner import load_cases

SQUAD = Path(os.environ.get("SQUAD_FILE", ROOT.parent / "shared" / "data" / "squad2-public.json"))
MODES = ("fast", "auto", "llm")
# mode -> corpus ("seed" or "wiki") -> (warm p50 s, warm p95 s); cold first answer s
TARGETS: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "fast": {"seed": (0.060, None), "wiki": (0.060, None)},
    "auto": {"seed": (1.0, 8.0), "wiki": (5.0, None)},
    "llm": {"seed": (6.0, None), "wiki": (6.0, None)},  # a model reading
}
COLD = {"auto": 4.0}
HOSTILE_S = 2.0  # each hostile input, auto, warm


def questions(n: int) -> dict[str, tuple[Path | None, list[str]]]:
    """Corpus name -> (corpus folder or None for the project's, sampled questions)."""
    rng = random.Random(0)
    seed = [c.question for c in load_cases(ROOT / "evals" / "cases.jsonl") if not c.history]
    out: dict[str, tuple[Path | None, list[str]]] = {"seed": (None, rng.sample(seed, n))}
    if SQUAD.is_file():
        from evals.squad import article_text, file_name
        from evals.squad_scoring import load_articles, load_split

        article = load_articles(SQUAD, load_split()["test"][:1])[0]
        folder = Path(tempfile.mkdtemp(prefix="bench-answerers-")) / "corpus"
        folder.mkdir(parents=True)
        (folder / file_name(article["title"])).write_text(
            article_text(article)[0], encoding="utf-8"
        )
        asked = [qa["question"] for p in article["paragraphs"] for qa in p["qas"]]
        out[article["title"]] = (folder, rng.sample(asked, n))
    return out


def warm(mode: str, corpus: str | None, asked: list[str]) -> dict[str, Any]:
    """Warm latency of ``mode`` on ``asked`` (``corpus`` None: the project's corpus/)."""
    from assistant import Settings, ask, build_index

    folder = Path(corpus) if corpus else None
    extra = {"corpus_dir": folder, "index_dir": folder.parent / "index"} if folder else {}
    settings = Settings.from_env(answerer=mode, **extra)
    build_index(settings)
    ask(asked[0], settings=settings)  # loads what this mode needs
    seconds, read = [], 0
    for q in asked:
        began = time.perf_counter()
        a = ask(q, settings=settings)
        seconds.append(time.perf_counter() - began)
        read += a.answered_by == "llm"
    ordered = sorted(seconds)
    out = {
        "p50_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 3),
        "read_by_llm": round(read / len(asked), 3),
        "rss_mib": vm_hwm_mib(os.getpid()),
    }
    if mode == "auto" and folder is None:
        out["hostile_s"] = hostile(settings)
    return out


def hostile(settings: Any) -> dict[str, float]:
    """Seconds of each single-turn hostile input of the robustness tests (an error counts)."""
    from assistant import AssistantError, ask
    from tests.test_robustness import QUESTIONS

    out = {}
    for name, (question, history, _) in QUESTIONS.items():
        if history is not None:
            continue
        began = time.perf_counter()
        with contextlib.suppress(AssistantError):  # a clear error is an outcome too
            ask(question, settings=settings)
        out[name] = round(time.perf_counter() - began, 3)
    return out


def cold(mode: str) -> dict[str, Any]:
    env = {**os.environ, "ASSISTANT_ANSWERER": mode}
    run = run_process(["-m", "assistant", "ask", "Who is the chairman of Seres?"], env)
    run.check(f"cold ask ({mode})")
    return {"wall_s": round(run.wall_s, 2), "rss_mib": run.rss_mib}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=20, help="questions per corpus")
    args = p.parse_args(argv)
    sets = questions(args.questions)
    results: dict[str, Any] = {}
    for mode in MODES:
        results[mode] = {"cold": cold(mode)}
        for name, (corpus, asked) in sets.items():
            # each mode and corpus in a fresh process, so RSS is that mode's alone
            where = str(corpus) if corpus else None
            code = (
                "import json; from bench.answerers import warm; "
                f"print(json.dumps(warm({mode!r}, {where!r}, {asked!r})))"
            )
            run = run_process(["-c", code], {**os.environ, "PYTHONPATH": str(ROOT)}, timeout=1800)
            run.check(f"warm {mode} on {name}")
            results[mode][name] = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{mode:<5} {name:<18} {results[mode][name]}", flush=True)
    print(f"\nCPU: {cpu_line()}")
    print(
        "\n| mode | cold s | cold RSS MiB | corpus | warm p50 s | warm p95 s | read by LLM | RSS MiB | targets (p50 / p95 / cold) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in MODES:
        c = results[mode]["cold"]
        for name in sets:
            w = results[mode][name]
            limits = (*TARGETS[mode]["seed" if name == "seed" else "wiki"], COLD.get(mode))
            target = " / ".join("-" if t is None else f"{t:g}" for t in limits)
            print(
                f"| {mode} | {c['wall_s']} | {c['rss_mib']} | {name} | {w['p50_s']} | "
                f"{w['p95_s']} | {w['read_by_llm']:.0%} | {w['rss_mib']} | {target} |"
            )
    hostile_s = results["auto"]["seed"].get("hostile_s", {})
    print(f"\nhostile inputs, auto, seconds each (target <= {HOSTILE_S:g}): {hostile_s}")
    results["cpu"] = cpu_line()
    out = ROOT / "reports" / "answerers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nreport: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
