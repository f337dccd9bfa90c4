"""One thread for every llama.cpp call in this process: loads and generations.

llama.cpp's CPU kernels keep state in the thread that calls them between calls (on
CPUs with AMX, the tile configuration is set once per thread), and onnxruntime's int8
kernels, which run the MiniLM reader on the caller's thread, set that state their own
way. Once the reader had run on a thread where llama.cpp had run before, llama.cpp's
next prompt read there came back as garbage: "*/\n\n\n.Mon" instead of "Guanabara
Confession of Faith" on one SQuAD question (tests/test_llm_thread.py is that case). So
llama.cpp runs only here, on a thread nothing else uses; one thread also means one
generation at a time, which the one model per process needs anyway. Because calls run
one at a time, one deadline holds for the running call (``deadline``): every model
loaded here gets ``abort_callback``, which llama.cpp asks between the steps of a
prompt's evaluation, so a reading past its deadline stops within a fraction of a second
instead of after the whole prompt.
Non-goals: what is generated (``llm_reader``, ``generate``).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_DONE = object()
_until = math.inf  # perf_counter() time past which the running call is aborted
_callback: Any = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama.cpp")
        return _executor


def run(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` on the llama.cpp thread; its result, or its exception, here.

    Example: run(llama.tokenize, b"Hello") -> [9707]
    """
    if threading.current_thread().name.startswith("llama.cpp"):
        return fn(*args)  # already there (a call made from inside ``run``)
    return _pool().submit(fn, *args).result()


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Abort llama.cpp's work in this block once ``time.perf_counter()`` passes ``at``.

    Example: with deadline(time.perf_counter() + 8): llama.eval(tokens)  # RuntimeError
    when aborted (llama_decode returns 2); the tokens decoded before it stay cached.
    """
    global _until
    _until = at
    try:
        yield
    finally:
        _until = math.inf


def past_deadline() -> bool:
    """Whether the running call's deadline has passed."""
    return time.perf_counter() > _until


def abort_callback() -> Any:
    """The ggml abort callback for ``llama_set_abort_callback``: true past the deadline."""
    global _callback
    with _lock:
        if _callback is None:
            import llama_cpp

            _callback = llama_cpp.ggml_abort_callback(lambda _data: past_deadline())
        return _callback


def stream(make: Callable[[], Iterator[T]]) -> Iterator[T]:
    """Iterate ``make()`` on the llama.cpp thread, yielding its items here as they come.

    Stops the producer when the consumer stops early. Example: stream(lambda:
    llm.stream_chat(messages)) yields the chunks of a streamed reply.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=64)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in make():
                if stop.is_set():
                    break
                items.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(_Raised(exc))
        finally:
            items.put(_DONE)

    future = _pool().submit(produce)
    try:
        while True:
            item = items.get()
            if item is _DONE:
                break
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while not future.done():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                items.get(timeout=0.05)


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
