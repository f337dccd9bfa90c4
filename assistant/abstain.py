"""The learned decision: is a candidate the answer, or does the document not say?

Candidates are the reader's spans and the rule-based answerer's reply. A logistic
regression (trained by ``train/abstainer.py`` on predictions for articles the reader
never saw and on the seed article's cases) scores each one from the reader's scores,
the retrieval evidence, the fit between question and span and whether the rules agree.
Every feature also has a copy that is non-zero only for the rules' reply, so the rules
and the reader are weighed each by their own record. The best-scoring candidate is the
answer when its probability reaches the threshold chosen on held-out articles;
otherwise the assistant abstains. Weights live in ``models/abstainer.json`` as plain
numbers: scoring is a dot product, no ML library.
Non-goals: finding spans (``reader.py``), retrieval (``retrieve.py``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from assistant import loaded
from assistant.config import PROJECT_ROOT
from assistant.errors import ModelError
from assistant.text import tokens

ABSTAINER_FILE = PROJECT_ROOT / "models" / "abstainer.json"

_SHAPES = ("digit", "year", "capital", "lower", "long")
_WH_CLASSES = (
    ("how_many", r"\bhow (?:many|large|big|high|long|old|far)\b"),
    ("how_much", r"\bhow much\b|\b(?:what|which) (?:percentage|amount|number)\b"),
    ("when", r"\bwhen\b|\b(?:what|which) (?:year|month|day|date|century|decade|time)\b"),
    ("who", r"\bwho(?:m|se)?\b"),
    ("where", r"\bwhere\b"),
    ("why", r"\bwhy\b"),
    ("how", r"\bhow\b"),
)
WH_CLASSES = (*(kind for kind, _ in _WH_CLASSES), "which_what")
_YEAR = re.compile(r"\b(1\d{3}|20\d\d)s?\b")
_MONTH = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.I,
)


@dataclass(frozen=True)
class Evidence:
    """What is known about one candidate span when it is scored."""

    question: str
    span: str
    sentence: str  # the sentence holding the span
    window: str  # that sentence with its neighbours
    paragraph: str
    score: float  # reader: start + end logit
    best_score: float  # reader: best score over all candidates of the question
    null: float  # reader: the window's no-answer score
    rank: int  # 0 = the reader's best candidate
    paragraph_rank: int  # 0 = the paragraph of the best retrieved passage
    fused: float  # best fusion score of a retrieved sentence in the paragraph / the top one
    dense: float  # cosine of question and the span's sentence (0 when not retrieved)
    dense_context: float
    lexical: float  # BM25 of the span's sentence / the best BM25 among hits
    rules_answer: str = ""  # the rule-based answerer's reply ("" when it abstained)
    from_rules: bool = False  # this candidate is that reply
    rules_sentence: bool = False  # that reply is a whole sentence, not a short span


def wh_class(question: str) -> str:
    """The kind of answer the question word asks for.

    Example: "How many ships sank?" -> "how_many"; "In what year did it end?" -> "when"
    """
    q = question.lower()
    for kind, pattern in _WH_CLASSES:
        if re.search(pattern, q):
            return kind
    return "which_what"


def span_shapes(span: str) -> dict[str, bool]:
    """Example: "in 1169" -> {"digit": True, "year": True, "capital": False, "lower": True, ...}"""
    words = span.split()
    return {
        "digit": any(ch.isdigit() for ch in span),
        "year": bool(_YEAR.search(span) or _MONTH.search(span)),
        "capital": any(w[:1].isupper() for w in words),
        "lower": all(not w[:1].isupper() for w in words),
        "long": len(words) > 6,
    }


def agreement(a: str, b: str) -> float:
    """F1 of the two texts' content-token sets. Example: ("in May 2023", "May 2023") -> 1.0"""
    ta, tb = set(tokens(a)), set(tokens(b))
    common = len(ta & tb)
    return 2 * common / (len(ta) + len(tb)) if common else 0.0


def share(needles: list[str], haystack: set[str]) -> float:
    """The share of ``needles`` found in ``haystack``. Example: (["a", "b"], {"a"}) -> 0.5"""
    return sum(n in haystack for n in needles) / len(needles) if needles else 0.0


def question_names(text: str) -> list[str]:
    """Capitalised words and numbers after the first word. Example: "When did Bo win 3?" -> ["bo", "3"]"""
    found = re.findall(r"(?<!^)(?<![.?!] )\b(?:[A-Z][\w'-]*|\d[\d,.]*)", text.strip())
    return [w.lower().strip(".,") for w in found]


def features(e: Evidence) -> dict[str, float]:
    """The feature row of one candidate (names match ``models/abstainer.json``)."""
    q_tokens = tokens(e.question)
    sentence_tokens, window_tokens = set(tokens(e.sentence)), set(tokens(e.window))
    span_tokens = tokens(e.span)
    names = question_names(e.question)
    paragraph = e.paragraph.lower()
    row = {
        "score": e.score,
        "margin": e.score - e.best_score,
        "null": e.null,
        "over_null": e.score - e.null,
        "rank": math.log1p(e.rank),
        "paragraph_rank": float(e.paragraph_rank),
        "fused": e.fused,
        "dense": e.dense,
        "dense_context": e.dense_context,
        "lexical": e.lexical,
        "sentence_coverage": share(q_tokens, sentence_tokens),
        "window_coverage": share(q_tokens, window_tokens),
        "span_in_question": share(span_tokens, set(q_tokens)),
        "span_words": math.log1p(len(e.span.split())),
        "names_missing": sum(n not in paragraph for n in names) / max(1, len(names)),
        "any_name_missing": float(any(n not in paragraph for n in names)),
    }
    wh = wh_class(e.question)
    shapes = span_shapes(e.span)
    for w in WH_CLASSES:
        row[f"wh_{w}"] = float(wh == w)
        for s in _SHAPES:
            row[f"wh_{w}*{s}"] = float(wh == w and shapes[s])
    row["rules_agree"] = agreement(e.span, e.rules_answer) if e.rules_answer else 0.0
    row["rules_abstained"] = float(not e.rules_answer)
    row["rules_sentence"] = float(e.rules_sentence)
    if e.from_rules:
        row.update({f"rules*{name}": value for name, value in row.items()})
    row["from_rules"] = float(e.from_rules)
    return row


class Abstainer:
    """Probability that a candidate is the answer, from ``models/abstainer.json``."""

    def __init__(
        self,
        weights: dict[str, float],
        bias: float,
        threshold: float,
        mean: dict[str, float],
        scale: dict[str, float],
    ) -> None:
        self.weights, self.bias, self.threshold = weights, bias, threshold
        self.mean, self.scale = mean, scale

    @classmethod
    def load(cls, path: Path = ABSTAINER_FILE) -> Abstainer:
        """Read the weights; a missing or damaged file is a ``ModelError`` naming it."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                weights={k: float(v) for k, v in raw["weights"].items()},
                bias=float(raw["bias"]),
                threshold=float(raw["threshold"]),
                mean={k: float(v) for k, v in raw["mean"].items()},
                scale={k: float(v) for k, v in raw["scale"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(
                f"the abstainer model {path} is missing or damaged ({exc}); restore it "
                "from git or retrain it with `make train`"
            ) from None
        if not all(
            math.isfinite(v) for v in [*model.weights.values(), model.bias, model.threshold]
        ):
            raise ModelError(f"the abstainer model {path} holds non-finite numbers; `make train`")
        return model

    def probability(self, row: dict[str, float]) -> float:
        """sigmoid(bias + sum of weight * standardised feature)."""
        return logistic(row, self.weights, self.bias, self.mean, self.scale)


def logistic(
    row: dict[str, float],
    weights: dict[str, float],
    bias: float,
    mean: dict[str, float],
    scale: dict[str, float],
) -> float:
    """A fitted logistic regression's probability for a feature row (missing features are 0).

    Example: ({"x": 2.0}, {"x": 1.0}, 0.0, {"x": 1.0}, {"x": 1.0}) -> sigmoid(1.0) = 0.731
    """
    z = bias
    for name, w in weights.items():
        z += w * (row.get(name, 0.0) - mean.get(name, 0.0)) / (scale.get(name) or 1.0)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def abstainer(path: Path = ABSTAINER_FILE) -> Abstainer:
    """The process-wide abstainer for ``path`` (read once)."""
    return loaded.once("abstainer", path, lambda: Abstainer.load(path))
