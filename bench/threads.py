"""The language model's reading seconds by how the CPU's threads are shared.

Each configuration runs in a fresh process: seeded questions of the seed cases through
``ask()`` with ``--answerer llm`` (the fast answerer's onnxruntime reader runs first,
then llama.cpp reads), no deadline, and reports the median and 90th percentile of the
reading itself (``Answer.timings["read"]``). Configurations: llama.cpp with one thread
per physical core (the default) or one thread, and onnxruntime's intra-op pool allowed
to spin after each run (onnxruntime's own default) or not (the project's setting).
Prints a markdown table and the CPU; never fails on a figure.

    .venv/bin/python bench/threads.py [--questions 12]   # ~5 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import ROOT, cpu_line, run_process
from evals.runner import load_cases

# (name, llama.cpp threads (0: one per physical core), onnxruntime pool may spin)
CONFIGS = (
    ("default: physical cores, no spinning", 0, False),
    ("onnxruntime spinning", 0, True),
    ("llama.cpp on 1 thread", 1, False),
)

WORKER = """
import json, sys, time
from evals.runner import percentile
spin, threads, asked = json.loads(sys.argv[1])
if spin:  # onnxruntime's default: drop the project's allow_spinning=0 entry
    import onnxruntime
    plain = onnxruntime.SessionOptions.add_session_config_entry
    def keep_spinning(self, key, value):
        if key != "session.intra_op.allow_spinning":
            plain(self, key, value)
    onnxruntime.SessionOptions.add_session_config_entry = keep_spinning
from assistant import Settings, ask
settings = Settings.from_env(answerer="llm", llm_threads=threads, deadline=600.0)
ask(asked[0], settings=settings)  # loads the index and both models
reads, totals = [], []
for q in asked:
    began = time.perf_counter()
    a = ask(q, settings=settings)
    totals.append(time.perf_counter() - began)
    if "read" in a.timings:
        reads.append(a.timings["read"])
def pct(v, q):
    found = percentile(v, q)
    return None if found is None else round(found, 2)
print(json.dumps({"read_p50_s": pct(reads, 50), "read_p90_s": pct(reads, 90),
                  "ask_p50_s": pct(totals, 50), "read": len(reads)}))
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=12)
    args = p.parse_args(argv)
    cases = [c.question for c in load_cases(ROOT / "evals" / "cases.jsonl") if not c.history]
    asked = random.Random(0).sample(cases, args.questions)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    print(f"CPU: {cpu_line()}\n")
    print("| configuration | reading p50 s | reading p90 s | ask p50 s | readings |")
    print("|---|---|---|---|---|")
    for name, threads, spin in CONFIGS:
        run = run_process(["-c", WORKER, json.dumps([spin, threads, asked])], env, timeout=1800)
        run.check(name)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"| {name} | {r['read_p50_s']} | {r['read_p90_s']} | {r['ask_p50_s']} | {r['read']} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
