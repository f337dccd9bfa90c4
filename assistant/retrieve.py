"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by reciprocal rank fusion.

Three ranked lists are fused: the query against each passage's context vector
(a Chroma query), against its sentence vector, and BM25 over the sentence with its
section heading. ``HybridSearch`` is the engine's query path and imports no
llama-index (its import alone costs ~2 s of a cold start); ``assistant.llama``
wraps it as a llama-index ``BaseRetriever`` for query engines.
Non-goals: answer-type reranking (answer.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from assistant.config import Settings
from assistant.index import dense_ranking
from assistant.models import english_words
from assistant.question import question_words
from assistant.text import Vocabulary, tokens
from assistant.types import Hit

if TYPE_CHECKING:
    from assistant.index import IndexData
    from assistant.models import Embedder, OnnxEncoder


def rrf(rankings: list[list[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion. Example: [[0, 1], [1, 2]] -> {1: 1/61 + 1/62, 0: 1/61, 2: 1/62}"""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return scores


def top(scores: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` highest scores, best first. Example: ([0.1, 0.9, 0.5], 2) -> [1, 2]"""
    if k >= len(scores):
        return [int(i) for i in np.argsort(-scores, kind="stable")]
    best = np.argpartition(-scores, k)[:k]
    return [int(i) for i in best[np.argsort(-scores[best], kind="stable")]]


class HybridSearch:
    """Fused dense + BM25 search over an opened index."""

    def __init__(
        self, index: IndexData, encoder: Embedder | OnnxEncoder, settings: Settings
    ) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.vocabulary = Vocabulary(
            [*(p.text for p in index.passages), *question_words()], known=english_words()
        )
        corpus_tokens = [
            tokens(f"{p.text} {p.section or ''}") or ["_empty_"] for p in index.passages
        ]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus_tokens, show_progress=False)

    def search(self, query: str) -> list[Hit]:
        """Fused hits for ``query``, best first (each retriever contributes ``top_k``)."""
        n = len(self.index.passages)
        k = min(self.settings.top_k, n)
        vector = self.encoder.encode([query])[0]
        dense_context_rank = dense_ranking(self.index, vector, k)
        dense = self.index.sentence_vectors @ vector
        dense_rank = top(dense, k)
        query_tokens = tokens(query)
        lexical = np.asarray(self._bm25.get_scores(query_tokens)) if query_tokens else np.zeros(n)
        lexical_rank = [i for i in top(lexical, k) if lexical[i] > 0]
        fused = rrf([dense_context_rank, dense_rank, lexical_rank], self.settings.rrf_k)
        order = sorted(fused, key=lambda i: -fused[i])
        # Context cosines only for the fused few: the whole matrix is a memory-bound read.
        dense_context = self.index.context_vectors[order] @ vector
        return [
            Hit(
                passage=self.index.passages[i],
                score=fused[i],
                dense=float(dense[i]),
                dense_context=float(c),
                lexical=float(lexical[i]),
            )
            for i, c in zip(order, dense_context, strict=True)
        ]
