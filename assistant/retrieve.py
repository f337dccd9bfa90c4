"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by reciprocal rank fusion.

``HybridRetriever`` is a llama-index ``BaseRetriever``, so it plugs into llama-index
query engines; its ``search`` converts the ``NodeWithScore`` results into our own
``Hit`` records. This module imports llama-index: import it lazily. Three ranked lists are fused: the query against each passage's
context vector (through Chroma), against its sentence vector, and BM25 over the
sentence with its section heading. Non-goals: answer-type reranking (answer.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from assistant.config import Settings
from assistant.models import Embedder
from assistant.question import question_words
from assistant.text import Vocabulary, tokens
from assistant.types import Passage

if TYPE_CHECKING:
    from assistant.index import IndexData


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its fused score and the signals behind it."""

    passage: Passage
    score: float  # reciprocal rank fusion score
    dense: float  # cosine of the query with the sentence vector
    dense_context: float  # cosine of the query with the context vector
    lexical: float  # BM25 score, 0 when no query term occurs


def rrf(rankings: list[list[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion. Example: [[0, 1], [1, 2]] -> {1: 1/61 + 1/62, 0: 1/61, 2: 1/62}"""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return scores


class HybridRetriever(BaseRetriever):
    """llama-index retriever fusing dense and BM25 rankings; node ids are passage ids."""

    def __init__(self, index: IndexData, embedder: Embedder, settings: Settings) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        super().__init__()
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.vocabulary = Vocabulary([*(p.text for p in index.passages), *question_words()])
        self._by_id = {p.id: (i, p) for i, p in enumerate(index.passages)}
        corpus_tokens = [
            tokens(f"{p.text} {p.section or ''}") or ["_empty_"] for p in index.passages
        ]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus_tokens, show_progress=False)

    def search(self, query: str) -> list[Hit]:
        """Fused hits for ``query``, best first, as our own ``Hit`` records."""
        return [self._hit(n) for n in self.retrieve(query)]

    def _hit(self, node: NodeWithScore) -> Hit:
        meta = node.node.metadata
        return Hit(
            passage=self._by_id[node.node.node_id][1],
            score=float(node.score or 0.0),
            dense=meta["dense"],
            dense_context=meta["dense_context"],
            lexical=meta["lexical"],
        )

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        n = len(self.index.passages)
        k = min(self.settings.top_k, n)
        vector = self.embedder.encode([query_bundle.query_str])[0]
        result = self.index.vector_store.query(
            VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k)
        )
        dense_context_rank = [self._by_id[i][0] for i in result.ids or [] if i in self._by_id]
        dense = self.index.sentence_vectors @ vector
        dense_context = self.index.context_vectors @ vector
        dense_rank = [int(i) for i in np.argsort(-dense)[:k]]
        query_tokens = tokens(query_bundle.query_str)
        lexical = np.asarray(self._bm25.get_scores(query_tokens)) if query_tokens else np.zeros(n)
        lexical_rank = [int(i) for i in np.argsort(-lexical)[:k] if lexical[i] > 0]
        fused = rrf([dense_context_rank, dense_rank, lexical_rank], self.settings.rrf_k)
        nodes = []
        for i in sorted(fused, key=lambda i: -fused[i]):
            p = self.index.passages[i]
            metadata = {
                "source": p.source,
                "start": p.start,
                "end": p.end,
                "section": p.section or "",
                "dense": float(dense[i]),
                "dense_context": float(dense_context[i]),
                "lexical": float(lexical[i]),
            }
            node = TextNode(id_=p.id, text=p.text, metadata=metadata)
            nodes.append(NodeWithScore(node=node, score=fused[i]))
        return nodes
