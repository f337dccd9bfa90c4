"""llama.cpp runs on its own thread: the reader's reply is the same after onnxruntime ran.

On a CPU with AMX, a prompt read by llama.cpp on a thread where the MiniLM reader
(onnxruntime, int8) had run since came back as garbage; the last test is that case with
the real models (it fails when ``llm_thread.run`` calls in place).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assistant import Settings, bundle, llm_thread


def test_run__calls_on_one_named_thread_and_returns_or_raises_here() -> None:
    names = {llm_thread.run(lambda: threading.current_thread().name) for _ in range(3)}
    assert len(names) == 1 and names.pop().startswith("llama.cpp")
    assert llm_thread.run(lambda: llm_thread.run(lambda: 41) + 1) == 42  # nested: no deadlock
    with pytest.raises(ZeroDivisionError):
        llm_thread.run(lambda: 1 / 0)


def test_stream__yields_in_order_raises_and_stops_the_producer_early() -> None:
    assert list(llm_thread.stream(lambda: iter(range(200)))) == list(range(200))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("model failed")

    got: list[int] = []
    with pytest.raises(ValueError, match="model failed"):
        for item in llm_thread.stream(failing):
            got.append(item)
    assert got == [1]
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in llm_thread.stream(endless):
        if item == 3:
            break
    assert llm_thread.run(lambda: "free") == "free"  # the thread is not left producing
    assert len(produced) < 200


@pytest.mark.skipif(bundle.installed() is None, reason="the reader model is not installed")
def test_reader__same_reply_after_the_minilm_reader_ran_on_this_thread() -> None:
    from assistant.engine import engine_for
    from assistant.llm_reader import reader_for
    from assistant.question import rewrite

    passages = [  # long enough (about 1,300 characters) for the prompt to take that path
        "The Harbour Board of Velmora met on 4 May 2031 in the old customs house. Its chair, "
        "Marta Quill-Oduya, said the new pier would cost 41.5 million crowns and open in 2034. "
        "The board's engineers had surveyed the seabed for two winters, drilling 38 cores "
        "along the line of the planned pier and finding sandstone at a depth of 14 metres. "
        "The pier will be 620 metres long, with berths for four ferries and a terminal "
        "building of timber and glass designed by the firm of Ostrander and Pell. Fishing "
        "boats will keep the north quay, which was rebuilt in 1998 after a storm broke its "
        "outer wall. The town council will pay a third of the cost; the rest comes from the "
        "regional transport fund and a loan from the Northern Coast Bank, to be repaid from "
        "berth fees over 25 years. Work on the foundations is to start in the spring of 2032, "
        "once the nesting season of the terns on Gull Rock is over, and the contractor, "
        "Harlow Marine, expects to employ about 240 people at the height of construction. "
        "Residents of the harbour streets asked the board to limit night work; the chair "
        "promised that piling would stop at 7 in the evening and on Sundays.",
    ]
    reader = reader_for(Settings.from_env(answerer="llm"))
    question_here = "Who chairs the Harbour Board of Velmora?"
    first = reader.read(question_here, passages)
    settings = Settings.from_env(answerer="fast")
    search, fast = engine_for(settings)
    question = "Who is the chairman of Seres?"
    query = rewrite(question, [], search.vocabulary)
    fast.propose(question, query, search.search(query.text), settings)  # onnxruntime, here
    # Another first passage: the whole prompt is read again, not taken from the cache.
    again = reader.read(question_here, ["The old pier was built in 1911.", *passages])
    assert first.reply == again.reply == "Marta Quill-Oduya"
