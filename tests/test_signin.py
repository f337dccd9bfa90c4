"""A shared web chat over HTTP: the API with and without credentials, limits, lockout, refusal.

Real parts: ``app.py`` in a subprocess with a users file, ``gradio_client`` and httpx
against it on loopback.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import AppServer
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
    (root / "corpus").mkdir()
    shutil.copy2(ROOT / "corpus" / "seres-huawei-aito.txt", root / "corpus")
    users = Users(root / "users.json")
    users.add("rita", "reader passphrase", "reader")
    users.add("lou", "locked passphrase", "reader")
    server = start_app(
        ASSISTANT_CORPUS_DIR=str(root / "corpus"),
        ASSISTANT_INDEX_DIR=str(root / "index"),
        ASSISTANT_USERS_FILE=str(root / "users.json"),
        ASSISTANT_QUESTIONS_PER_MINUTE="3",
    )
    return server, root


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
