"""The users file: argon2 hashes only, roles, clear errors, the CLI that manages it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.users import User, Users

ROOT = Path(__file__).resolve().parent.parent


def test_users__add_verify_list_remove(tmp_path: Path) -> None:
    users = Users(tmp_path / "users.json")
    assert not users.exists()
    users.add("ana", "a long passphrase", "editor")
    users.add("rui", "another passphrase", "reader")
    assert users.exists()
    assert users.verify("ana", "a long passphrase") == User("ana", "editor")
    assert users.verify("ana", "a long passphrasE") is None
    assert users.verify("nobody", "a long passphrase") is None
    assert [u.name for u in users.list()] == ["ana", "rui"]
    users.remove("rui")
    assert users.get("rui") is None
    with pytest.raises(ConfigError, match=r"^no user named 'rui'"):
        users.remove("rui")


def test_users__the_file_holds_argon2_hashes_never_passwords_and_only_its_owner_reads_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.json"
    Users(path).add("ana", "a long passphrase", "editor")
    text = path.read_text()
    assert "a long passphrase" not in text
    assert json.loads(text)["users"]["ana"]["hash"].startswith("$argon2id$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("ana", "short", "editor", r"shorter than 10 characters"),
        ("../ana", "a long passphrase", "editor", r"not a usable user name"),
        ("ana", "a long passphrase", "admin", r"role 'admin' is not one of reader, editor"),
    ],
)
def test_users__refuses_bad_names_roles_and_short_passwords(
    tmp_path: Path, name: str, password: str, role: str, message: str
) -> None:
    users = Users(tmp_path / "users.json")
    with pytest.raises(ConfigError, match=message):
        users.add(name, password, role)
    assert not (tmp_path / "users.json").exists()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"version": 1, "users": {"ana": {"role": "editor", "hash": "plain-password"}}}',
        '{"version": 1, "users": {"ana": {"role": "root", "hash": "$argon2id$x"}}}',
        "[]",
    ],
)
def test_users__a_malformed_file_is_one_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=rf"^the users file {path} can't be used \(.*\); fix it"):
        Users(path).verify("ana", "a long passphrase")


def _cli(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli__user_add_reads_the_password_from_stdin_and_audit_prints_the_log(
    tmp_path: Path,
) -> None:
    env = {"ASSISTANT_USERS_FILE": str(tmp_path / "users.json")}
    added = _cli("user", "add", "ana", "--role", "editor", stdin="a long passphrase\n", **env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("ana can sign in as editor")
    assert Users(tmp_path / "users.json").verify("ana", "a long passphrase")
    assert _cli("user", "list", **env).stdout == "ana\teditor\n"
    short = _cli("user", "add", "rui", stdin="short\n", **env)
    assert short.returncode == 1 and "shorter than 10 characters" in short.stderr
    assert _cli("user", "remove", "ana", **env).returncode == 0
    assert _cli("user", "list", **env).stdout == ""
    (tmp_path / "audit.jsonl").write_text(
        '{"time": "t", "user": "ana", "action": "add", "document": "a.pdf", "sha256": "ab", '
        '"result": "added"}\n{"torn li'
    )
    assert _cli("audit", **env).stdout == "t\tana\tadd\ta.pdf\tab\tadded\n"
    unset = _cli("user", "list")
    assert unset.returncode == 1 and "set ASSISTANT_USERS_FILE" in unset.stderr
