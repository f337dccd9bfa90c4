"""The reader: window cutting, span decoding, the ONNX export, and the shipped model."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import ModelError
from assistant.models import model_path
from assistant.reader import MAX_TOKENS, STRIDE, Reader, best_spans, make_windows, reader

PARAGRAPH = (
    "The Normans arrived in Ireland in 1169. Their invasion at Bannow Bay was led by "
    "Richard de Clare, known as Strongbow. Within two years they held Dublin."
)


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def test_make_windows__long_contexts_overlap_and_offsets_point_into_the_text(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(f"word{i}" for i in range(400))
    windows = make_windows(tokenizer, "Which word?", text)
    assert len(windows) > 1
    assert all(len(w.ids) <= MAX_TOKENS for w in windows)
    for w in windows:
        first = w.offsets[w.first]
        assert text[first[0] : first[1]].startswith(("word", "##")) or text[first[0]].isdigit()
    # consecutive windows share STRIDE context tokens
    a, b = windows[0], windows[1]
    assert a.offsets[a.first + a.count - STRIDE] == b.offsets[b.first]


def test_make_windows__an_overlong_question_is_cut_not_refused(tokenizer) -> None:  # type: ignore[no-untyped-def]
    windows = make_windows(tokenizer, "why " * 500, PARAGRAPH)
    assert len(windows[0].ids) <= MAX_TOKENS
    assert windows[0].count > 0


def test_best_spans__keeps_order_and_length_limits() -> None:
    start = np.array([0.0, 0.0, 5.0, 1.0, 0.0])
    end = np.array([0.0, 0.0, 0.0, 1.0, 6.0])
    offsets = [(0, 0), (0, 3), (4, 7), (8, 11), (12, 15)]
    spans = best_spans(start, end, offsets, [False, True, True, True, True])
    assert spans[0] == (4, 15, 11.0)
    assert all(a < b for a, b, _ in spans)
    assert best_spans(start, end, offsets, [False, True, True, True, True], max_tokens=1)[0][
        :2
    ] != (4, 15)


def test_shipped_reader__finds_the_exact_span() -> None:
    r = reader()
    found = r.read("In what year did the Normans arrive in Ireland?", [PARAGRAPH])
    assert PARAGRAPH[found[0].start : found[0].end] == "1169"
    found = r.read("Who led the invasion at Bannow Bay?", ["Unrelated text here.", PARAGRAPH])
    assert found[0].context == 1
    assert "Richard de Clare" in PARAGRAPH[found[0].start : found[0].end]


def test_reader__missing_or_corrupt_model_is_a_model_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="make train"):
        Reader(tmp_path).read("Who?", ["Ann wrote it."])
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text((model_path() / "tokenizer.json").read_text())
    with pytest.raises(ModelError, match=r"model\.onnx"):
        Reader(tmp_path).read("Who?", ["Ann wrote it."])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "tokenizer.json"]


def test_onnx_export__matches_the_torch_model(tmp_path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    """The training script's export, on a small randomly initialised BERT reader."""
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertForQuestionAnswering

    from assistant.reader import batch
    from train.reader import export_onnx

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    model = BertForQuestionAnswering(config).eval()
    export_onnx(model, tokenizer, tmp_path / "model.onnx")
    (tmp_path / "tokenizer.json").write_text((model_path() / "tokenizer.json").read_text())
    windows = make_windows(tokenizer, "Who led it?", PARAGRAPH) + make_windows(
        tokenizer, "When?", "In 1169."
    )
    feed = batch(windows)
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in feed.items()})
    spans = Reader(tmp_path).read("Who led it?", [PARAGRAPH])
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    start, end = session.run(["start_logits", "end_logits"], feed)
    np.testing.assert_allclose(start, out.start_logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(end, out.end_logits.numpy(), atol=1e-4)
    assert spans and all(0 <= s.start < s.end <= len(PARAGRAPH) for s in spans)
