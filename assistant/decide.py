"""The cascade's decisions: read with the language model or not, then answer or abstain.

Routing uses the fast answerer's confidence (its best candidate's probability from
``abstain.py``): at or above ``fast_sure`` the fast answer stands, below ``fast_none``
the documents are taken not to cover the question; in between the language model
reads. Its quote is then scored by a logistic regression over ``Signals`` (the model
declined or quoted, how sure it was of its first token and of each token of its reply,
its "stated?" answer, how much of the question the quote's sentence holds, how the quote
agrees with the fast answerer's and the rules', where it was found): it answers at or
above ``threshold``; otherwise the fast answer stands when its confidence reaches
``fast_fallback``, else the assistant abstains. Every number is fitted by
``train/decider.py`` on articles the reader never saw and stored in
``models/decider.json``; scoring is a dot product.
Non-goals: reading (``llm_reader``), the fast answerer's own decision (``abstain``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant import loaded
from assistant.abstain import agreement, logistic, question_names, share, wh_class
from assistant.config import PROJECT_ROOT
from assistant.errors import ModelError
from assistant.text import tokens

DECIDER_FILE = PROJECT_ROOT / "models" / "decider.json"
Route = Literal["fast", "llm", "abstain"]


@dataclass(frozen=True)
class Signals:
    """What is known about the language model's quote when it is judged."""

    question: str
    quote: str  # the located span ("" when it declined or quoted nothing found)
    declined: bool
    similarity: float  # of the quote to the located span (1.0 exact, 0 when none)
    p_decline: float  # first token starts "unanswerable"
    p_stated: float  # "yes" to "Do the passages explicitly state the answer?"
    token_probs: tuple[float, ...]  # the probability of each token of the model's reply
    piece_rank: int  # 0 = the quote is in the best retrieved piece
    read: str  # all the text it read
    fast_confidence: float
    fast_answer: str  # the fast answerer's best candidate ("" when it has none)
    rules_answer: str  # "" when the rules abstained
    top_dense: float  # cosine of the question and the best hit
    sentence: str  # the sentence holding the quote ("" when there is no quote)


def features(s: Signals) -> dict[str, float]:
    """The feature row of a quote (names match ``models/decider.json``)."""
    quoted = bool(s.quote)
    reply = s.token_probs if quoted else ()  # how sure it was of a quote's tokens
    q_tokens = sorted(set(tokens(s.question)))
    quote_tokens = tokens(s.quote)
    names = question_names(s.question)
    read = s.read.lower()
    wh = wh_class(s.question)
    return {
        "quoted": float(quoted),
        "declined": float(s.declined),
        "similarity": s.similarity,
        "p_decline": s.p_decline,
        "p_stated": s.p_stated,
        "logit_stated": _logit(s.p_stated),
        "reply_p_min": min(reply) if reply else 0.0,
        "reply_p_mean": (
            math.exp(sum(math.log(max(p, 1e-9)) for p in reply) / len(reply)) if reply else 0.0
        ),
        "piece_rank": math.log1p(s.piece_rank) if quoted else 0.0,
        "quote_words": math.log1p(len(s.quote.split())),
        "sentence_coverage": share(q_tokens, set(tokens(s.sentence))) if quoted else 0.0,
        "quote_in_question": share(quote_tokens, set(q_tokens)),
        "fast_confidence": s.fast_confidence,
        "agree_fast": agreement(s.quote, s.fast_answer) if quoted and s.fast_answer else 0.0,
        "agree_rules": agreement(s.quote, s.rules_answer) if quoted and s.rules_answer else 0.0,
        "rules_abstained": float(not s.rules_answer),
        "names_missing": sum(n not in read for n in names) / max(1, len(names)),
        "top_dense": s.top_dense,
        "wh_why_how": float(wh in ("why", "how")),
        "wh_number": float(wh in ("how_many", "how_much", "when")),
    }


def _logit(p: float) -> float:
    p = min(1 - 1e-6, max(1e-6, p))
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Decider:
    """The fitted routing thresholds and the quote's logistic regression."""

    weights: dict[str, float]
    bias: float
    mean: dict[str, float]
    scale: dict[str, float]
    threshold: float  # answer with the quote at or above this probability
    fast_sure: float  # route: the fast answer stands at or above this confidence
    fast_none: float  # route: abstain without reading below this confidence
    fast_fallback: float  # after reading: the fast answer stands at or above this

    @classmethod
    def load(cls, path: Path = DECIDER_FILE) -> Decider:
        """Read ``models/decider.json``; a missing or damaged file is a ``ModelError``."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                weights={k: float(v) for k, v in raw["weights"].items()},
                bias=float(raw["bias"]),
                mean={k: float(v) for k, v in raw["mean"].items()},
                scale={k: float(v) for k, v in raw["scale"].items()},
                threshold=float(raw["threshold"]),
                fast_sure=float(raw["fast_sure"]),
                fast_none=float(raw["fast_none"]),
                fast_fallback=float(raw["fast_fallback"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(
                f"the decider model {path} is missing or damaged ({exc}); restore it from git "
                "or refit it with `make train`"
            ) from None
        numbers = [*model.weights.values(), model.bias, model.threshold, model.fast_sure]
        if not all(math.isfinite(v) for v in numbers):
            raise ModelError(f"the decider model {path} holds non-finite numbers; `make train`")
        return model

    def route(self, fast_confidence: float) -> Route:
        """Example: with fast_sure 0.8 and fast_none 0.02: 0.9 -> "fast", 0.3 -> "llm", 0.01 -> "abstain"."""
        if fast_confidence >= self.fast_sure:
            return "fast"
        if fast_confidence < self.fast_none:
            return "abstain"
        return "llm"

    def probability(self, row: dict[str, float]) -> float:
        """sigmoid(bias + sum of weight * standardised feature)."""
        return logistic(row, self.weights, self.bias, self.mean, self.scale)


def decider(path: Path = DECIDER_FILE) -> Decider:
    """The process-wide decider for ``path`` (read once)."""
    return loaded.once("decider", path, lambda: Decider.load(path))
