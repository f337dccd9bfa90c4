"""The llama-index face of retrieval: ``HybridRetriever``, a ``BaseRetriever``.

It plugs the hybrid search into llama-index query engines and tools; ``search``
converts its ``NodeWithScore`` results back into our ``Hit`` records. Importing
this module imports llama-index (~2 s), so the engine's own query path uses
``retrieve.HybridSearch`` directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.config import Settings
from assistant.retrieve import HybridSearch
from assistant.types import Hit

if TYPE_CHECKING:
    from assistant.index import IndexData
    from assistant.models import Embedder, OnnxEncoder


class HybridRetriever(BaseRetriever):
    """llama-index retriever over ``HybridSearch``; node ids are passage ids."""

    def __init__(
        self, index: IndexData, encoder: Embedder | OnnxEncoder, settings: Settings
    ) -> None:
        super().__init__()
        self.hybrid = HybridSearch(index, encoder, settings)
        self._by_id = {p.id: p for p in index.passages}

    def search(self, query: str) -> list[Hit]:
        """Fused hits for ``query`` through llama-index, as our own ``Hit`` records."""
        return [self._hit(n) for n in self.retrieve(query)]

    def _hit(self, node: NodeWithScore) -> Hit:
        meta = node.node.metadata
        return Hit(
            passage=self._by_id[node.node.node_id],
            score=float(node.score or 0.0),
            dense=meta["dense"],
            dense_context=meta["dense_context"],
            lexical=meta["lexical"],
        )

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        nodes = []
        for h in self.hybrid.search(query_bundle.query_str):
            p = h.passage
            metadata = {
                "source": p.source,
                "start": p.start,
                "end": p.end,
                "section": p.section or "",
                "dense": h.dense,
                "dense_context": h.dense_context,
                "lexical": h.lexical,
            }
            node = TextNode(id_=p.id, text=p.text, metadata=metadata)
            nodes.append(NodeWithScore(node=node, score=h.score))
        return nodes
