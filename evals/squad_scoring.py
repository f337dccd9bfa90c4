"""Official SQuAD 2.0 scoring and data loading (Rajpurkar, Jia & Liang 2018).

Pure apart from reading the JSON file; standard library only. Rules: lowercase, strip
punctuation and the articles a/an/the, collapse whitespace; exact match and token F1,
each the maximum over the gold answers; an unanswerable question is right only when the
prediction is empty, and an empty prediction on an answerable one scores 0.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path
from typing import Any

SPLIT_FILE = Path(__file__).resolve().parent / "squad_split.json"
_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """SQuAD's normalisation. Example: "The  Normans!" -> "normans"."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", s).split())


def _f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def squad_em_f1(prediction: str, golds: list[str]) -> tuple[float, float]:
    """(exact match, F1) of one prediction, maximised over the golds ([] = unanswerable).

    Example: ("in 1169", ["1169"]) -> (0.0, 0.667); ("", []) -> (1.0, 1.0)
    """
    if not golds:
        return (1.0, 1.0) if not normalize_answer(prediction) else (0.0, 0.0)
    em = max(float(normalize_answer(prediction) == normalize_answer(g)) for g in golds)
    return em, max(_f1(prediction, g) for g in golds)


def load_articles(path: Path, titles: list[str] | None = None) -> list[dict[str, Any]]:
    """The articles of a SQuAD JSON file, in ``titles`` order when given."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    if titles is None:
        return data
    by_title = {a["title"]: a for a in data}
    missing = [t for t in titles if t not in by_title]
    if missing:
        raise ValueError(f"{path} has no article {', '.join(missing)}; see --articles")
    return [by_title[t] for t in titles]


def load_split(path: Path = SPLIT_FILE) -> dict[str, list[str]]:
    """Article titles by role: {"train": [...], "dev": [...], "test": [...]}."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: raw[k] for k in ("train", "dev", "test")}
