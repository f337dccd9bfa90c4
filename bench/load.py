"""Load test for the running web chat: N concurrent ``gradio_client`` clients on ``/ask``.

Each client (a thread with its own ``Client``) asks M questions taken round-robin from the
answerable single-turn cases of ``evals/cases.jsonl``. Every reply must equal what a
direct in-process ``ask()`` returns for the same question (answer, abstention and cited
spans), computed first; agreement with the gold answers (``evals.scoring.answer_correct``)
is printed for information only, since the answerer is not 100% accurate.

    .venv/bin/python app.py &                      # or `make run`
    .venv/bin/python bench/load.py --clients 20 --questions 10

Prints throughput, p50/p95/max latency, errors and mismatches; exits 1 on any error or
mismatch. Loopback only; the request count and the total duration are both bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evals.scoring import Case, answer_correct  # noqa: E402

CASES_FILE = ROOT / "evals" / "cases.jsonl"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_CLIENTS = 64
MAX_QUESTIONS = 100  # per client


@dataclass
class Result:
    """One request: which case, how long it took, and what went wrong (if anything)."""

    client: int
    case: Case
    seconds: float
    reply: dict[str, Any] | None = None
    error: str | None = None
    mismatch: str | None = None


@dataclass
class Report:
    """Everything a run measured; ``ok`` when no request failed or disagreed."""

    url: str
    clients: int
    questions: int
    wall_seconds: float
    results: list[Result] = field(default_factory=list)
    not_run: int = 0  # requests skipped because the total timeout ran out

    @property
    def errors(self) -> list[Result]:
        return [r for r in self.results if r.error]

    @property
    def mismatches(self) -> list[Result]:
        return [r for r in self.results if r.mismatch]

    @property
    def answered(self) -> list[Result]:
        return [r for r in self.results if r.reply is not None]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.mismatches and not self.not_run

    def latency(self, q: float) -> float:
        """Nearest-rank percentile of answered requests. Example: q=0.5 -> the median."""
        times = sorted(r.seconds for r in self.answered)
        if not times:
            return math.nan
        return times[min(len(times) - 1, max(0, math.ceil(q * len(times)) - 1))]


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """Answerable cases with a single-turn question, in file order."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = Case.from_dict(json.loads(line))
            if case.answerable and not case.history:
                cases.append(case)
    return cases


def plan(cases: list[Case], clients: int, questions: int) -> list[list[Case]]:
    """Round-robin: request k (client i, turn j, k = i*questions + j) asks cases[k % n]."""
    return [
        [cases[(i * questions + j) % len(cases)] for j in range(questions)] for i in range(clients)
    ]


def signature(reply: dict[str, Any]) -> tuple[Any, ...]:
    """What must agree between the app and in-process ``ask``: answer, abstention, spans."""
    spans = tuple((c["source"], c["start"], c["end"]) for c in reply.get("citations", []))
    return (reply.get("answer"), reply.get("abstained"), spans)


def expected_replies(questions: set[str]) -> dict[str, dict[str, Any]]:
    """The in-process answers, with the same settings the app reads (ASSISTANT_* variables)."""
    from assistant import Settings, ask

    settings = Settings.from_env()
    return {q: ask(q, settings=settings).to_dict() for q in sorted(questions)}


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"refusing {url}: this load generator only talks to loopback hosts")


def run(
    url: str,
    clients: int,
    questions: int,
    timeout: float,
    accounts: list[tuple[str, str]] | None = None,
) -> Report:
    """Run the load: ``clients`` threads x ``questions`` requests, within ``timeout`` seconds.

    ``accounts``: (name, password) to sign in with when the app has sign-in on; client i
    signs in as ``accounts[i % len(accounts)]``.
    """
    from gradio_client import Client

    check_loopback(url)
    work = plan(load_cases(), clients, questions)
    expected = expected_replies({c.question for cases in work for c in cases})
    deadline = time.monotonic() + timeout
    results: list[Result] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def client_thread(i: int) -> None:
        try:
            auth = accounts[i % len(accounts)] if accounts else None
            client: Any = Client(url, auth=auth, verbose=False, analytics_enabled=False)
        except Exception as exc:  # the app is down or not a gradio app: count, don't crash
            client = exc
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(timeout=max(1.0, deadline - time.monotonic()))
        for case in work[i]:
            if time.monotonic() >= deadline:
                break
            result = Result(i, case, 0.0)
            started = time.perf_counter()
            try:
                if isinstance(client, Exception):
                    raise client
                result.reply = client.predict(case.question, [], api_name="/ask")
            except Exception as exc:
                result.error = f"{type(exc).__name__}: {exc}"[:300]
            result.seconds = time.perf_counter() - started
            if result.reply is not None:
                want = expected[case.question]
                if signature(result.reply) != signature(want):
                    result.mismatch = (
                        f"app {result.reply.get('answer')!r} != in-process {want['answer']!r}"
                    )
            with lock:
                results.append(result)

    threads = [
        threading.Thread(target=client_thread, args=(i,), daemon=True, name=f"load-{i}")
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait(timeout=max(1.0, deadline - time.monotonic()))
    started = time.perf_counter()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    wall = time.perf_counter() - started
    with lock:
        done = list(results)
    return Report(url, clients, questions, wall, done, clients * questions - len(done))


def print_report(report: Report) -> None:
    answered = report.answered
    total = report.clients * report.questions
    distinct = len({r.case.question for r in report.results})
    try:
        correct = sum(
            answer_correct(r.case, r.reply["answer"], r.reply["abstained"])
            for r in answered
            if r.reply is not None
        )
        gold = f"{correct}/{len(answered)}"
    except Exception as exc:  # informational only: a scorer bug must not hide the figures
        gold = f"unavailable ({type(exc).__name__}: {exc})"
    rate = len(answered) / report.wall_seconds if report.wall_seconds > 0 else 0.0
    print(
        f"load: {report.clients} clients x {report.questions} questions = {total} requests "
        f"({distinct} distinct) against {report.url}"
    )
    print(f"answers: {len(answered)} in {report.wall_seconds:.1f} s = {rate:.2f} answers/s")
    print(
        f"latency: p50 {report.latency(0.5):.3f} s, p95 {report.latency(0.95):.3f} s, "
        f"max {report.latency(1.0):.3f} s"
    )
    print(
        f"errors: {len(report.errors)}, mismatches: {len(report.mismatches)}, "
        f"not run (timeout): {report.not_run}; "
        f"gold-correct (info): {gold}"
    )
    for r in [*report.errors, *report.mismatches][:10]:
        print(f"  client {r.client} {r.case.id}: {r.error or r.mismatch}")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the load, print the figures; 1 on any error or mismatch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/", help="the running app")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--questions", type=int, default=3, help="questions per client")
    parser.add_argument("--timeout", type=float, default=300.0, help="total seconds")
    parser.add_argument(
        "--accounts",
        type=Path,
        metavar="FILE",
        help="lines of NAME:PASSWORD to sign in with (one per client, reused round-robin)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.questions <= MAX_QUESTIONS:
        parser.error(f"--clients 1..{MAX_CLIENTS}, --questions 1..{MAX_QUESTIONS}")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    accounts = None
    if args.accounts:
        lines = args.accounts.read_text(encoding="utf-8").splitlines()
        accounts = [tuple(line.split(":", 1)) for line in lines if ":" in line]
    report = run(args.url, args.clients, args.questions, args.timeout, accounts)  # type: ignore[arg-type]
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
