"""A disk cache of the language model's replies, so that evals and training never read twice.

A greedy reply depends only on the model file, the prompt and the token limit, so one
read is kept in an SQLite file (``Settings.readings_file``, ``ASSISTANT_READINGS_FILE``;
off unless set) under the sha256 of the model's identity (the GGUF file's sha256, or a
server's URL and model name), the chat messages, the limit and ``FORMAT``. Refitting
the decider or running an eval again then costs no reading; a stopped run resumes where
it stopped. A reading cut by its deadline is not a reply and is not kept. A damaged
file is set aside (``<name>.damaged``) and a new one started: the cache only saves time.
Non-goals: caching for the web chat (each question there is new); expiry.

    chat = CachedChat(LocalChat(llama, "model.gguf"), Path(".cache/readings.sqlite"), sha)
    chat.complete(messages, 48, 8.0)  # read once; the same call again is a lookup
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from assistant.llm_reader import Chat, Completion

log = logging.getLogger(__name__)
T = TypeVar("T")
FORMAT = "reply-1"  # bumped when what a Completion holds, or how it is read, changes


def key(model: str, messages: list[dict[str, str]], max_tokens: int) -> str:
    """The cache key of one reply. Example: key("sha", [{"role": "user", ...}], 48) -> hex."""
    raw = json.dumps([FORMAT, model, messages, max_tokens], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class CachedChat:
    """A ``Chat`` whose replies are kept on disk; the same call again is a lookup."""

    def __init__(self, chat: Chat, path: Path, model: str) -> None:
        self.chat, self.path, self.model = chat, path, model
        self.name = chat.name
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, timeout: float
    ) -> Completion:
        k = key(self.model, messages, max_tokens)
        found = self._get(k)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        done = self.chat.complete(messages, max_tokens, timeout)  # Overtime: nothing kept
        self._put(k, done)
        return done

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            db.execute("CREATE TABLE IF NOT EXISTS readings (key TEXT PRIMARY KEY, reply TEXT)")
            db.execute("SELECT count(*) FROM readings").fetchone()  # a damaged file fails here
            self._db = db
        return self._db

    def _get(self, k: str) -> Completion | None:
        from assistant.llm_reader import Completion

        with self._lock:
            row = self._guarded(
                lambda db: db.execute("SELECT reply FROM readings WHERE key = ?", (k,)).fetchone()
            )
        if not row:
            return None
        try:
            raw = json.loads(row[0])
            return Completion(
                text=str(raw["text"]),
                first={str(t): float(p) for t, p in raw["first"].items()},
                prompt_tokens=int(raw["prompt_tokens"]),
                seconds=float(raw["seconds"]),
                probs=tuple(float(p) for p in raw["probs"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged row is read again, and replaced

    def _put(self, k: str, done: Completion) -> None:
        reply = json.dumps(
            {
                "text": done.text,
                "first": done.first,
                "prompt_tokens": done.prompt_tokens,
                "seconds": done.seconds,
                "probs": list(done.probs),
            }
        )

        def put(db: sqlite3.Connection) -> None:
            with db:  # one transaction: committed, or rolled back on an error
                db.execute("INSERT OR REPLACE INTO readings VALUES (?, ?)", (k, reply))

        with self._lock:
            self._guarded(put)

    def _guarded(self, use: Callable[[sqlite3.Connection], T]) -> T | None:
        """``use(db)``; a damaged file is set aside once and the call made on a new one.

        A cache that can't be used at all (an unwritable folder) leaves it off: None.
        """
        for attempt in (1, 2):
            try:
                return use(self._open())
            except (sqlite3.DatabaseError, OSError) as exc:
                if self._db is not None:
                    self._db.close()
                self._db = None
                damaged = isinstance(exc, sqlite3.DatabaseError) and self.path.is_file()
                if attempt == 2 or not damaged:
                    log.warning("the readings cache %s can't be used (%s)", self.path, exc)
                    return None
                log.warning("the readings cache %s is damaged (%s); starting anew", self.path, exc)
                self.path.replace(self.path.with_name(self.path.name + ".damaged"))
        return None
