"""The only chromadb code: build, fingerprint, open and rebuild the passage index.

Layout of ``index/`` (everything but README.md is generated)::

    CURRENT              {"store": "store-<fp12>-<id>", "fingerprint": "..."}, swapped atomically
    .lock                file lock held while building
    store-<fp12>-<id>/   one complete build: chroma/ (PersistentClient) + manifest.json

A build writes a fresh store folder and only then points CURRENT at it, so a
build killed half-way leaves the previous index in use. The fingerprint (corpus
hashes + model + splitter parameters) decides reuse: an unchanged corpus starts
without embedding anything. Non-goals: incremental updates, multi-tenant stores.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.config import Settings
from assistant.errors import AssistantError, CorpusError, IndexStoreError
from assistant.ingest import SPLITTER_VERSION, Document, load_passages
from assistant.models import embedder
from assistant.types import Passage

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

FORMAT = 2
QUERY_ENCODER = "query-encoder.onnx"  # the embedding model exported for torch-free queries
COLLECTIONS = ("context", "sentence")  # what each vector embeds: the window, or the sentence
_clients: dict[str, Any] = {}
_copies: dict[str, str] = {}  # store's chroma folder -> this process's private copy


@dataclass(frozen=True)
class IndexData:
    """An opened index: passages in corpus order and their vectors (row i = passage i)."""

    fingerprint: str
    store: str
    passages: list[Passage]
    context_vectors: np.ndarray
    sentence_vectors: np.ndarray
    collection: Any  # the chromadb collection of context vectors, for dense queries
    query_encoder: Path | None  # ONNX export of the model, None if the export failed


def fingerprint(docs: list[Document], settings: Settings) -> str:
    """Hash of what the index depends on. Example: same corpus and settings -> same hex string."""
    parts = {
        "format": FORMAT,
        "model": settings.model_name,
        "splitter": SPLITTER_VERSION,
        "window": settings.window,
        "query_encoder": "onnx-opset17",
        "vectors": settings.chroma_url or "local",
        "files": sorted((d.source, d.sha256) for d in docs),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def embedding_text(p: Passage) -> str:
    """Text embedded for a passage's context vector: its section, then its window."""
    return f"{p.section}. {p.context}" if p.section and p.kind == "sentence" else p.context


def open_index(
    settings: Settings, *, rebuild: bool = False, strict: bool = False, progress: bool = False
) -> IndexData:
    """The index for the current corpus: reused when its fingerprint matches, else (re)built.

    When the corpus can't be read but a previous index exists, that index is used and
    the problem is logged, so answering goes on; with ``strict`` (an explicit build), or
    without a previous index, the ``CorpusError`` propagates.
    """
    try:
        docs, passages = load_passages(settings.corpus_dir, settings.window)
    except CorpusError as exc:
        current = _read_current(settings.index_dir)
        if rebuild or strict or current is None:
            raise
        log.warning("%s; answering from the previous index", exc)
        return _load_store(settings, current["store"], current["fingerprint"])
    fp = fingerprint(docs, settings)
    current = _read_current(settings.index_dir)
    if not rebuild and current and current.get("fingerprint") == fp:
        try:
            return _load_store(settings, current["store"], fp)
        except IndexStoreError as exc:
            log.warning("index at %s is unusable (%s); rebuilding it", settings.index_dir, exc)
    return _build_locked(settings, passages, fp, rebuild=rebuild, progress=progress)


def _build_locked(
    settings: Settings, passages: list[Passage], fp: str, *, rebuild: bool, progress: bool
) -> IndexData:
    from filelock import FileLock, Timeout

    index_dir = settings.index_dir
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / ".lock"), timeout=600)
        lock.acquire()
    except (OSError, Timeout) as exc:
        raise IndexStoreError(
            f"can't write the index under {index_dir} ({exc}); make it writable "
            "or point ASSISTANT_INDEX_DIR elsewhere"
        ) from None
    try:
        current = _read_current(index_dir)
        # Another process may have finished the same build while we waited for the lock.
        if not rebuild and current and current.get("fingerprint") == fp:
            try:
                return _load_store(settings, current["store"], fp)
            except IndexStoreError:
                pass
        store = f"store-{fp[:12]}-{uuid.uuid4().hex[:8]}"
        log.info("building the index for %d passages into %s", len(passages), index_dir / store)
        _write_store(settings, store, passages, fp, progress)
        _write_current(index_dir, {"store": store, "fingerprint": fp})
        _remove_old_stores(settings, keep=store)
        return _load_store(settings, store, fp)
    finally:
        lock.release()


def _client(settings: Settings, store: str, *, read_only: bool = False) -> Any:
    """The Chroma client holding ``store``'s vectors: local files, or a Chroma server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        key = settings.chroma_url
        if key not in _clients:
            url = urlsplit(settings.chroma_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise IndexStoreError(
                    f"ASSISTANT_CHROMA_URL={settings.chroma_url!r} is not an http(s)://host:port URL"
                )
            try:
                client = chromadb.HttpClient(
                    host=url.hostname,
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
            except Exception as exc:  # connection errors come in many types
                raise IndexStoreError(
                    f"the Chroma server at {settings.chroma_url} can't be reached ({exc}); "
                    "start it (`chroma run --path DIR --port PORT`) or unset ASSISTANT_CHROMA_URL"
                ) from None
            _clients[key] = client
        return _clients[key]
    key = str(settings.index_dir / store / "chroma")
    if read_only:
        # Chroma rewrites its files whenever a client opens them; readers open a private
        # copy so that answering never changes index/ (and works when it is read-only).
        key = _private_copy(Path(key))
    if key not in _clients:
        _clients[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
    return _clients[key]


def _private_copy(store_chroma: Path) -> str:
    """A per-process temporary copy of a finished store's Chroma folder (removed at exit)."""
    if str(store_chroma) not in _copies:
        if not store_chroma.is_dir():
            raise IndexStoreError(f"{store_chroma} is missing")
        target = Path(tempfile.mkdtemp(prefix="assistant-chroma-")) / "chroma"
        atexit.register(shutil.rmtree, target.parent, ignore_errors=True)
        shutil.copytree(store_chroma, target)
        _copies[str(store_chroma)] = str(target)
    return _copies[str(store_chroma)]


def _collection_name(settings: Settings, store: str, name: str) -> str:
    """Local stores hold their own collections; on a server each build gets its own names."""
    return f"{store}-{name}" if settings.chroma_url else name


def _write_store(
    settings: Settings, store: str, passages: list[Passage], fp: str, progress: bool
) -> None:
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    path = settings.index_dir / store
    texts = {
        "context": [embedding_text(p) for p in passages],
        "sentence": [p.text for p in passages],
    }
    model = embedder()
    client = _client(settings, store)  # fails before anything is written if unreachable
    path.mkdir(parents=True, exist_ok=True)
    for name in COLLECTIONS:
        vectors = model.encode(texts[name], progress=progress)
        collection = client.create_collection(
            _collection_name(settings, store, name),
            metadata={"hnsw:space": "cosine"},
            embedding_function=None,
        )
        nodes: list[BaseNode] = [
            TextNode(id_=p.id, text=p.text, metadata=_metadata(p), embedding=v.tolist())
            for p, v in zip(passages, vectors, strict=True)
        ]
        ChromaVectorStore(chroma_collection=collection).add(nodes)
    encoder = _export_query_encoder(model, path / QUERY_ENCODER)
    manifest = {
        "query_encoder": encoder,
        "format": FORMAT,
        "fingerprint": fp,
        "model": settings.model_name,
        "passages": [asdict(p) for p in passages],
    }
    _atomic_write(path / "manifest.json", json.dumps(manifest))


def _export_query_encoder(model: Any, target: Path) -> dict[str, Any] | None:
    """Export the model to ONNX beside the store; on failure queries fall back to torch."""
    try:
        model.export_onnx(target)
    except Exception as exc:  # an exporter failure must not fail the index build
        log.warning("query encoder export failed (%s); queries will load torch", exc)
        target.unlink(missing_ok=True)
        return None
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return {"file": target.name, "bytes": target.stat().st_size, "sha256": digest}


def _metadata(p: Passage) -> dict[str, Any]:
    return {
        "source": p.source,
        "start": p.start,
        "end": p.end,
        "section": p.section or "",
        "kind": p.kind,
        "position": p.position,
    }


def _load_store(settings: Settings, store: str, fp: str) -> IndexData:
    import numpy as np

    path = settings.index_dir / store
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("fingerprint") != fp or manifest.get("format") != FORMAT:
            raise IndexStoreError(f"{path} belongs to another corpus or format")
        passages = [Passage(**p) for p in manifest["passages"]]
        client = _client(settings, store, read_only=True)
        vectors = {}
        ids = [p.id for p in passages]
        for name in COLLECTIONS:
            got = client.get_collection(_collection_name(settings, store, name)).get(
                ids=ids, include=["embeddings"]
            )
            by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
            if len(by_id) != len(ids):
                raise IndexStoreError(f"{path} misses vectors ({len(by_id)} of {len(ids)})")
            vectors[name] = np.asarray([by_id[i] for i in ids], dtype=np.float32)
        collection = client.get_collection(_collection_name(settings, store, "context"))
        encoder = manifest.get("query_encoder")
        query_encoder = path / encoder["file"] if encoder else None
        if query_encoder and (
            not query_encoder.is_file() or query_encoder.stat().st_size != encoder["bytes"]
        ):
            raise IndexStoreError(f"{query_encoder} is missing or truncated")
    except IndexStoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AssistantError) as exc:
        raise IndexStoreError(f"{path} can't be read: {exc}") from None
    except Exception as exc:  # chromadb raises its own error types for a damaged store
        raise IndexStoreError(f"{path} can't be read: {type(exc).__name__}: {exc}") from None
    return IndexData(
        fp, store, passages, vectors["context"], vectors["sentence"], collection, query_encoder
    )


def dense_ranking(index: IndexData, vector: np.ndarray, k: int) -> list[int]:
    """Passage numbers of the ``k`` nearest context vectors, by a Chroma query."""
    try:
        result = index.collection.query(query_embeddings=[vector.tolist()], n_results=k, include=[])
    except Exception as exc:  # chromadb raises its own error types
        raise IndexStoreError(
            f"the vector store failed a query ({exc}); rebuild the index"
        ) from None
    positions = {p.id: i for i, p in enumerate(index.passages)}
    return [positions[i] for i in result["ids"][0] if i in positions]


def _read_current(index_dir: Path) -> dict[str, str] | None:
    try:
        data = json.loads((index_dir / "CURRENT").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("store"), str):
        return None
    return data


def _write_current(index_dir: Path, data: dict[str, str]) -> None:
    _atomic_write(index_dir / "CURRENT", json.dumps(data))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _remove_old_stores(settings: Settings, keep: str) -> None:
    for child in settings.index_dir.glob("store-*"):
        if child.name != keep and child.is_dir():
            _clients.pop(str(child / "chroma"), None)
            shutil.rmtree(child, ignore_errors=True)
    if settings.chroma_url:  # drop this corpus's older builds from the server
        client = _client(settings, keep)
        for collection in client.list_collections():
            name = getattr(collection, "name", collection)
            if name.startswith("store-") and not name.startswith(f"{keep}-"):
                try:
                    client.delete_collection(name)
                except Exception as exc:  # another process may have removed it
                    log.info("could not delete old collection %s: %s", name, exc)
