"""The index in a Chroma server (ASSISTANT_CHROMA_URL), against a real `chroma run`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import IndexStoreError, Settings, ask
from assistant.engine import build_index

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "seres-huawei-aito.txt"
CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert CHROMA.is_file(), f"{CHROMA} is missing; chromadb installs it"
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "chroma run exited early"
                assert time.monotonic() < deadline, "chroma run did not answer within 30 s"
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def remote(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("remote")
    (root / "corpus").mkdir()
    shutil.copy(ARTICLE, root / "corpus" / ARTICLE.name)
    return Settings(
        answerer="fast", corpus_dir=root / "corpus", index_dir=root / "index", chroma_url=chroma_url
    )


def test_chroma_server__index_and_answer_with_valid_citations(remote: Settings) -> None:
    data = build_index(remote)
    assert not (remote.index_dir / data.store / "chroma").exists()  # vectors live on the server
    answer = ask("How much did Seres and Changan each invest in Yinwang?", settings=remote)
    assert "11.5 billion yuan" in answer.answer
    text = ARTICLE.read_text(encoding="utf-8")
    assert "11.5 billion yuan" in answer.citations[0].text
    assert all(text[c.start : c.end] == c.text for c in answer.citations)


def test_chroma_server__same_answers_as_the_local_store(remote: Settings) -> None:
    question = "How much did Seres lose in 2022?"
    local = ask(question)
    served = ask(question, settings=remote)
    assert served.answer == local.answer == "3.832 billion yuan"
    assert [c.text for c in served.citations] == [c.text for c in local.citations]


def test_chroma_server__a_rebuild_replaces_the_old_collections(remote: Settings) -> None:
    first = build_index(remote)
    second = build_index(remote, rebuild=True)
    assert second.store != first.store
    assert ask("Who is the chairman of Seres?", settings=remote).answer == "Zhang Xinghai"


def test_chroma_server__unreachable_server_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    shutil.copy(ARTICLE, tmp_path / "corpus" / ARTICLE.name)
    settings = Settings(
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        chroma_url=f"http://127.0.0.1:{_free_port()}",
    )
    with pytest.raises(IndexStoreError, match="can't be reached"):
        ask("How much did Seres lose in 2022?", settings=settings)


def test_chroma_server__adding_and_removing_a_document_keeps_the_other_vectors(
    remote: Settings, tmp_path: Path
) -> None:
    import numpy as np

    from assistant import add_documents, remove_document
    from assistant.index import open_index

    before = build_index(remote)
    note = tmp_path / "depot.md"
    note.write_text("# Depot\n\nThe Arvika bus depot opened in 1987.\n", encoding="utf-8")

    add_documents([note], remote)
    after = open_index(remote)

    kept = [i for i, p in enumerate(after.passages) if p.source == ARTICLE.name]
    np.testing.assert_allclose(after.context_vectors[kept], before.context_vectors, atol=1e-6)
    assert ask("When did the Arvika bus depot open?", settings=remote).answer == "1987"
    remove_document("depot.md", remote)
    assert ask("Who is the chairman of Seres?", settings=remote).answer == "Zhang Xinghai"
