"""The extractive reader: a MiniLM fine-tuned to mark the answer span in a passage.

Runs the shipped ONNX export with onnxruntime and ``tokenizers`` (no torch). The model
reads ``[CLS] question [SEP] context [SEP]`` windows and gives start/end logits per token;
``best_spans`` turns them into character spans of the context, the post-processing of
the Hugging Face SQuAD scripts (top start/end pairs, end >= start, a length limit).
Non-goals: deciding whether to answer at all (``abstain.py``), training (``train/``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import loaded
from assistant.config import PROJECT_ROOT
from assistant.errors import ModelError
from assistant.models import onnx_session

if TYPE_CHECKING:
    import numpy as np

READER_DIR = PROJECT_ROOT / "models" / "reader"
MAX_TOKENS = 256  # window length the reader was trained on
STRIDE = 96  # tokens shared by consecutive windows of a long context
MAX_QUESTION_TOKENS = 64  # longer questions are cut, not refused
MAX_ANSWER_TOKENS = 30
TOP_N = 20  # start and end candidates per window

_lock = threading.Lock()


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``contexts[context][start:end]``, with the reader's scores."""

    context: int
    start: int
    end: int
    score: float  # start logit + end logit
    null: float  # the window's [CLS] start + end logit: the model's "no answer" score


def best_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: list[tuple[int, int]],
    in_context: list[bool],
    top_n: int = TOP_N,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> list[tuple[int, int, float]]:
    """Best (start_char, end_char, score) spans of one window, best first.

    Only tokens of the context count; a span ends at or after it starts and has at most
    ``max_tokens`` tokens. Example: logits peaking at tokens 5 and 7, whose offsets are
    (10, 14) and (20, 25) -> [(10, 25, s5 + e7), ...]
    """
    import numpy as np

    allowed = np.array(in_context, dtype=bool)
    starts = np.where(allowed, start_logits, -np.inf)
    ends = np.where(allowed, end_logits, -np.inf)
    top_starts = [int(i) for i in np.argsort(-starts)[:top_n] if allowed[i]]
    top_ends = [int(i) for i in np.argsort(-ends)[:top_n] if allowed[i]]
    spans: dict[tuple[int, int], float] = {}
    for s in top_starts:
        for e in top_ends:
            if e < s or e - s + 1 > max_tokens:
                continue
            char_span = (offsets[s][0], offsets[e][1])
            score = float(start_logits[s] + end_logits[e])
            if char_span[1] > char_span[0] and score > spans.get(char_span, -np.inf):
                spans[char_span] = score
    return [(a, b, s) for (a, b), s in sorted(spans.items(), key=lambda kv: -kv[1])]


class Reader:
    """Finds answer spans in contexts with the ONNX reader in ``folder``."""

    def __init__(self, folder: Path = READER_DIR) -> None:
        self.folder = folder
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[Any, Any]:
        with _lock:
            if self._session is None:
                model, vocab = self.folder / "model.onnx", self.folder / "tokenizer.json"
                fix = "restore it from git or retrain it with `make train`"
                for path in (model, vocab):
                    if not path.is_file():
                        raise ModelError(f"the reader model file {path} is missing; {fix}")
                session, tokenizer = onnx_session(
                    model, vocab, f"can't load the reader model {model}", fix
                )
                tokenizer.no_padding()
                tokenizer.no_truncation()
                self._session, self._tokenizer = session, tokenizer
        return self._session, self._tokenizer

    def read(self, question: str, contexts: list[str], per_context: int = 3) -> list[Span]:
        """The best spans of each context for ``question``, all contexts together, best first.

        Example: read("Who wrote it?", ["It was written by Ann Lee in 1990."])
        -> [Span(context=0, start=18, end=25, ...), ...]  ("Ann Lee")
        """
        if not contexts:
            return []
        session, tokenizer = self._load()
        windows = [
            w for c, text in enumerate(contexts) for w in make_windows(tokenizer, question, text, c)
        ]
        start_logits, end_logits = session.run(["start_logits", "end_logits"], batch(windows))
        return collect_spans(windows, start_logits, end_logits, per_context)


@dataclass(frozen=True)
class Window:
    """One model input: ``[CLS] question [SEP] part of a context [SEP]``.

    ``offsets[i]`` is token i's character span in context ``context`` ((0, 0) outside it);
    the context's tokens are ``first .. first + count - 1``.
    """

    context: int
    ids: list[int]
    offsets: list[tuple[int, int]]
    first: int
    count: int


def make_windows(tokenizer: Any, question: str, text: str, context: int = 0) -> list[Window]:
    """Cut ``text`` into overlapping windows after the (cut) question.

    Example: a 600-token context and a 10-token question -> 3 windows of at most 256
    tokens, each sharing ``STRIDE`` tokens with the next.
    """
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    question_ids = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
    enc = tokenizer.encode(text, add_special_tokens=False)
    ids, offsets = enc.ids, enc.offsets
    budget = MAX_TOKENS - len(question_ids) - 3
    first = len(question_ids) + 2
    windows = []
    begin = 0
    while True:
        part_ids, part_offsets = ids[begin : begin + budget], offsets[begin : begin + budget]
        windows.append(
            Window(
                context=context,
                ids=[cls, *question_ids, sep, *part_ids, sep],
                offsets=[(0, 0)] * first + [tuple(o) for o in part_offsets] + [(0, 0)],
                first=first,
                count=len(part_ids),
            )
        )
        if begin + budget >= len(ids):
            return windows
        begin += budget - STRIDE


def batch(windows: list[Window]) -> dict[str, np.ndarray]:
    """Padded model inputs for ``windows`` (segment 1 marks the context and its [SEP])."""
    import numpy as np

    width = max(len(w.ids) for w in windows)
    input_ids = np.zeros((len(windows), width), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    types = np.zeros_like(input_ids)
    for row, w in enumerate(windows):
        input_ids[row, : len(w.ids)] = w.ids
        mask[row, : len(w.ids)] = 1
        types[row, w.first : w.first + w.count + 1] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": types}


def collect_spans(
    windows: list[Window], start_logits: np.ndarray, end_logits: np.ndarray, per_context: int = 3
) -> list[Span]:
    """The best spans of every window, merged per (context, start, end), best first."""
    found: dict[tuple[int, int, int], Span] = {}
    for row, w in enumerate(windows):
        n = len(w.ids)
        in_context = [w.first <= i < w.first + w.count for i in range(n)]
        null = float(start_logits[row, 0] + end_logits[row, 0])
        spans = best_spans(start_logits[row, :n], end_logits[row, :n], w.offsets, in_context)
        for a, b, score in spans[:per_context]:
            key = (w.context, a, b)
            if key not in found or found[key].score < score:
                found[key] = Span(w.context, a, b, score, null)
    return sorted(found.values(), key=lambda s: -s.score)


def reader(folder: Path = READER_DIR) -> Reader:
    """The process-wide reader for ``folder`` (weights load on first ``read``)."""
    return loaded.once("reader", folder, lambda: Reader(folder))
