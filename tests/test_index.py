"""The Chroma index: build, reuse without re-embedding, rebuild on change or damage.

Real parts: the packaged MiniLM model and real Chroma stores in tmp folders, over a
small corpus so each build takes about a second. One build is made per module and
copied into each test that starts from "an index already exists" (the fingerprint
depends on file contents, not paths, so a copy is reused like the original).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import EncodeSpy

from assistant import ask
from assistant.config import Settings
from assistant.errors import CorpusError, IndexStoreError
from assistant.index import open_index
from assistant.ingest import load_passages
from assistant.models import Embedder, embedder

NOTES = """Acme Motors Quarterly Notes
Acme Motors lost 3.2 billion yuan in 2022. The loss came from a costly price war.
Jane Doe, the chairman of Acme Motors, said the firm would recover.
New Plants
In May 2023, Acme Motors opened a plant in Lyon. The plant can build 80,000 cars a year.
"""


def _settings(root: Path) -> Settings:
    return Settings(answerer="fast", corpus_dir=root / "corpus", index_dir=root / "index")


def _current(settings: Settings) -> dict[str, str]:
    return json.loads((settings.index_dir / "CURRENT").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> Embedder:
    """The real embedder, loaded once per process before any timing-sensitive test."""
    model = embedder()
    model.encode(["load the weights"])
    return model


@pytest.fixture(scope="module")
def built(model: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus with its index, built once; copy it with ``fresh_copy``."""
    root = tmp_path_factory.mktemp("built")
    open_index(_new_corpus(root))
    return root


@pytest.fixture
def fresh_copy(built: Path, tmp_path: Path) -> Iterator[Settings]:
    shutil.copytree(built / "corpus", tmp_path / "corpus")
    shutil.copytree(built / "index", tmp_path / "index")
    yield _settings(tmp_path)


def _new_corpus(root: Path) -> Settings:
    """Settings for a fresh corpus folder holding the notes, with no index yet."""
    (root / "corpus").mkdir()
    (root / "corpus" / "acme.txt").write_text(NOTES, encoding="utf-8")
    return _settings(root)


def test_open_index__first_build_embeds_and_stores_every_passage(
    model: Embedder, tmp_path: Path, encode_spy: EncodeSpy
) -> None:
    settings = _new_corpus(tmp_path)

    data = open_index(settings)

    _, expected = load_passages(settings.corpus_dir)
    assert data.passages == expected
    assert data.context_vectors.shape == data.sentence_vectors.shape == (len(expected), 384)
    assert encode_spy.texts == 2 * len(expected)  # a context and a sentence vector each
    assert _current(settings)["store"] == data.store
    assert (settings.index_dir / data.store / "manifest.json").is_file()


def test_open_index__unchanged_corpus_reuses_the_store_without_embedding(
    model: Embedder, tmp_path: Path, encode_spy: EncodeSpy
) -> None:
    settings = _new_corpus(tmp_path)
    first = open_index(settings)
    assert encode_spy.calls > 0
    encode_spy.calls = encode_spy.texts = 0

    again = open_index(settings)

    assert encode_spy.calls == 0
    assert again.store == first.store == _current(settings)["store"]
    assert again.passages == first.passages
    assert (again.context_vectors == first.context_vectors).all()
    assert [p.name for p in settings.index_dir.glob("store-*")] == [first.store]


def _edit_file(corpus: Path) -> None:
    with (corpus / "acme.txt").open("a", encoding="utf-8") as fh:
        fh.write("Acme Motors also opened a showroom in Oslo.\n")


def _add_file(corpus: Path) -> None:
    (corpus / "oslo.md").write_text(
        "# Oslo\n\nAcme Motors also opened a showroom in Oslo.\n", encoding="utf-8"
    )


@pytest.mark.parametrize("change", [_edit_file, _add_file], ids=["edited-file", "added-file"])
def test_open_index__a_changed_corpus_is_rebuilt_into_a_new_store(
    fresh_copy: Settings, encode_spy: EncodeSpy, change: Callable[[Path], None]
) -> None:
    old = _current(fresh_copy)["store"]
    change(fresh_copy.corpus_dir)

    data = open_index(fresh_copy)

    assert encode_spy.calls > 0
    assert data.store != old
    assert _current(fresh_copy)["store"] == data.store
    assert "Acme Motors also opened a showroom in Oslo." in [p.text for p in data.passages]
    assert not (fresh_copy.index_dir / old).exists()  # the old store is cleaned up
    # ...and the new index is reused from then on.
    encode_spy.calls = 0
    assert open_index(fresh_copy).store == data.store
    assert encode_spy.calls == 0


def test_open_index__rebuild_forces_a_new_store_for_an_unchanged_corpus(
    fresh_copy: Settings, encode_spy: EncodeSpy
) -> None:
    old = _current(fresh_copy)["store"]

    data = open_index(fresh_copy, rebuild=True)

    assert encode_spy.calls > 0
    assert data.store != old
    assert _current(fresh_copy)["store"] == data.store
    assert [p.text for p in data.passages][1] == "Acme Motors lost 3.2 billion yuan in 2022."


def _garbage_manifest(settings: Settings, store: str) -> None:
    (settings.index_dir / store / "manifest.json").write_text("{not json", encoding="utf-8")


def _other_manifest(settings: Settings, store: str) -> None:
    (settings.index_dir / store / "manifest.json").write_text(
        json.dumps({"format": 1, "fingerprint": "0" * 64, "passages": []}), encoding="utf-8"
    )


def _deleted_store(settings: Settings, store: str) -> None:
    shutil.rmtree(settings.index_dir / store)


def _garbage_current(settings: Settings, store: str) -> None:
    (settings.index_dir / "CURRENT").write_bytes(b"\x00\xffnot json")


@pytest.mark.parametrize(
    "damage",
    [_garbage_manifest, _other_manifest, _deleted_store, _garbage_current],
    ids=["garbage-manifest", "foreign-manifest", "deleted-store", "garbage-CURRENT"],
)
def test_open_index__a_damaged_index_is_detected_and_rebuilt(
    fresh_copy: Settings, encode_spy: EncodeSpy, damage: Callable[[Settings, str], None]
) -> None:
    old = _current(fresh_copy)["store"]
    damage(fresh_copy, old)

    data = open_index(fresh_copy)

    assert encode_spy.calls > 0
    assert data.store != old
    assert _current(fresh_copy)["store"] == data.store
    _, expected = load_passages(fresh_copy.corpus_dir)
    assert data.passages == expected
    assert data.sentence_vectors.shape == (len(expected), 384)


def test_open_index__a_half_written_store_beside_the_current_one_is_ignored(
    fresh_copy: Settings, encode_spy: EncodeSpy
) -> None:
    old = _current(fresh_copy)["store"]
    (fresh_copy.index_dir / "store-0123456789ab-deadbeef" / "chroma").mkdir(parents=True)

    data = open_index(fresh_copy)

    assert data.store == old
    assert encode_spy.calls == 0


def _binary_file(corpus: Path) -> None:
    (corpus / "scan.txt").write_bytes(b"PK\x00\x03 binary")


def _latin1_file(corpus: Path) -> None:
    (corpus / "acme.txt").write_bytes("Acme sold 12 cars in Malmö.".encode("latin-1"))


def _removed_folder(corpus: Path) -> None:
    shutil.rmtree(corpus)


@pytest.mark.parametrize(
    ("breakage", "named"),
    [(_latin1_file, "acme.txt"), (_removed_folder, "corpus")],
    ids=["only-file-no-longer-utf8", "corpus-folder-removed"],
)
def test_open_index__an_unreadable_corpus_keeps_the_previous_index_and_warns(
    fresh_copy: Settings,
    encode_spy: EncodeSpy,
    caplog: pytest.LogCaptureFixture,
    breakage: Callable[[Path], None],
    named: str,
) -> None:
    old = _current(fresh_copy)["store"]
    breakage(fresh_copy.corpus_dir)

    with caplog.at_level(logging.WARNING, logger="assistant"):
        data = open_index(fresh_copy)

    assert data.store == old
    assert _current(fresh_copy)["store"] == old
    assert "Acme Motors lost 3.2 billion yuan in 2022." in [p.text for p in data.passages]
    assert encode_spy.calls == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(named in w and "previous index" in w for w in warnings), warnings


def test_open_index__a_bad_file_added_is_skipped_and_nothing_is_re_embedded(
    fresh_copy: Settings, encode_spy: EncodeSpy, caplog: pytest.LogCaptureFixture
) -> None:
    old = open_index(fresh_copy)
    _binary_file(fresh_copy.corpus_dir)

    with caplog.at_level(logging.WARNING, logger="assistant"):
        data = open_index(fresh_copy)

    assert data.store != old.store
    assert [s.source for s in data.skipped] == ["scan.txt"]
    assert data.passages == old.passages
    assert encode_spy.calls == 0
    assert any("scan.txt" in r.getMessage() for r in caplog.records), caplog.text


def test_open_index__an_unreadable_corpus_without_a_previous_index_raises(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    settings.corpus_dir.mkdir()
    (settings.corpus_dir / "scan.txt").write_bytes(b"\x00\x01")
    with pytest.raises(CorpusError, match=r"scan\.txt"):
        open_index(settings)


def test_open_index__forced_rebuild_skips_an_unreadable_file_and_embeds_the_rest(
    fresh_copy: Settings, encode_spy: EncodeSpy
) -> None:
    old = _current(fresh_copy)["store"]
    _binary_file(fresh_copy.corpus_dir)

    data = open_index(fresh_copy, rebuild=True)

    assert data.store != old
    assert [s.source for s in data.skipped] == ["scan.txt"]
    assert encode_spy.texts == 2 * len(data.passages)  # a rebuild re-embeds everything
    assert not (fresh_copy.index_dir / old).exists()


def test_open_index__an_unwritable_index_location_raises_index_store_error(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    settings.corpus_dir.mkdir()
    (settings.corpus_dir / "acme.txt").write_text(NOTES, encoding="utf-8")
    settings.index_dir.write_text("a file where the index folder should be", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="can't write the index"):
        open_index(settings)


def test_ask__keeps_answering_from_the_previous_index_when_the_corpus_breaks(
    fresh_copy: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _binary_file(fresh_copy.corpus_dir)

    with caplog.at_level(logging.WARNING, logger="assistant"):
        answer = ask("How much did Acme Motors lose in 2022?", settings=fresh_copy)

    assert answer.answer == "3.2 billion yuan"
    assert answer.citations[0].text == "Acme Motors lost 3.2 billion yuan in 2022."
    assert any("scan.txt" in r.getMessage() for r in caplog.records)


def test_open_index__more_passages_than_one_chroma_batch_are_stored_in_batches(
    model: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.chroma

    monkeypatch.setattr(assistant.chroma, "batch_size", lambda client: 2)
    settings = _new_corpus(tmp_path)

    data = open_index(settings)

    _, expected = load_passages(settings.corpus_dir)
    assert len(expected) > 2
    assert data.passages == expected
    assert data.collection.count() == len(expected)
