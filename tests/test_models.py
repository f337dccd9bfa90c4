"""The two encoders: sentence-transformers (index builds) and its ONNX export (queries)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Settings
from assistant.engine import engine_for
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
