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
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# Run as a script, so put the project root (evals/, bench/plain.py) first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evals.runner import WARM_UP_QUESTION, load_cases, percentile
from evals.scoring import Case, citation_supports

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
MARK = "@bench "  # prefix of the worker's JSON line on stdout
APP_TIMEOUT = 120.0
# Fallback peak-RSS probe when /usr/bin/time is missing: run the command in-process, then
# report ru_maxrss (KiB on Linux). argv: "-c code" | "-m module args" | "script args".
RSS_WRAPPER = """
import resource, runpy, sys
args = sys.argv[1:]
try:
    if args[0] == "-c":
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<string>", "exec"), {"__name__": "__main__"})
    elif args[0] == "-m":
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")
finally:
    print(f"@maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


@dataclass
class Run:
    """One child process: wall time to exit, to its first stdout line, and peak RSS."""

    wall_s: float
    first_output_s: float | None
    rss_mib: float | None
    returncode: int
    stdout: str
    stderr: str

    def check(self, what: str) -> Run:
        """Raise with the stderr tail when the process failed."""
        if self.returncode != 0:
            raise RuntimeError(f"{what} exited {self.returncode}: {self.stderr[-1500:]}")
        return self


def run_process(args: Sequence[str], env: dict[str, str], timeout: float = 600.0) -> Run:
    """Run ``python *args`` in ROOT and time it. Example: ["-m", "evals", "--quiet"]."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        rss_file, err_file = Path(tmp) / "rss", Path(tmp) / "stderr"
        if TIME:
            cmd = [TIME, "-f", "%M", "-o", str(rss_file), sys.executable, *args]
        else:
            cmd = [sys.executable, "-c", RSS_WRAPPER, *args]
        with err_file.open("w") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True
            )
            assert proc.stdout is not None
            first = proc.stdout.readline()
            first_s = time.perf_counter() - start if first else None
            try:
                rest, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise RuntimeError(
                    f"{' '.join(args)[:80]} timed out after {timeout:.0f} s"
                ) from None
            wall = time.perf_counter() - start
        stderr = err_file.read_text(errors="replace")
        if TIME:
            probe = rss_file.read_text().split() if rss_file.exists() else []
        else:
            probe = [x.split()[-1] for x in stderr.splitlines() if x.startswith("@maxrss ")]
    rss = int(probe[-1]) / 1024 if probe and probe[-1].isdigit() else None
    return Run(wall, first_s, rss, proc.returncode, first + rest, stderr)


def median(values: Sequence[float | None]) -> float | None:
    """Median of the measured values (None ignored); None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def supports(evidence: str | tuple[str, ...] | None, text: str) -> bool:
    """Whether ``text`` holds the evidence (or one of its alternatives)."""
    alternatives = [evidence] if isinstance(evidence, str) else list(evidence or ())
    return any(citation_supports(e, text) for e in alternatives)


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_self() -> float:
    """This process's peak RSS in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds used by us and our children).

    Their difference over a section is what other programs took from the benchmark.
    """
    own = sum(
        u.ru_utime + u.ru_stime
        for u in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return own, own  # no /proc: assume nothing else ran
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK"), own


# ---------------------------------------------------------------- in-process workers


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1000


def _latency_summary(ms: list[float]) -> dict[str, Any]:
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95)}


def worker_ours(cases: list[Case]) -> dict[str, Any]:
    """In a fresh process: open_index on an unchanged corpus, then warm ``ask`` latency."""
    start = time.perf_counter()
    import chromadb  # noqa: F401  (imported up front so open_index is timed over imports)
    import numpy  # noqa: F401

    import assistant
    from assistant.index import open_index

    imports_ms = (time.perf_counter() - start) * 1000
    settings = assistant.Settings.from_env()
    data, open_first_ms = _timed(lambda: open_index(settings))
    heavy = sorted({"torch", "sentence_transformers"} & sys.modules.keys())
    reopen_ms = [_timed(lambda: open_index(settings))[1] for _ in range(5)]
    _, first_ask_ms = _timed(lambda: assistant.ask(WARM_UP_QUESTION, settings=settings))
    latencies, hits, lengths, errors = [], [], [], 0
    for case in cases:
        try:
            answer, ms = _timed(lambda c=case: assistant.ask(c.question, settings=settings))
        except assistant.AssistantError:
            errors += 1
            continue
        latencies.append(ms)
        first = answer.citations[0].text if answer.citations else ""
        lengths.append(len(first))
        if case.answerable and case.evidence:
            hits.append(supports(case.evidence, first))
    return {
        "imports_ms": imports_ms,
        "open_index_first_ms": open_first_ms,
        "open_index_again_ms": median(reopen_ms),
        "passages": len(data.passages),
        "heavy_modules_after_open": heavy,
        "first_ask_ms": first_ask_ms,
        "torch_loaded_by_ask": "torch" in sys.modules,
        "warm": _latency_summary(latencies),
        "errors": errors,
        "evidence_at_1": sum(hits) / len(hits) if hits else None,
        "evidence_n": len(hits),
        "top1_chars_mean": statistics.fmean(lengths) if lengths else None,
        "peak_rss_mib": peak_rss_self(),
    }


def worker_plain(cases: list[Case], store_dir: Path) -> dict[str, Any]:
    """In a fresh process: load the plain pipeline, then warm ``retrieve`` latency."""
    start = time.perf_counter()
    from bench import plain

    imports_ms = (time.perf_counter() - start) * 1000
    retriever, load_ms = _timed(lambda: plain.load(store_dir))
    _, first_ms = _timed(lambda: plain.top1(retriever, WARM_UP_QUESTION))
    latencies, hits, lengths = [], [], []
    for case in cases:
        hit, ms = _timed(lambda c=case: plain.top1(retriever, c.question))
        latencies.append(ms)
        text = hit.node.get_content() if hit is not None else ""
        lengths.append(len(text))
        if case.answerable and case.evidence:
            hits.append(supports(case.evidence, text))
    import torch

    # torch's default thread pool degrades badly when other programs share the CPUs; a
    # second pass on one thread shows the baseline at its best.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    one_thread = [_timed(lambda c=c: plain.top1(retriever, c.question))[1] for c in cases]
    return {
        "imports_ms": imports_ms,
        "load_ms": load_ms,
        "first_retrieve_ms": first_ms,
        "torch_threads": threads,
        "warm": _latency_summary(latencies),
        "warm_1_thread": _latency_summary(one_thread),
        "evidence_at_1": sum(hits) / len(hits) if hits else None,
        "evidence_n": len(hits),
        "top1_chars_mean": statistics.fmean(lengths) if lengths else None,
        "peak_rss_mib": peak_rss_self(),
    }


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
            rss = _vm_hwm_mib(proc.pid)
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


def _vm_hwm_mib(pid: int) -> float | None:
    """Peak RSS so far of a running process, from /proc (None where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


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


# ----------------------------------------------------------------------- reporting

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
        ("web app ready < 8 s", _fmt(app, "s"), met(app, lambda v: v < 8)),
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
    args.report_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "results": bench.results,
        "targets": [{"target": t, "measured": v, "met": ok} for t, v, ok in targets(bench.results)],
        "errors": bench.errors,
    }
    (args.report_dir / "bench.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.report_dir / "bench.md").write_text(report)
    print(f"reports: {args.report_dir / 'bench.json'}, {args.report_dir / 'bench.md'}")
    return 1 if bench.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
