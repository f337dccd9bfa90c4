"""How ``bench/bench.py`` measures: child processes, timing, RSS and CPU share, and the
in-process measurements of each system (``worker_ours``, ``worker_plain``).

A ``Run`` is one child process timed to exit and to its first stdout line, with its peak
RSS from ``/usr/bin/time`` (or a ``ru_maxrss`` wrapper where that is missing). The workers
run inside a fresh ``bench/bench.py --worker`` process and return plain dicts. Non-goals:
deciding what to run (``bench.py``) and presenting the figures (``report.py``).
"""

from __future__ import annotations

import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.runner import WARM_UP_QUESTION, percentile
from evals.scoring import Case, citation_supports

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
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


def vm_hwm_mib(pid: int) -> float | None:
    """Peak RSS so far of a running process, from /proc (None where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


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


def cpu_line() -> str:
    """The CPU's model and the vector extensions llama.cpp's speed depends on.

    Example: "Intel(R) Xeon(R) Processor, 2 cores, avx2 avx512f amx_int8"
    """
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name":
                model = value.strip()
            elif name.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    shown = [f for f in ("avx2", "avx512f", "avx512_vnni", "amx_int8") if f in flags]
    return f"{model}, {os.cpu_count()} CPUs, {' '.join(shown) or 'no AVX2'}"
