"""Who may use the web chat and its API: names, roles and argon2 password hashes in one file.

The users file (``ASSISTANT_USERS_FILE``, kept outside the repository) is JSON, written
atomically with mode 0600; a password is never stored, only its argon2id hash:

    {"version": 1, "users": {"ana": {"role": "editor", "hash": "$argon2id$v=19$..."}}}

Roles: ``reader`` asks; ``editor`` also adds and removes documents. Managed from the CLI
(``assistant user add NAME --role editor``). Non-goals: groups, per-document rights,
single sign-on.

    >>> users = Users(Path("~/.config/assistant/users.json").expanduser())
    >>> users.add("ana", "a long passphrase", "editor")
    >>> users.verify("ana", "a long passphrase")
    User(name='ana', role='editor')
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

ROLES = ("reader", "editor")
MIN_PASSWORD = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class User:
    name: str
    role: str  # "reader" | "editor"

    @property
    def can_edit(self) -> bool:
        return self.role == "editor"


class Users:
    """The users file at ``path``; every call reads it afresh (a CLI change shows at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        """Whether sign-in is on: the file exists and names at least one user."""
        return self.path.is_file() and bool(self._read())

    def list(self) -> list[User]:
        """The users, by name."""
        return [User(name, entry["role"]) for name, entry in sorted(self._read().items())]

    def get(self, name: str) -> User | None:
        entry = self._read().get(name)
        return User(name, entry["role"]) if entry else None

    def add(self, name: str, password: str, role: str) -> User:
        """Add ``name`` (or set its password and role). Example: add("ana", "...", "reader")."""
        if not _NAME.match(name):
            raise ConfigError(
                f"{name!r} is not a usable user name: letters, digits and . _ @ -, "
                "at most 64, starting with a letter or digit"
            )
        if role not in ROLES:
            raise ConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise ConfigError(
                f"the password is shorter than {MIN_PASSWORD} characters; choose a longer one"
            )
        users = self._read() if self.path.exists() else {}
        users[name] = {"role": role, "hash": _hasher().hash(password)}
        self._write(users)
        return User(name, role)

    def remove(self, name: str) -> None:
        users = self._read()
        if name not in users:
            raise ConfigError(
                f"no user named {name!r} in {self.path}; `assistant user list` shows them"
            )
        del users[name]
        self._write(users)

    def verify(self, name: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None (as slow for an unknown name)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        entry = self._read().get(name)
        hasher = _hasher()
        try:
            hasher.verify(entry["hash"] if entry else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, entry["role"]) if entry else None

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data: Any = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise self._malformed(str(exc)) from None
        if (
            not isinstance(data, dict)
            or data.get("version") != 1
            or not isinstance(data.get("users"), dict)
        ):
            raise self._malformed('expected {"version": 1, "users": {...}}')
        for name, entry in data["users"].items():
            if not (
                isinstance(entry, dict)
                and entry.get("role") in ROLES
                and str(entry.get("hash", "")).startswith("$argon2")
            ):
                raise self._malformed(
                    f"user {name!r} needs a role ({'/'.join(ROLES)}) and an argon2 hash"
                )
        return data["users"]

    def _malformed(self, why: str) -> ConfigError:
        return ConfigError(
            f"the users file {self.path} can't be used ({why}); fix it, or delete it and add "
            "the users again with `assistant user add`"
        )

    def _write(self, users: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"version": 1, "users": users}, out, indent=1, sort_keys=True)
        os.replace(temporary, self.path)


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's current parameters


# A hash of a random password: verifying against it costs what a real check costs.
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$3RwKAQ1fSxN7Ls5vXVCHlQ$OZ4b95r8/Tn30Hv5Ix6lYdPVhnOINdSYJHpsGBF2ziE"
