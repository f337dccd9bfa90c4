"""How the assistant's costs grow with the corpus: 1, 10 and 100 documents.

The documents are the 10 public SQuAD 2.0 dev articles (Wikipedia, CC BY-SA 4.0), each
one file of its paragraphs; past 10, copy k of article i has its paragraphs rotated by k
and "(copy k)" in its title, so 100 documents hold about 3.6 MB of text. For each size,
in fresh processes: the full index build (wall time, peak RSS), a cold ``assistant ask``
(wall, peak RSS), then in one process warm ``ask`` latency over questions about the
articles in the corpus and the time to add one more article to the built index. Prints a Markdown table, writes
``reports/scale.json``. Never fails on a figure; only a crash exits non-zero.

    .venv/bin/python bench/scale.py [--sizes 1,10,100] [--questions 40] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import ROOT, run_process

SQUAD = ROOT.parent / "shared" / "data" / "squad2-public.json"
ADD_TARGET_S = 10.0  # adding one article to a 100-document index
WARM_RATIO_TARGET = 2.0  # warm p50 at 100 documents over the 1-document figure


def articles(path: Path) -> list[tuple[str, list[str], list[str]]]:
    """(title, paragraphs, questions) of each article in a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [
        (
            a["title"].replace("_", " "),
            [p["context"].strip() for p in a["paragraphs"]],
            [q["question"] for p in a["paragraphs"] for q in p["qas"]],
        )
        for a in data
    ]


def document(title: str, paragraphs: list[str], copy: int) -> str:
    """One corpus file. Example: ("Force", [a, b, c], 1) -> "# Force (copy 1)\\n\\nb\\n\\nc\\n\\na\\n"."""
    k = copy % len(paragraphs)
    rotated = paragraphs[k:] + paragraphs[:k]
    heading = f"# {title}" + (f" (copy {copy})" if copy else "")
    return "\n\n".join([heading, *rotated]) + "\n"


def make_corpus(folder: Path, size: int, source: list[tuple[str, list[str], list[str]]]) -> int:
    """Write ``size`` documents into ``folder``; returns the bytes written."""
    folder.mkdir(parents=True)
    total = 0
    for i in range(size):
        title, paragraphs, _ = source[i % len(source)]
        text = document(title, paragraphs, i // len(source))
        name = f"{i:03d}-{title.replace(' ', '_')}.md"
        total += (folder / name).write_text(text, encoding="utf-8")
    return total


def sample_questions(source: list[tuple[str, list[str], list[str]]], n: int) -> list[str]:
    """``n`` questions spread evenly over the articles in the corpus (about its documents).

    Example: 2 articles of 100 questions, n=4 -> questions 0 and 50 of each.
    """
    per = max(1, -(-n // len(source)))
    picked = [q for _, _, qs in source for q in qs[:: max(1, len(qs) // per)][:per]]
    return picked[:n]


def worker(root: Path, extra: Path, questions: list[str]) -> dict[str, Any]:
    """In one process: warm ask latency, then the time to add ``extra`` to the index."""
    from assistant import Settings, add_documents, ask

    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    ask(questions[0], settings=settings)  # load the index and the model
    ms = []
    for q in questions:
        start = time.perf_counter()
        ask(q, settings=settings)
        ms.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    add_documents([extra], settings)
    added = time.perf_counter() - start
    ms.sort()
    return {
        "warm_p50_ms": statistics.median(ms),
        "warm_p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
        "add_one_s": added,
    }


def measure(size: int, source: list[Any], questions: list[str], workdir: Path) -> dict[str, Any]:
    root = workdir / f"corpus-{size}"
    chars = make_corpus(root / "corpus", size, source)
    extra = workdir / f"extra-{size}" / "added-article.md"
    extra.parent.mkdir()
    title, paragraphs, _ = source[size % len(source)]
    extra.write_text(document(f"{title} (added)", paragraphs, 7), encoding="utf-8")
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(root / "corpus"),
        "ASSISTANT_INDEX_DIR": str(root / "index"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    build = run_process(["-m", "assistant", "index"], env, timeout=3600).check("index build")
    cold = run_process(["-m", "assistant", "ask", questions[0]], env).check("cold ask")
    code = (
        "import json, sys; from pathlib import Path; from bench.scale import worker; "
        f"print(json.dumps(worker(Path({str(root)!r}), Path({str(extra)!r}), "
        f"{questions!r})))"
    )
    warm = run_process(["-c", code], env, timeout=3600).check("warm worker")
    figures = json.loads(warm.stdout.strip().splitlines()[-1])
    return {
        "documents": size,
        "megabytes": round(chars / 1e6, 2),
        "build_s": round(build.wall_s, 1),
        "build_rss_mib": build.rss_mib,
        "cold_ask_s": round(cold.wall_s, 2),
        "cold_ask_rss_mib": cold.rss_mib,
        **{k: round(v, 2) for k, v in figures.items()},
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| documents | MB | full build s | build peak MiB | add one s | cold ask s "
        "| cold ask MiB | warm p50 ms | warm p95 ms |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    return head + "".join(
        f"| {r['documents']} | {r['megabytes']} | {r['build_s']} | {r['build_rss_mib']:.0f} "
        f"| {r['add_one_s']} | {r['cold_ask_s']} | {r['cold_ask_rss_mib']:.0f} "
        f"| {r['warm_p50_ms']} | {r['warm_p95_ms']} |\n"
        for r in rows
    )


def targets(rows: list[dict[str, Any]]) -> str:
    by_size = {r["documents"]: r for r in rows}
    lines = []
    if 100 in by_size:
        add = by_size[100]["add_one_s"]
        lines.append(f"- add one article to 100 documents: {add} s (target <= {ADD_TARGET_S:g} s)")
    if 1 in by_size and 100 in by_size:
        ratio = by_size[100]["warm_p50_ms"] / by_size[1]["warm_p50_ms"]
        lines.append(
            f"- warm p50 at 100 documents / at 1: {ratio:.2f}x (target <= {WARM_RATIO_TARGET:g}x)"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--questions", type=int, default=40, help="warm questions per size")
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--keep", action="store_true", help="keep the corpora and indexes")
    args = parser.parse_args()
    source = articles(args.squad)
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"measuring {size} documents ...", file=sys.stderr, flush=True)
            questions = sample_questions(source[:size], args.questions)
            rows.append(measure(size, source, questions, workdir))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report = f"{table(rows)}\n{targets(rows)}\n"
    print(report)
    out = ROOT / "reports"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    (out / "scale.md").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
