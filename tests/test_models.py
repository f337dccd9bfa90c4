"""The two encoders: sentence-transformers (index builds) and its ONNX export (queries)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import Settings, models
from assistant.engine import engine_for
from assistant.errors import ModelError
from assistant.models import Embedder, OnnxEncoder, embedder
from assistant.retrieve import HybridSearch

QUESTIONS = [
    "How much did Seres and Changan each invest in Yinwang?",
    "Who is the chairman of Seres?",
    "When did Yu Chengdong become CEO of the automotive BU?",
    "What was the AITO trademark valued at?",
    "Why did the stock price fall in 2022?",
]


@pytest.fixture(scope="module")
def encoders() -> tuple[HybridSearch, OnnxEncoder, Embedder]:
    search, _ = engine_for(Settings.from_env())
    assert isinstance(search.encoder, OnnxEncoder), "queries should use the ONNX encoder"
    return search, search.encoder, embedder()


def test_onnx_encoder__same_embeddings_as_sentence_transformers(
    encoders: tuple[HybridSearch, OnnxEncoder, Embedder],
) -> None:
    search, onnx, torch_model = encoders
    sample = [p.text for p in search.index.passages[::5]] + QUESTIONS + ["", "x" * 3000]
    a, b = onnx.encode(sample), torch_model.encode(sample)
    assert a.shape == b.shape == (len(sample), 384)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= 0.999
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)


def test_onnx_encoder__same_top_passages_as_sentence_transformers(
    encoders: tuple[HybridSearch, OnnxEncoder, Embedder],
) -> None:
    search, _, torch_model = encoders
    with_torch = HybridSearch(search.index, torch_model, search.settings)
    for question in QUESTIONS:
        top_onnx = [h.passage.id for h in search.search(question)[:3]]
        top_torch = [h.passage.id for h in with_torch.search(question)[:3]]
        assert top_onnx == top_torch, question


def test_onnx_encoder__empty_input_gives_no_rows(
    encoders: tuple[HybridSearch, OnnxEncoder, Embedder],
) -> None:
    assert encoders[1].encode([]).shape == (0, 384)


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ("modules.json", r"model\.safetensors"),
        ("model.safetensors", r"word_embeddings\.safetensors"),
    ],
)
def test_model_path__an_incomplete_embedder_folder_is_a_model_error_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    (tmp_path / present).write_text("{}")
    monkeypatch.setattr(models, "EMBEDDER_DIR", tmp_path)
    with pytest.raises(ModelError, match=rf"no {missing} under .*make train"):
        models.model_path()


@pytest.mark.parametrize("card", ["{}", '{"sha256": "abc"}', "not json"])
def test_embedder_identity__a_damaged_training_json_is_a_model_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, card: str
) -> None:
    for name in ("model.safetensors", models.WORD_EMBEDDINGS, "tokenizer.json", "modules.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "training.json").write_text(card)
    monkeypatch.setattr(models, "EMBEDDER_DIR", tmp_path)
    with pytest.raises(ModelError, match=r"training\.json is missing or damaged"):
        models.embedder_identity()


def test_embedder__is_the_shipped_fine_tuned_model_not_its_base() -> None:
    shipped = embedder().encode(QUESTIONS[:2])
    base = Embedder(models.base_model_path()).encode(QUESTIONS[:2])
    assert models.model_path() == models.EMBEDDER_DIR
    assert (shipped * base).sum(axis=1).max() < 0.999  # trained weights, not a copy


def test_index_fingerprint__changes_with_the_embedder_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistant import index

    settings = Settings.from_env()
    first = index.settings_fingerprint(settings)
    assert len(models.embedder_identity()) == 64
    assert index.settings_fingerprint(settings) == first
    monkeypatch.setattr(index, "embedder_identity", lambda: "0" * 64)  # retrained weights
    assert index.settings_fingerprint(settings) != first


def test_embedder_identity__is_the_sha256_of_the_shipped_weights() -> None:
    import hashlib

    folder = models.model_path()
    weights = (folder / "model.safetensors").read_bytes()
    weights += (folder / models.WORD_EMBEDDINGS).read_bytes()
    assert models.embedder_identity() == hashlib.sha256(weights).hexdigest()


def test_word_embeddings__int8_rows_come_back_within_half_a_step_of_their_scale(
    tmp_path: Path,
) -> None:
    import torch
    from safetensors.torch import save_file

    table = torch.randn(50, 384) * torch.linspace(0.01, 2.0, 50)[:, None]
    stored = models.quantised(table)
    assert stored["int8"].dtype == torch.int8 and stored["scale"].shape == (50, 1)
    save_file(stored, str(tmp_path / models.WORD_EMBEDDINGS))
    back = models.word_embeddings(tmp_path / models.WORD_EMBEDDINGS)
    step = table.abs().amax(dim=1, keepdim=True) / 127
    assert ((back - table).abs() <= 0.5001 * step).all()
    assert models.embedder()._load()[0].auto_model.embeddings.word_embeddings.weight.dtype == (
        torch.float32
    )


def test_misspell__changes_one_long_word_by_one_edit() -> None:
    import random

    from rapidfuzz.distance import Levenshtein

    from train.embedder import misspell

    rng = random.Random(0)
    question = "Who is the chairman of Changan Automobile?"
    for _ in range(50):
        typed = misspell(question, rng)
        changed = [(a, b) for a, b in zip(question.split(), typed.split(), strict=True) if a != b]
        assert len(changed) <= 1
        for a, b in changed:
            assert len(a) >= 4 and Levenshtein.distance(a, b) <= 2  # a swap is two edits
    assert misspell("Who is it?", rng) == "Who is it?"
