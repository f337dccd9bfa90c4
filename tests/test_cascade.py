"""The language-model reader with the real bundled model (Qwen2.5-Coder-1.5B-Instruct).

Made-up passages for the reader itself, then the seed article through ``ask()``, the
CLI and the shared-server backend: a cited, located answer, an abstention, the fast path
where a model is broken. Each read costs a few seconds on 2 cores, so there are few.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import ModelError, Settings, Step, ask, ask_stream, bundle, document_text
from assistant.cascade import CascadeAnswerer
from assistant.decide import decider
from assistant.engine import engine_for
from assistant.errors import Overtime
from assistant.learned import LearnedAnswerer
from assistant.llm_reader import reader_for
from assistant.question import rewrite
from tests.conftest import llama_server

if bundle.installed() is None:
    pytest.skip("the reader model is not installed: make install-model", allow_module_level=True)

PASSAGES = [
    "The Harbour Board of Velmora met on 4 May 2031. Its chair, Marta Quill-Oduya, said the "
    "new pier would cost 41.5 million crowns and open in 2034.",
    "Fishing fleets have used the old pier since 1911.",
]


@pytest.fixture(scope="module")
def llm() -> Settings:
    return Settings.from_env(answerer="llm")


def test_reader__quotes_a_located_span_from_made_up_passages(llm: Settings) -> None:
    reading = reader_for(llm).read("How much will the new pier cost?", PASSAGES)
    assert reading.located is not None and not reading.declined
    found = reading.located
    assert PASSAGES[found.passage][found.start : found.end] == "41.5 million crowns"
    assert reading.p_stated > 0.5 and reading.p_decline < 0.5
    again = reader_for(llm).read("How much will the new pier cost?", PASSAGES)
    assert (again.reply, again.located) == (reading.reply, reading.located)  # greedy, seeded


def test_reader__declines_what_the_passages_do_not_say(llm: Settings) -> None:
    reading = reader_for(llm).read("Who designed the lighthouse of Velmora?", PASSAGES)
    assert reading.located is None


def test_ask__llm_answer_is_located_in_the_document_and_cited(llm: Settings) -> None:
    a = ask("Who is the chairman of Seres?", settings=llm)
    assert a.answered_by == "llm" and not a.abstained and "Zhang Xinghai" in a.answer
    assert a.span is not None
    assert document_text(a.span.source)[a.span.start : a.span.end] == a.answer
    first = a.citations[0]
    assert first.start <= a.span.start < a.span.end <= first.end  # the sentence holding it
    assert {"fast", "read"} <= set(a.timings)


def test_reader__a_reading_past_its_deadline_stops_and_the_next_reads_the_same(
    llm: Settings,
) -> None:
    reader = reader_for(llm)
    long = [PASSAGES[0] * 4, *PASSAGES[1:]]  # fresh passages: the whole prompt must be read
    began = time.perf_counter()
    with pytest.raises(Overtime):
        reader.read("Who chairs the Harbour Board?", long, time.perf_counter() + 0.2)
    assert time.perf_counter() - began < 1.5  # aborted in the prompt, not after it
    after = reader.read("How much will the new pier cost?", PASSAGES)
    assert after.located is not None
    assert PASSAGES[0][after.located.start : after.located.end] == "41.5 million crowns"


def test_quote__the_decider_sees_the_sentence_holding_the_quote(llm: Settings) -> None:
    search, cascade = engine_for(llm)
    assert isinstance(cascade, CascadeAnswerer)
    query = rewrite("Who is the chairman of Seres?", [], search.vocabulary)
    hits = search.search(query.text)
    quoted = cascade.quote(query, hits, llm, cascade.fast.propose(query.text, query, hits, llm))
    assert quoted.candidate is not None and "Zhang Xinghai" in quoted.signals.quote
    assert quoted.signals.sentence == quoted.candidate.sentence.text
    assert quoted.signals.quote in quoted.signals.sentence


def test_ask__past_the_deadline_the_fast_answer_stands_and_the_note_says_why(
    llm: Settings,
) -> None:
    a = ask("Who is the chairman of Seres?", settings=replace(llm, deadline=0.05))
    assert a.answered_by == "fast" and "Zhang Xinghai" in a.answer
    assert "did not finish reading within the 0.05 s deadline" in a.note


def test_auto__a_question_in_another_script_is_not_read(llm: Settings) -> None:
    question = "赛力斯和长安各向引望投资了多少钱？"
    a = ask(question, settings=replace(llm, answerer="auto"))
    assert a.answered_by == "fast" and "read" not in a.timings
    # a decider that sends every unsure question to the model: reach still stops this one
    auto = replace(llm, answerer="auto")
    search, fast = engine_for(replace(llm, answerer="fast"))
    eager = replace(decider(), fast_sure=2.0, fast_none=-1.0)
    assert isinstance(fast, LearnedAnswerer)
    cascade = CascadeAnswerer(fast, eager, auto)
    query = rewrite(question, [], search.vocabulary)
    b = cascade.answer(question, query, search.search(query.text), auto)
    assert "read" not in b.timings and "Han script" in b.note


def test_ask__a_company_the_article_never_mentions_is_abstained_in_every_mode(
    llm: Settings,
) -> None:
    for mode in ("llm", "auto", "fast"):
        a = ask("Who is the CEO of Tesla?", settings=replace(llm, answerer=mode))
        assert a.abstained and a.answer == "" and a.reason, mode


def test_ask_stream__steps_show_the_passages_before_the_model_reads(llm: Settings) -> None:
    items = list(ask_stream("Who is the chairman of Seres?", settings=llm, steps=True))
    names = [i.name for i in items if isinstance(i, Step)]
    assert names == ["retrieved", "reading"]
    assert items[0].citations and items[-1].answered_by == "llm"  # type: ignore[union-attr]


def test_auto__a_broken_model_file_leaves_the_fast_path_answering(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 4096)
    auto = Settings.from_env(answerer="auto", reader_llm=str(broken))
    from assistant.engine import forget

    forget(auto)
    a = ask("What share of Yinwang does Huawei hold after the deal?", settings=auto)
    assert a.answered_by == "fast" and ("broken.gguf" in a.note or a.note == "")
    with pytest.raises(ModelError, match=r"broken\.gguf.*make install-model"):
        ask("Who is the chairman of Seres?", settings=replace(auto, answerer="llm"))


def test_load_reader__loads_the_model_before_any_question_and_names_a_broken_one(
    tmp_path: Path,
) -> None:
    from assistant import Assistant

    assert Assistant(Settings.from_env(answerer="fast")).load_reader() is False
    assert Assistant(Settings.from_env(answerer="auto")).load_reader() is True
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 4096)
    with pytest.raises(ModelError, match=r"broken\.gguf"):
        Assistant(Settings.from_env(answerer="auto", reader_llm=str(broken))).load_reader()


def test_cli__says_the_language_model_read_it() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--answerer", "llm", "Who chairs Seres?"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ASSISTANT_ANSWERER": "fast"},  # the flag wins over the variable
    )
    assert done.returncode == 0, done.stderr
    assert "Zhang Xinghai" in done.stdout and "(read by the language model" in done.stdout


@pytest.fixture(scope="module")
def reader_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with the bundled model, on loopback."""
    log = tmp_path_factory.mktemp("reader-server") / "server.log"
    extra = ["--n_ctx", "2048", "--logits_all", "true", "--seed", "0"]
    yield from llama_server(bundle.model_file(), "reader", log, extra)


def test_server__the_reader_runs_against_a_shared_server(reader_server: str) -> None:
    shared = Settings.from_env(answerer="llm", reader_llm="openai:reader", reader_url=reader_server)
    reading = reader_for(shared).read("How much will the new pier cost?", PASSAGES)
    assert reading.located is not None
    found = reading.located
    assert PASSAGES[found.passage][found.start : found.end] == "41.5 million crowns"
    assert reading.p_stated > 0.5  # log-probabilities come back from the server too
