"""What the process loads once: models, opened stores and engines, each under its key.

The models, Chroma clients and engines are kept here: ``once(kind, key, load)`` returns
what was loaded for ``(kind, key)``, calling ``load()`` the first time; ``forget`` drops
one entry or a whole kind. Each key loads under its own lock: two threads asking for the
same model load it once, while a load of another key (or a value already loaded) never
waits for it. A load that raises leaves nothing behind, so the next call tries again.

    >>> once("decider", path, lambda: Decider.load(path))  # read on the first call only

Non-goals: eviction by size or age; what is loaded stays until forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = object()
_values: dict[tuple[str, Hashable], Any] = {}
_loading: dict[tuple[str, Hashable], threading.Lock] = {}  # one lock per key ever loaded
_lock = threading.Lock()  # guards the two dicts, never held while loading


def once(kind: str, key: Hashable, load: Callable[[], T]) -> T:
    """The value loaded for ``(kind, key)``; ``load()`` runs only if there is none yet."""
    slot = (kind, key)
    value = _values.get(slot, _MISSING)
    if value is not _MISSING:
        return value
    with _lock:
        slot_lock = _loading.setdefault(slot, threading.Lock())
    with slot_lock:
        value = _values.get(slot, _MISSING)
        if value is _MISSING:
            value = load()
            with _lock:
                _values[slot] = value
        return value


def get(kind: str, key: Hashable) -> Any | None:
    """What is loaded for ``(kind, key)``, or None."""
    return _values.get((kind, key))


def forget(kind: str, key: Hashable | None = None) -> list[Any]:
    """Drop ``key`` of ``kind`` (every key of it when None); returns the dropped values."""
    with _lock:
        slots = [s for s in _values if s[0] == kind and (key is None or s[1] == key)]
        return [_values.pop(s) for s in slots]


def keys(kind: str) -> list[Hashable]:
    """The keys loaded under ``kind``, oldest first."""
    with _lock:
        return [k for (c, k) in _values if c == kind]
