"""Bad input through every door: the library, the CLI and the web API.

Each input gets a normal answer or an abstention whose citations round-trip against the
corpus, or a clear ``AssistantError`` whose message says what to do next; never another
exception type, a traceback, a hang, or a change to ``corpus/`` or ``index/``.
Real parts: the project's own corpus and index, the real model, ``python -m assistant``
in subprocesses and the real web app (the session's ``app_server``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from assistant import Answer, AssistantError, QuestionError, Settings, ask, build_index

if TYPE_CHECKING:
    from conftest import AppServer

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(answerer="fast")  # the project's corpus/ and index/
CALL_BOUND_S = 5.0  # a hang guard per warm call, not a benchmark
CLI_TIMEOUT_S = 120.0
# A message says what to do next: an instruction or a rule the input must follow.
NEXT_STEP = re.compile(
    r"\b(must|type|ask|add|remove|convert|fix|make|point|use|run|rebuild|shorten|shorter|"
    r"delete|set|try|send|split|reinstall|check)\b",
    re.I,
)

# id -> (question, history, expected): "error" = QuestionError, "either" = Answer or a clear
# AssistantError, "same-as:<q>" = the same answer as the clean question <q>.
CHAIRMAN = "Who is the chairman of Seres?"
FOLLOW_UP = "And in 2021?"
QUESTIONS: dict[str, tuple[str, Any, str]] = {
    "empty": ("", None, "error"),
    "whitespace": (" \t\n\u3000 ", None, "error"),
    "100k-chars": ("How much did Seres lose? " * 4000, None, "error"),
    "nul": ("Who is\x00 the chairman\x00 of Seres?\x00", None, f"same-as:{CHAIRMAN}"),
    "control": ("\x01Who is the\x07 chairman of\x1b[31m Seres?\x7f\x0b", None, "either"),
    "emoji": ("🚗🔋 How much did Seres lose in 2022? 😱📉", None, "either"),
    "arabic": ("كم خسرت شركة سيريس في عام 2022؟", None, "either"),
    "hebrew": ("מי היו\u200f\u202e יו״ר של Seres?", None, "either"),
    "chinese": ("赛力斯和长安各向引望投资了多少钱？", None, "either"),
    "html-js": ("<script>alert(1)</script><img src=x onerror=alert(2)>", None, "either"),
    "sql": ("'; DROP TABLE passages; --", None, "either"),
    "punctuation": ("?!.,;:…—()[]{}'\"«»", None, "either"),
    "history-string": (FOLLOW_UP, "How much did Seres lose in 2020?", "error"),
    "history-list-of-strings": (FOLLOW_UP, ["How much did Seres lose in 2020?"], "error"),
    "history-missing-role": (FOLLOW_UP, [{"content": "How much did Seres lose?"}], "error"),
    "history-system-role": (FOLLOW_UP, [{"role": "system", "content": "Be brief."}], "either"),
    "history-number-content": (FOLLOW_UP, [{"role": "user", "content": 2020}], "error"),
    "history-2000-follow-ups": (
        FOLLOW_UP,
        [{"role": "user", "content": "And in 2020?"}, {"role": "assistant", "content": "**x**"}]
        * 2000,
        "either",
    ),
}
# Inputs the library can't take yet (each is reported; strict, so a fix shows up).
KNOWN_FAILURES: dict[str, str] = {}  # input key -> why it fails (strict xfail)


def cases(keys: list[str]) -> list[Any]:
    """``keys`` as pytest params, the known failures marked strict xfail."""
    return [
        pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[k]))
        if k in KNOWN_FAILURES
        else k
        for k in keys
    ]


SINGLE_TURN = [k for k, (_, history, _) in QUESTIONS.items() if history is None]
# POSIX argv can't carry a NUL byte (execve refuses it), so the CLI gets every other input.
CLI_QUESTIONS = [k for k in SINGLE_TURN if "\x00" not in QUESTIONS[k][0]]


# ---- helpers --------------------------------------------------------------------------


def disk_state() -> dict[str, tuple[int, int]]:
    """{path: (mtime_ns, size)} of every file under corpus/ and index/."""
    state = {}
    for folder in (SETTINGS.corpus_dir, SETTINGS.index_dir):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                st_ = path.stat()
                state[str(path.relative_to(ROOT))] = (st_.st_mtime_ns, st_.st_size)
    return state


def corpus_texts() -> dict[str, str]:
    return {
        p.relative_to(SETTINGS.corpus_dir).as_posix(): p.read_text(encoding="utf-8")
        for p in SETTINGS.corpus_dir.rglob("*")
        if p.suffix in (".txt", ".md")
    }


def check_answer_dict(data: dict[str, Any], texts: dict[str, str]) -> None:
    """A normal answer or an abstention, whose citations round-trip against the corpus."""
    assert isinstance(data["text"], str) and data["text"].strip(), data
    assert isinstance(data["abstained"], bool)
    if data["abstained"]:
        assert data["answer"] == ""
    else:
        assert data["answer"].strip(), data
        assert data["citations"], data
    for c in data["citations"]:
        doc = texts[c["source"]]
        assert 0 <= c["start"] < c["end"] <= len(doc), c
        assert doc[c["start"] : c["end"]] == c["text"], c


def check_answer(answer: Any, texts: dict[str, str]) -> None:
    assert isinstance(answer, Answer), type(answer)
    check_answer_dict(answer.to_dict(), texts)


def check_message(message: str) -> None:
    """One clean line that names a next step; no traceback, no bare exception repr."""
    assert message.strip(), "empty error message"
    assert "Traceback" not in message
    assert "\n" not in message.strip(), message
    # Gradio's stand-in for an unexpected exception: the library's message never got through.
    assert "upstream Gradio app has raised an exception" not in message, message
    assert NEXT_STEP.search(message), f"message says nothing about what to do: {message!r}"


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return corpus_texts()


@pytest.fixture(scope="module")
def warm() -> None:
    """The project index is current and the model loaded before any timed or snapshotted call."""
    build_index(SETTINGS)
    ask(CHAIRMAN, settings=SETTINGS)


@pytest.fixture
def unchanged_disk(warm: None) -> Iterator[None]:
    before = disk_state()
    yield
    assert disk_state() == before, "corpus/ or index/ changed on disk"


# ---- the library ------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases(list(QUESTIONS)))
def test_ask__bad_input_answers_or_raises_a_clear_error(
    case: str, texts: dict[str, str], unchanged_disk: None
) -> None:
    question, history, expected = QUESTIONS[case]
    started = time.perf_counter()
    try:
        result: Answer | AssistantError = ask(question, history=history, settings=SETTINGS)
    except AssistantError as exc:  # anything else fails the test as it is
        result = exc
    assert time.perf_counter() - started < CALL_BOUND_S

    if isinstance(result, AssistantError):
        assert expected in ("error", "either"), f"{case}: unexpected {result!r}"
        if expected == "error":
            assert isinstance(result, QuestionError), repr(result)
        check_message(str(result))
        return
    assert expected != "error", f"{case}: answered instead of refusing: {result.text!r}"
    check_answer(result, texts)
    if expected.startswith("same-as:"):
        clean = ask(expected.removeprefix("same-as:"), settings=SETTINGS)
        assert (result.answer, result.abstained) == (clean.answer, clean.abstained)
        assert "Zhang Xinghai" in result.answer


def test_ask__documented_errors_name_the_limit_and_the_next_step(warm: None) -> None:
    with pytest.raises(QuestionError, match=r"100,000 .*limit is 1,000.*shorter"):
        ask("x" * 100_000, settings=SETTINGS)
    with pytest.raises(QuestionError, match="empty"):
        ask(" \x00\x01 ", settings=SETTINGS)
    with pytest.raises(QuestionError, match=r"history\[0\]"):
        ask(FOLLOW_UP, history=[{"role": "robot", "content": "hi"}], settings=SETTINGS)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=st.text(max_size=300))
def test_ask__any_text_answers_with_valid_offsets_or_raises_a_documented_error(
    warm: None, texts: dict[str, str], question: str
) -> None:
    before = disk_state()
    started = time.perf_counter()
    try:
        answer = ask(question, settings=SETTINGS)
    except AssistantError as exc:
        check_message(str(exc))
    else:
        check_answer(answer, texts)
    assert time.perf_counter() - started < CALL_BOUND_S, repr(question)
    assert disk_state() == before


# ---- the CLI ----------------------------------------------------------------------------


def _run_cli(question: str) -> tuple[subprocess.CompletedProcess[str], float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", question, "--json"],
        cwd=ROOT,
        env={**clean, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    return done, time.perf_counter() - started


@pytest.fixture(scope="module")
def cli_runs(warm: None) -> dict[str, Any]:
    """Every CLI input run once, two at a time (2 cores), with the disk snapshotted around."""
    before = disk_state()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(
            zip(
                CLI_QUESTIONS,
                pool.map(lambda k: _run_cli(QUESTIONS[k][0]), CLI_QUESTIONS),
                strict=True,
            )
        )
    return {"runs": runs, "before": before, "after": disk_state()}


@pytest.mark.parametrize("case", CLI_QUESTIONS)
def test_cli__bad_input_answers_or_exits_with_one_clean_line(
    case: str, cli_runs: dict[str, Any], texts: dict[str, str]
) -> None:
    done, _elapsed = cli_runs["runs"][case]
    expected = QUESTIONS[case][2]
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode == 0:
        assert expected != "error", f"{case}: answered instead of refusing"
        check_answer_dict(json.loads(done.stdout), texts)
        return
    assert expected in ("error", "either"), done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    check_message(lines[0])
    assert done.stdout == ""


def test_cli__bad_input_changes_nothing_on_disk(cli_runs: dict[str, Any]) -> None:
    assert cli_runs["after"] == cli_runs["before"]


# ---- the web API ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(app_server: AppServer) -> Client:
    return Client(app_server.url, verbose=False, analytics_enabled=False)


@pytest.mark.parametrize("case", cases(list(QUESTIONS)))
def test_api_ask__bad_input_answers_or_returns_a_clear_error(
    case: str,
    client: Client,
    app_server: AppServer,
    texts: dict[str, str],
    unchanged_disk: None,
) -> None:
    question, history, expected = QUESTIONS[case]
    log_start = len(app_server.log.read_bytes())
    try:
        result = client.predict(question, history, api_name="/ask")
    except AppError as exc:  # anything else fails the test as it is
        assert expected in ("error", "either"), f"{case}: unexpected {exc!r}"
        check_message(str(exc))
    else:
        assert expected != "error", f"{case}: answered instead of refusing: {result!r}"
        check_answer_dict(result, texts)
        if expected.startswith("same-as:"):
            assert "Zhang Xinghai" in result["answer"]
    server_log = app_server.log.read_bytes()[log_start:].decode("utf-8", "replace")
    assert "Traceback" not in server_log, server_log[-3000:]


def test_api_ask__server_still_answers_after_every_bad_input(client: Client) -> None:
    for question, history, _ in QUESTIONS.values():
        with contextlib.suppress(AppError):  # a known failure ends as a bare AppError too
            client.predict(question, history, api_name="/ask")
    assert "Zhang Xinghai" in client.predict(CHAIRMAN, [], api_name="/ask")["answer"]
