"""What the process loads once: models, opened stores and engines, each under its key.

Every process-wide cache lives here: ``once(kind, key, load)`` returns what was loaded
for ``(kind, key)``, calling ``load()`` the first time; ``forget`` drops one entry or a
whole kind. Loads run one at a time (a load may itself load: the engine loads the
reader); a value already loaded is returned without waiting for a load in progress.
A load that raises leaves nothing behind, so the next call tries again.

    >>> once("decider", path, lambda: Decider.load(path))  # read on the first call only
Non-goals: eviction by size or age; what is loaded stays until forgotten.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_values: dict[tuple[str, Hashable], Any] = {}
_lock = threading.RLock()


def once(kind: str, key: Hashable, load: Callable[[], T]) -> T:
    """The value loaded for ``(kind, key)``; ``load()`` runs only if there is none yet."""
    slot = (kind, key)
    if slot in _values:
        return _values[slot]
    with _lock:
        if slot not in _values:
            _values[slot] = load()
        return _values[slot]


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
    return [k for (c, k) in list(_values) if c == kind]
