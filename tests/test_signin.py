"""A shared web chat over HTTP: the API with and without credentials, limits, lockout, refusal.

Real parts: ``app.py`` in a subprocess with a users file, ``gradio_client`` and httpx
against it on loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import AppServer, signed_in_app
from gradio_client import Client

from assistant.access import LOCK_AFTER
from assistant.users import Users

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How much did Seres lose in 2020?"


@pytest.fixture(scope="module")
def shared(
    start_app: Callable[..., AppServer], tmp_path_factory: pytest.TempPathFactory
) -> tuple[AppServer, Path]:
    root = tmp_path_factory.mktemp("shared")
    accounts = {
        "rita": ("reader passphrase", "reader"),
        "lou": ("locked passphrase", "reader"),
        "ed": ("editor passphrase", "editor"),
    }
    return start_app(**signed_in_app(root, accounts), ASSISTANT_QUESTIONS_PER_MINUTE="3"), root


def test_api__refused_without_credentials_and_answers_a_signed_in_reader(
    shared: tuple[AppServer, Path],
) -> None:
    server, _ = shared
    with pytest.raises(Exception, match="credentials were not provided"):
        Client(server.url, verbose=False)
    with pytest.raises(Exception, match="Could not login"):
        Client(server.url, auth=("rita", "not the passphrase"), verbose=False)
    assert (
        httpx.post(f"{server.url}gradio_api/call/ask", json={"data": [QUESTION]}).status_code == 401
    )
    client = Client(server.url, auth=("rita", "reader passphrase"), verbose=False)
    answers = [client.predict(QUESTION, api_name="/ask")["answer"] for _ in range(3)]
    assert answers == ["1.73 billion yuan"] * 3
    with pytest.raises(Exception, match=r"rita: 3 questions a minute at most; try again in \d+ s"):
        client.predict(QUESTION, api_name="/ask")
    editor = Client(server.url, auth=("ed", "editor passphrase"), verbose=False)
    assert editor.predict(QUESTION, api_name="/ask")["answer"] == "1.73 billion yuan"  # own limit


def test_signin__a_name_is_locked_after_repeated_wrong_passwords(
    shared: tuple[AppServer, Path],
) -> None:
    server, root = shared
    for _ in range(LOCK_AFTER):
        wrong = httpx.post(f"{server.url}login", data={"username": "lou", "password": "guess"})
        assert wrong.status_code == 400
    right = httpx.post(
        f"{server.url}login", data={"username": "lou", "password": "locked passphrase"}
    )
    assert right.status_code == 400  # locked, even with the right password
    results = [line for line in (root / "audit.jsonl").read_text().splitlines() if '"lou"' in line]
    assert len(results) == LOCK_AFTER + 1
    assert all('"wrong password"' in line for line in results[:-1])
    assert '"result": "locked"' in results[-1]


def test_app__refuses_a_non_loopback_address_without_users(
    start_app: Callable[..., AppServer],
) -> None:
    with pytest.raises(RuntimeError, match=r"exited with 2") as refused:
        start_app(GRADIO_SERVER_NAME="0.0.0.0", ASSISTANT_USERS_FILE="")
    assert "refusing to serve on 0.0.0.0 without sign-in: add a user" in str(refused.value)


def test_load__twenty_signed_in_clients_ten_questions_each_no_errors_and_the_limit_holds(
    start_app: Callable[..., AppServer], tmp_path_factory: pytest.TempPathFactory
) -> None:
    import importlib.util
    import sys

    from test_load import LOAD_PY  # the load generator the unsigned load test runs

    root = tmp_path_factory.mktemp("load")
    users = Users(root / "users.json")
    accounts = [(f"user{i}", f"passphrase number {i}") for i in range(20)]
    for name, password in accounts:
        users.add(name, password, "reader")
    server = start_app(
        ASSISTANT_USERS_FILE=str(root / "users.json"), ASSISTANT_QUESTIONS_PER_MINUTE="10"
    )
    spec = importlib.util.spec_from_file_location("bench_load_signed", LOAD_PY)
    assert spec is not None and spec.loader is not None
    load = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = load
    spec.loader.exec_module(load)

    report = load.run(server.url, clients=20, questions=10, timeout=600, accounts=accounts)

    assert len(report.answered) == 200 and not report.errors and not report.mismatches
    extra = Client(server.url, auth=accounts[0], verbose=False)
    with pytest.raises(Exception, match=r"user0: 10 questions a minute at most"):
        extra.predict(QUESTION, api_name="/ask")
