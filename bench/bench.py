"""Speed, memory and evidence@1 of ``assistant`` beside a plain llama-index pipeline.

One run measures both systems on the eval questions (``evals/cases.jsonl``): cold start
as fresh processes (wall time, peak RSS), warm latency in-process, index build and reuse,
web app start-up, the whole eval suite, and evidence@1. Everything runs against indexes
built into a temporary folder, so the project's ``index/`` is left alone. Prints a
Markdown table and the targets of issue 6, writes ``reports/bench.json`` and
``reports/bench.md``. Non-goals: pass/fail gating (a missed target never fails the run;
only a crash exits non-zero), statistical rigour beyond medians of ``--repeat`` runs.

    .venv/bin/python bench/bench.py [--repeat 3] [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

# Run as a script, so put the project root (evals/, bench/) first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import (
    ROOT,
    TIME,
    Run,
    cpu_seconds,
    free_port,
    median,
    run_process,
    vm_hwm_mib,
    worker_ours,
    worker_plain,
)
from bench.report import markdown, write_reports
from evals.runner import load_cases

BIN = Path(sys.executable).parent
MARK = "@bench "  # prefix of the worker's JSON line on stdout
APP_TIMEOUT = 120.0


# ----------------------------------------------------------------------- sections


class Bench:
    """The measurements of one run, collected section by section into ``results``."""

    def __init__(self, repeat: int, tmp: Path) -> None:
        self.repeat = repeat
        self.tmp = tmp
        self.index_dir = tmp / "index"
        self.plain_dir = tmp / "plain"
        cases = load_cases(ROOT / "evals" / "cases.jsonl")
        self.single = [c for c in cases if not c.history]  # single-turn questions
        self.evidence_cases = [c for c in self.single if c.answerable and c.evidence]
        self.env = {
            **os.environ,
            "ASSISTANT_INDEX_DIR": str(self.index_dir),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "ANONYMIZED_TELEMETRY": "False",
            "PYTHONUNBUFFERED": "1",  # so the first stdout line is timed when printed
        }
        self.results: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self.others: dict[str, float] = {}  # CPUs used by other programs during a section

    def cli(self, *args: str) -> list[str]:
        """``python .venv/bin/assistant *args`` (or ``-m assistant`` without the script)."""
        script = BIN / "assistant"
        return [str(script), *args] if script.exists() else ["-m", "assistant", *args]

    def section(self, name: str, fn: Callable[[], dict[str, Any]]) -> None:
        """Run one section; a crash is recorded and the run goes on."""
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        start, (busy, own) = time.perf_counter(), cpu_seconds()
        try:
            self.results[name] = fn()
        except Exception as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        wall, (busy_end, own_end) = time.perf_counter() - start, cpu_seconds()
        self.others[name] = max(0.0, (busy_end - busy) - (own_end - own)) / wall
        print(f"[bench] {name}: {wall:.1f} s", file=sys.stderr)

    def builds(self) -> dict[str, Any]:
        """Index build from scratch, as processes: ours (with ONNX export) and plain."""
        plain = run_process(["bench/plain.py", "build", str(self.plain_dir)], self.env)
        plain.check("plain build")
        ours = run_process(self.cli("index", "--rebuild"), self.env).check("assistant index")
        return {
            "ours": asdict(ours) | {"stdout": ours.stdout.strip()[-300:], "stderr": ""},
            "plain": asdict(plain) | {"stdout": plain.stdout.strip(), "stderr": ""},
            "plain_chunks": json.loads(plain.stdout.splitlines()[-1])["chunks"],
        }

    def cold(self) -> dict[str, Any]:
        """Fresh ``assistant ask`` vs fresh plain ``query``, interleaved, ``repeat`` times."""
        ours, plain = [], []
        for i in range(self.repeat):
            q = self.evidence_cases[i % len(self.evidence_cases)].question
            ours.append(run_process(self.cli("ask", q), self.env).check("assistant ask"))
            if not ours[-1].stdout.strip():
                raise RuntimeError(f"assistant ask printed nothing for {q!r}")
            args = ["bench/plain.py", "query", str(self.plain_dir), q]
            plain.append(run_process(args, self.env).check("plain query"))
            json.loads(plain[-1].stdout.splitlines()[-1])
        return {name: _cold_summary(runs) for name, runs in (("ours", ours), ("plain", plain))}

    def startup(self) -> dict[str, Any]:
        """``assistant index`` on an unchanged corpus vs a process doing only its imports."""
        current = (self.index_dir / "CURRENT").read_text()
        imports = "import assistant.__main__, assistant.engine, assistant.index, chromadb, numpy"
        runs, bare = [], []
        for _ in range(self.repeat):
            runs.append(run_process(self.cli("index"), self.env).check("assistant index"))
            bare.append(run_process(["-c", imports], self.env).check("imports"))
        reused = (
            all("index ready" in r.stdout and "building" not in r.stderr for r in runs)
            and (self.index_dir / "CURRENT").read_text() == current
        )
        wall, base = median([r.wall_s for r in runs]), median([r.wall_s for r in bare])
        return {
            "wall_s": wall,
            "imports_wall_s": base,
            "over_imports_s": wall - base if wall is not None and base is not None else None,
            "reused_without_embedding": reused,
            "runs": [r.wall_s for r in runs],
            "imports_runs": [r.wall_s for r in bare],
        }

    def worker(self, name: str) -> dict[str, Any]:
        """A fresh process running ``worker_<name>`` over the single-turn questions."""
        args = [str(Path(__file__).resolve()), "--worker", name, "--plain-dir", str(self.plain_dir)]
        run = run_process(args, self.env).check(f"{name} worker")
        line = next(x for x in reversed(run.stdout.splitlines()) if x.startswith(MARK))
        return json.loads(line[len(MARK) :])

    def web_app(self) -> dict[str, Any]:
        """``python app.py`` to its first successful /ask answer, ``repeat`` times."""
        from gradio_client import Client  # imported before any clock starts

        runs = [self._web_app_once(Client, i) for i in range(self.repeat)]
        return {
            "ready_s": median([r["ready_s"] for r in runs]),
            "log_ready_s": median([r["log_ready_s"] for r in runs]),
            "rss_mib": median([r["rss_mib"] for r in runs]),
            "runs": runs,
        }

    def _web_app_once(self, client_cls: Any, i: int) -> dict[str, Any]:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        env = self.env | {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
        question = self.evidence_cases[i % len(self.evidence_cases)].question
        log = self.tmp / f"app-{i}.log"
        with log.open("w") as out:
            started_at, start = time.time(), time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=out
            )
        try:
            answer = None
            while answer is None:
                if time.perf_counter() - start > APP_TIMEOUT:
                    raise RuntimeError(f"no /ask answer within {APP_TIMEOUT:.0f} s")
                if proc.poll() is not None:
                    raise RuntimeError(f"app.py exited {proc.returncode}: {log.read_text()[-800:]}")
                try:
                    urllib.request.urlopen(url, timeout=2).close()
                    answer = client_cls(url, verbose=False).predict(question, [], api_name="/ask")
                except Exception:
                    time.sleep(0.2)
            ready = time.perf_counter() - start
            rss = vm_hwm_mib(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        if not isinstance(answer, dict) or "citations" not in answer:
            raise RuntimeError(f"/ask returned {str(answer)[:200]}")
        return {"ready_s": ready, "rss_mib": rss} | _app_log_times(log, started_at)

    def eval_suite(self) -> dict[str, Any]:
        """``python -m evals --quiet`` as a process; its exit code (thresholds) is recorded."""
        report_dir = self.tmp / "evals"
        run = run_process(["-m", "evals", "--quiet", "--report-dir", str(report_dir)], self.env)
        if run.returncode not in (0, 1):
            run.check("python -m evals")
        summary = json.loads((report_dir / "eval.json").read_text())["summary"]
        cases = json.loads((report_dir / "eval.json").read_text())["cases"]
        return {
            "wall_s": run.wall_s,
            "returncode": run.returncode,
            "rss_mib": run.rss_mib,
            "n_cases": summary["n_cases"],
            "cold_first_call_ms": summary["cold_first_call_ms"],
            "cases_s_total": sum(c["latency_ms"] or 0 for c in cases) / 1000,
            "citation_at_1": summary["citation_at_1"],
        }


def _cold_summary(runs: list[Run]) -> dict[str, Any]:
    return {
        "wall_s": median([r.wall_s for r in runs]),
        "first_output_s": median([r.first_output_s for r in runs]),
        "rss_mib": median([r.rss_mib for r in runs]),
        "runs": [{"wall_s": r.wall_s, "rss_mib": r.rss_mib} for r in runs],
    }


def _app_log_times(log: Path, started_at: float) -> dict[str, float | None]:
    """Seconds from process start to the app's "loaded" and "Ready:" log lines."""
    found: dict[str, float | None] = {"log_loaded_s": None, "log_ready_s": None}
    for line in log.read_text(errors="replace").splitlines():
        key = "log_ready_s" if "Ready: http" in line else None
        key = key or ("log_loaded_s" if "Index and model loaded" in line else None)
        if key:
            try:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except ValueError:
                continue
            found[key] = stamp - started_at
    return found


# ---------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench/bench.py", description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of each cold measurement")
    p.add_argument("--quick", action="store_true", help="one run of each (same as --repeat 1)")
    p.add_argument("--report-dir", type=Path, default=ROOT / "reports", help="output folder")
    p.add_argument("--keep", action="store_true", help="keep the temporary indexes")
    p.add_argument("--worker", choices=("ours", "plain"), help=argparse.SUPPRESS)
    p.add_argument("--plain-dir", type=Path, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit code 1 only if a section crashed."""
    args = _parser().parse_args(argv)
    if args.worker:
        single = [c for c in load_cases(ROOT / "evals" / "cases.jsonl") if not c.history]
        if args.worker == "ours":
            result = worker_ours(single)
        else:
            result = worker_plain(single, args.plain_dir)
        print(MARK + json.dumps(result), flush=True)
        return 0

    repeat = 1 if args.quick else max(1, args.repeat)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    started, clock = datetime.now().isoformat(timespec="seconds"), time.perf_counter()
    load_before = os.getloadavg()[0]
    bench = Bench(repeat, tmp)
    try:
        bench.section("builds", bench.builds)
        bench.section("cold", bench.cold)
        bench.section("startup", bench.startup)
        bench.section("worker_ours", lambda: bench.worker("ours"))
        bench.section("worker_plain", lambda: bench.worker("plain"))
        bench.section("web_app", bench.web_app)
        bench.section("eval_suite", bench.eval_suite)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    meta = {
        "started": started,
        "seconds": time.perf_counter() - clock,
        "repeat": repeat,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "other_cpus_by_section": bench.others,
        "python": sys.version.split()[0],
        "rss_probe": TIME or "ru_maxrss wrapper",
        "tmp": str(tmp) if args.keep else None,
    }
    report = markdown(bench.results, meta, bench.errors)
    print(report)
    json_path, md_path = write_reports(args.report_dir, report, meta, bench.results, bench.errors)
    print(f"reports: {json_path}, {md_path}")
    return 1 if bench.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
