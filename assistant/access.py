"""Sign-in checks, rate limits and the audit log of a shared web chat (one process).

``Gate`` wraps ``Users``: a failed sign-in costs a second, and after ``LOCK_AFTER``
failures in a row a name is locked for ``LOCK_SECONDS``; sessions last ``SESSION_SECONDS``.
``Limits`` counts questions per minute and uploads per hour per user (or per address
when the page is open without sign-in) in sliding windows. ``Audit`` appends one JSON
line per sign-in, add and remove. All state but the audit file is in memory, per process.
Non-goals: limits shared by several app processes (put a reverse proxy's in front).

    >>> limits = Limits(questions_per_minute=2)
    >>> [limits.question("ana") for _ in range(3)]
    [None, None, 'ana: 2 questions a minute at most; try again in 60 s']
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.users import User, Users

LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_SECONDS = 300.0
FAILURE_DELAY = 1.0  # seconds a failed sign-in waits before it answers
SESSION_SECONDS = 8 * 3600.0


class Gate:
    """Sign-in for the web chat: ``check(name, password)`` is Gradio's ``auth`` callable."""

    def __init__(
        self,
        users: Users,
        audit: Audit | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        delay: float = FAILURE_DELAY,
    ) -> None:
        self.users, self.audit, self.clock, self.delay = users, audit, clock, delay
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, name: str, password: str) -> bool:
        """True when ``name`` may sign in with ``password``; failures are slowed and counted."""
        with self._lock:
            locked = self._locked_until.get(name, 0.0) > self.clock()
        user = None if locked else self.users.verify(name, password)
        result = "ok" if user else ("locked" if locked else "wrong password")
        if self.audit:
            self.audit.record(name, "sign-in", result=result)
        if user:
            with self._lock:
                self._failures.pop(name, None)
            return True
        with self._lock:
            if not locked:
                self._failures[name] = self._failures.get(name, 0) + 1
                if self._failures[name] >= LOCK_AFTER:
                    self._locked_until[name] = self.clock() + LOCK_SECONDS
                    self._failures[name] = 0
        time.sleep(self.delay)
        return False

    def locked(self, name: str) -> bool:
        with self._lock:
            return self._locked_until.get(name, 0.0) > self.clock()

    def user(self, name: str | None) -> User | None:
        """The signed-in user behind a request's name (None when unknown or removed)."""
        return self.users.get(name) if name else None


class Sessions(dict[str, str]):
    """Gradio's token -> user name table, where a token expires ``ttl`` seconds after sign-in."""

    def __init__(
        self, ttl: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.ttl, self.clock = ttl, clock
        self._born: dict[str, float] = {}

    def __setitem__(self, token: str, name: str) -> None:
        self._born[token] = self.clock()
        super().__setitem__(token, name)

    def get(self, token: Any, default: Any = None) -> Any:
        born = self._born.get(token)
        if born is not None and self.clock() - born > self.ttl:
            self.pop(token, None)
            self._born.pop(token, None)
            return default
        return super().get(token, default)


@dataclass
class Limits:
    """Sliding-window limits per key (a user name, or an address when the page is open)."""

    questions_per_minute: int = 20
    uploads_per_hour: int = 30
    clock: Callable[[], float] = time.monotonic
    _seen: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def question(self, key: str) -> str | None:
        """None when ``key`` may ask now, else the message saying when to retry."""
        return self._take("questions", key, self.questions_per_minute, 60.0, "a minute")

    def upload(self, key: str, files: int = 1) -> str | None:
        """None when ``key`` may add ``files`` now, else the message saying when to retry."""
        return self._take("uploads", key, self.uploads_per_hour, 3600.0, "an hour", files)

    def _take(
        self, kind: str, key: str, limit: int, window: float, per: str, n: int = 1
    ) -> str | None:
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault((kind, key), deque())
            while seen and now - seen[0] >= window:
                seen.popleft()
            if len(seen) + n > limit:
                wait = window - (now - seen[0]) if seen else window
                return f"{key}: {limit} {kind} {per} at most; try again in {max(1, round(wait))} s"
            seen.extend([now] * n)
        return None


class Audit:
    """Append-only JSON lines: time, user, action, document, sha256, result."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(
        self, user: str, action: str, *, document: str = "", sha256: str = "", result: str = "ok"
    ) -> None:
        line = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "user": user,
            "action": action,
            "document": document,
            "sha256": sha256,
            "result": result,
        }
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")

    def lines(self) -> list[dict[str, str]]:
        """Every entry, oldest first (a torn last line, from a crash mid-write, is skipped)."""
        try:
            raw = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in raw:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
