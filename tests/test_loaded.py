"""``assistant.loaded``: each key loads once, under its own lock, and can be forgotten."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assistant import loaded

KIND = "test value"


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    loaded.forget(KIND)
    yield
    loaded.forget(KIND)


def test_once__threads_asking_for_one_key_load_it_once() -> None:
    calls: list[int] = []
    started = threading.Event()
    release = threading.Event()

    def load() -> object:
        calls.append(1)
        started.set()
        release.wait(10)
        return object()

    got: list[object] = []
    threads = [
        threading.Thread(target=lambda: got.append(loaded.once(KIND, "k", load))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    assert started.wait(10)
    release.set()
    for t in threads:
        t.join(10)

    assert len(calls) == 1
    assert len(got) == 4 and all(v is got[0] for v in got)


def test_once__a_load_in_progress_does_not_hold_up_another_key() -> None:
    release = threading.Event()
    slow = threading.Thread(
        target=lambda: loaded.once(KIND, "slow", lambda: release.wait(10)), daemon=True
    )
    slow.start()

    other: list[str] = []
    fast = threading.Thread(target=lambda: other.append(loaded.once(KIND, "fast", lambda: "v")))
    fast.start()
    fast.join(5)
    done_while_slow_loads = not fast.is_alive() and not release.is_set()
    release.set()
    slow.join(10)

    assert done_while_slow_loads
    assert other == ["v"]
    assert loaded.keys(KIND) == ["fast", "slow"]


def test_once__a_load_that_raises_leaves_nothing_and_the_next_call_loads() -> None:
    def broken() -> str:
        raise OSError("truncated file")

    with pytest.raises(OSError, match="truncated"):
        loaded.once(KIND, "k", broken)

    assert loaded.get(KIND, "k") is None
    assert loaded.once(KIND, "k", lambda: "ok") == "ok"


def test_forget__drops_one_key_or_the_whole_kind_and_returns_what_it_dropped() -> None:
    loaded.once(KIND, "a", lambda: 1)
    loaded.once(KIND, "b", lambda: 2)

    assert loaded.forget(KIND, "a") == [1]
    assert loaded.keys(KIND) == ["b"]
    assert loaded.once(KIND, "a", lambda: 3) == 3  # loaded afresh
    assert sorted(loaded.forget(KIND)) == [2, 3]
    assert loaded.keys(KIND) == []


def test_forget__while_another_key_loads_does_not_wait_for_it() -> None:
    release = threading.Event()
    loaded.once(KIND, "old", lambda: "x")
    slow = threading.Thread(
        target=lambda: loaded.once(KIND, "slow", lambda: release.wait(10)), daemon=True
    )
    slow.start()

    forgot: list[list[object]] = []
    t = threading.Thread(target=lambda: forgot.append(loaded.forget(KIND, "old")))
    t.start()
    t.join(5)
    release.set()
    slow.join(10)

    assert forgot == [["x"]]
