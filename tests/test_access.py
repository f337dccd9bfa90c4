"""Sign-in lockout, session expiry, rate limits and the audit log, on a fake clock."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from access_view import Access, is_loopback
from assistant import Settings
from assistant.access import LOCK_AFTER, LOCK_SECONDS, Audit, Gate, Limits, Sessions
from assistant.errors import ConfigError
from assistant.users import Users


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Users:
    users = Users(tmp_path_factory.mktemp("users") / "users.json")
    users.add("ana", "a long passphrase", "editor")
    users.add("rui", "another passphrase", "reader")
    return users


def test_gate__locks_a_name_after_repeated_failures_and_audits_each_try(
    users: Users, tmp_path: Path
) -> None:
    clock, audit = Clock(), Audit(tmp_path / "audit.jsonl")
    gate = Gate(users, audit, clock=clock, delay=0)
    assert gate.check("ana", "a long passphrase")
    for _ in range(LOCK_AFTER):
        assert not gate.check("ana", "wrong")
    assert gate.locked("ana")
    assert not gate.check("ana", "a long passphrase")  # even the right password, while locked
    assert gate.check("rui", "another passphrase")  # other names are not affected
    clock.now += LOCK_SECONDS + 1
    assert gate.check("ana", "a long passphrase")
    results = [(e["user"], e["action"], e["result"]) for e in audit.lines()]
    assert results[0] == ("ana", "sign-in", "ok")
    assert ("ana", "sign-in", "locked") in results
    assert results.count(("ana", "sign-in", "wrong password")) == LOCK_AFTER


def test_sessions__a_token_expires_after_its_lifetime() -> None:
    clock = Clock()
    sessions = Sessions(ttl=60, clock=clock)
    sessions["token"] = "ana"
    assert sessions.get("token") == "ana"
    clock.now += 61
    assert sessions.get("token") is None and "token" not in sessions


def test_limits__questions_and_uploads_are_limited_then_recover() -> None:
    clock = Clock()
    limits = Limits(questions_per_minute=2, uploads_per_hour=3, clock=clock)
    assert limits.question("ana") is None and limits.question("ana") is None
    assert limits.question("ana") == "ana: 2 questions a minute at most; try again in 60 s"
    assert limits.question("rui") is None  # per user
    clock.now += 61
    assert limits.question("ana") is None
    assert limits.upload("ana", 2) is None
    assert limits.upload("ana", 2) == "ana: 3 uploads an hour at most; try again in 3600 s"
    assert limits.upload("ana", 1) is None


def _request(username: str | None, host: str = "10.0.0.7") -> SimpleNamespace:
    return SimpleNamespace(username=username, client=SimpleNamespace(host=host))


def test_access__a_reader_asks_but_never_edits_and_an_editor_does_both(users: Users) -> None:
    settings = Settings.from_env(env={}, users_file=users.path)
    access = Access.for_host(settings, "0.0.0.0")
    assert access.gate is not None and not access.read_only
    assert access.may_ask(_request("rui")) is None
    assert access.may_edit(_request("rui")) == "only an editor can add or remove documents"
    assert not access.can_edit(_request("rui"))
    assert access.may_edit(_request("ana")) is None and access.can_edit(_request("ana"))
    assert access.may_ask(_request(None)) == "sign in first"
    assert access.may_edit(_request("removed-user")) is not None


def test_access__a_non_loopback_address_without_users_is_refused_unless_opened_read_only() -> None:
    with pytest.raises(
        ConfigError, match=r"^refusing to serve on 0\.0\.0\.0 without sign-in: add a user"
    ):
        Access.for_host(Settings.from_env(env={}), "0.0.0.0")
    opened = Access.for_host(Settings.from_env(env={}, open_page=True), "0.0.0.0")
    assert opened.gate is None and opened.read_only
    assert opened.may_edit(_request(None)).startswith("this page is read-only")
    assert opened.who(_request(None)) == "address 10.0.0.7"
    local = Access.for_host(Settings.from_env(env={}), "127.0.0.1")
    assert local.may_edit(_request(None)) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
