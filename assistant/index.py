"""Build, fingerprint, open and update the passage index (its Chroma clients: chroma.py).

Layout of ``index/`` (everything but README.md is generated)::

    CURRENT              {"store": "store-<fp12>-<id>", "fingerprint": "..."}, swapped atomically
    .lock                file lock held while building
    store-<fp12>-<id>/   one complete build: chroma/ (PersistentClient), manifest.json,
                         text/<source>.txt (each document's text, which citations index into)
                         and the ONNX query encoder

A build writes a fresh store folder and only then points CURRENT at it, so a build
killed half-way leaves the previous index in use. The fingerprint (file hashes + model +
splitter parameters) decides reuse: an unchanged corpus starts without embedding
anything. A changed corpus is built incrementally: documents whose bytes are unchanged
keep their passages, vectors and text from the previous store, and only new or changed
documents are read and embedded. A file that can't be read is skipped with a message
naming it; the rest is indexed. Non-goals: multi-tenant stores, partial updates in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import chroma, loaded
from assistant.config import Settings
from assistant.errors import AssistantError, CorpusError, IndexStoreError
from assistant.ingest import (
    SPLITTER_VERSION,
    CorpusFile,
    Document,
    passages_from_document,
    read_document,
    scan_corpus,
)
from assistant.models import embedder, embedder_identity, onnx_encoder
from assistant.ocr import Progress, ocr_options
from assistant.types import DocumentInfo, Library, Passage, Skipped

if TYPE_CHECKING:
    import numpy as np

    from assistant.models import Embedder, OnnxEncoder

log = logging.getLogger(__name__)

FORMAT = 3
QUERY_ENCODER = "query-encoder.onnx"  # the embedding model exported for torch-free queries
COLLECTIONS = ("context", "sentence")  # what each vector embeds: the window, or the sentence
TEXTS = "text"  # folder of a store holding each document's text
LIBRARY = "library.json"  # a store's documents and skipped files, small enough to read often
LOCK_TIMEOUT = 600.0  # seconds to wait for another build to finish


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
    documents: tuple[DocumentInfo, ...] = ()
    skipped: tuple[Skipped, ...] = ()  # corpus files left out, with the reason

    @cached_property
    def rows(self) -> dict[str, int]:
        """Passage id -> its row in ``passages`` and the vector arrays."""
        return {p.id: i for i, p in enumerate(self.passages)}


def settings_fingerprint(settings: Settings) -> str:
    """Hash of the settings a store depends on; stores with equal ones share vectors."""
    parts = {
        "format": FORMAT,
        "model": settings.model_name,
        "weights": embedder_identity(),
        "splitter": SPLITTER_VERSION,
        "window": settings.window,
        "query_encoder": "onnx-opset17",
        "vectors": settings.chroma_url or "local",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def fingerprint(files: list[CorpusFile], settings: Settings) -> str:
    """Hash of what the index depends on. Example: same files and settings -> same hex string."""
    parts = {
        "settings": settings_fingerprint(settings),
        "files": sorted((f.source, f.sha256, f.problem or "") for f in files),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def embedding_text(p: Passage) -> str:
    """Text embedded for a passage's context vector: its section, then its window."""
    return f"{p.section}. {p.context}" if p.section and p.kind == "sentence" else p.context


def open_index(
    settings: Settings,
    *,
    rebuild: bool = False,
    strict: bool = False,
    progress: bool = False,
    on_page: Progress | None = None,
) -> IndexData:
    """The index for the current corpus: reused when its fingerprint matches, else (re)built.

    When the corpus folder can't be read but a previous index exists, that index is used
    and the problem is logged, so answering goes on; with ``strict`` (an explicit build),
    or without a previous index, the ``CorpusError`` propagates. A single unreadable file
    is skipped with a warning naming it (``IndexData.skipped``).
    """
    try:
        files = scan_corpus(settings.corpus_dir)
    except CorpusError as exc:
        current = read_current(settings.index_dir)
        if rebuild or strict or current is None:
            raise
        log.warning("%s; answering from the previous index", exc)
        return _load_store(settings, current["store"], current["fingerprint"])
    fp = fingerprint(files, settings)
    current = read_current(settings.index_dir)
    damaged = False  # nothing in a damaged store is reused
    if not rebuild and current and current.get("fingerprint") == fp:
        try:
            return _load_store(settings, current["store"], fp)
        except IndexStoreError as exc:
            log.warning("index at %s is unusable (%s); rebuilding it", settings.index_dir, exc)
            damaged = True
    with index_lock(settings):
        current = read_current(settings.index_dir)
        # Another process may have finished the same build while we waited for the lock.
        if not rebuild and current and current.get("fingerprint") == fp:
            try:
                return _load_store(settings, current["store"], fp)
            except IndexStoreError:
                pass
        try:
            store, fp = build(
                settings,
                files,
                incremental=not (rebuild or damaged),
                progress=progress,
                on_page=on_page,
            )
            return _load_store(settings, store, fp)
        except CorpusError as exc:  # not one document can be read any more
            if rebuild or strict or current is None:
                raise
            log.warning("%s; answering from the previous index", exc)
            return _load_store(settings, current["store"], current["fingerprint"])


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    """Hold the index folder's build lock (one build or corpus change at a time)."""
    from filelock import FileLock, Timeout

    index_dir = settings.index_dir
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / ".lock"), timeout=LOCK_TIMEOUT)
        lock.acquire()
    except (OSError, Timeout) as exc:
        raise IndexStoreError(
            f"can't write the index under {index_dir} ({exc}); make it writable "
            "or point ASSISTANT_INDEX_DIR elsewhere"
        ) from None
    try:
        yield
    finally:
        lock.release()


def build(
    settings: Settings,
    files: list[CorpusFile],
    *,
    incremental: bool = True,
    progress: bool = False,
    read: dict[str, Document] | None = None,
    on_page: Progress | None = None,
) -> tuple[str, str]:
    """Build a store for ``files`` and make it current; the caller holds ``index_lock``.

    With ``incremental``, documents unchanged since the current store keep its passages,
    vectors and text; only the others are read and embedded (``read``: documents already
    read from these very files, as an add has). Returns (store, fingerprint).
    """
    fp = fingerprint(files, settings)
    store = f"store-{fp[:12]}-{uuid.uuid4().hex[:8]}"
    previous = _previous_store(settings) if incremental else None
    log.info("building the index for %d files into %s", len(files), settings.index_dir / store)
    try:
        _write_store(settings, store, files, fp, previous, progress, read or {}, on_page)
    except (CorpusError, KeyboardInterrupt):
        _discard(settings, store)
        raise
    except Exception as exc:
        _discard(settings, store)
        if previous is None:
            raise
        # The previous store could not be reused (damaged?): embed everything afresh.
        log.warning("could not reuse %s (%s); building from scratch", previous.store, exc)
        _write_store(settings, store, files, fp, None, progress, read or {}, on_page)
    _write_current(settings.index_dir, {"store": store, "fingerprint": fp})
    _remove_old_stores(settings, keep=store)
    return store, fp


def _discard(settings: Settings, store: str) -> None:
    chroma.close_writer(settings, store)
    shutil.rmtree(settings.index_dir / store, ignore_errors=True)


@dataclass(frozen=True)
class _Previous:
    """The current store, when its vectors can be reused by the next build."""

    store: str
    manifest: dict[str, Any]

    def documents(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(d["source"], d["sha256"]): d for d in self.manifest["documents"]}

    @cached_property
    def by_source(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for p in self.manifest["passages"]:
            grouped.setdefault(p["source"], []).append(p)
        return grouped

    def passages(self, source: str) -> list[Passage]:
        return [Passage(**p) for p in self.by_source.get(source, [])]


def _previous_store(settings: Settings) -> _Previous | None:
    current = read_current(settings.index_dir)
    if current is None:
        return None
    path = settings.index_dir / current["store"]
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or manifest.get("settings") != settings_fingerprint(settings)
        or (not settings.chroma_url and not (path / "chroma").is_dir())
    ):
        return None
    return _Previous(current["store"], manifest)


def release(settings: Settings, store: str) -> None:
    """Forget an opened store in this process: its query encoder, client and private copy."""
    folder = settings.index_dir / store
    for path in loaded.keys("query encoder"):
        if isinstance(path, Path) and path.parent == folder:
            loaded.forget("query encoder", path)
    chroma.release(settings, store)


def _write_store(
    settings: Settings,
    store: str,
    files: list[CorpusFile],
    fp: str,
    previous: _Previous | None,
    progress: bool,
    read: dict[str, Document],
    on_page: Progress | None,
) -> None:
    path = settings.index_dir / store
    ocr = ocr_options(settings.index_dir, on_page)
    reusable = previous.documents() if previous else {}
    documents: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    passages: list[Passage] = []
    fresh: list[Passage] = []  # passages to embed
    texts: dict[str, str | Path] = {}  # source -> new text, or the previous store's text file
    for f in files:
        old = reusable.get((f.source, f.sha256))
        if old is not None and previous is not None:
            passages.extend(previous.passages(f.source))
            documents.append(old)
            texts[f.source] = settings.index_dir / previous.store / old["text"]
            continue
        try:
            if f.problem:
                raise CorpusError(f.problem)
            known = read.get(f.source)
            doc = (
                known
                if known and known.sha256 == f.sha256
                else read_document(f.path, settings.corpus_dir, f.source, ocr)
            )
        except CorpusError as exc:
            log.warning("%s", exc)
            skipped.append(Skipped(f.source, str(exc)))
            continue
        own = passages_from_document(doc, settings.window)
        passages.extend(own)
        fresh.extend(own)
        documents.append(_document_entry(doc, own))
        texts[doc.source] = doc.text
    if not documents:
        reasons = "; ".join(s.reason for s in skipped)
        raise CorpusError(f"no document in {settings.corpus_dir} could be indexed: {reasons}")
    path.mkdir(parents=True, exist_ok=True)
    _write_texts(path, texts)
    kept = {p.id for p in passages} - {p.id for p in fresh}
    encoder = _reuse_query_encoder(settings, previous, path) or _export_query_encoder(
        embedder(), path / QUERY_ENCODER
    )
    # Passages are embedded by the ONNX export the queries use (torch only when it failed),
    # so an incremental build needs no torch and gives a full rebuild's vectors exactly.
    model = onnx_encoder(path / encoder["file"]) if encoder else embedder()
    _write_vectors(settings, store, previous, kept, fresh, model, progress)
    manifest = {
        "query_encoder": encoder,
        "format": FORMAT,
        "fingerprint": fp,
        "settings": settings_fingerprint(settings),
        "model": settings.model_name,
        "documents": documents,
        "skipped": [asdict(s) for s in skipped],
        "passages": [vars(p) for p in passages],  # flat dataclasses; asdict's deep copy is slow
    }
    _atomic_write(
        path / LIBRARY, json.dumps({"documents": documents, "skipped": manifest["skipped"]})
    )
    _atomic_write(path / "manifest.json", json.dumps(manifest))


def read_library(settings: Settings) -> Library | None:
    """The current store's documents and skipped files, without opening it (None if none)."""
    current = read_current(settings.index_dir)
    if current is None:
        return None
    try:
        data = json.loads((settings.index_dir / current["store"] / LIBRARY).read_text("utf-8"))
        return Library(
            [_document_info(d) for d in data["documents"]], [Skipped(**s) for s in data["skipped"]]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stored_text(settings: Settings, source: str) -> str:
    """The current store's text of ``source``; ``CorpusError`` when there is no such document."""
    current = read_current(settings.index_dir)
    folder = (settings.index_dir / (current or {}).get("store", "missing") / TEXTS).resolve()
    path = (folder / f"{source}.txt").resolve()
    try:
        if not path.is_relative_to(folder):
            raise OSError("outside the index")
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise CorpusError(
            f"no document named {source!r} in the index; `assistant documents` lists them"
        ) from None


def _document_info(d: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        source=d["source"],
        kind=d["kind"],
        chars=d["chars"],
        passages=d["passages"],
        pages=len(d["pages"]),
        sha256=d["sha256"],
        ocr_pages=tuple(d.get("ocr_pages", ())),
        ocr_confidence=tuple(d.get("ocr_confidence", ())),
    )


def _document_entry(doc: Document, passages: list[Passage]) -> dict[str, Any]:
    return {
        "source": doc.source,
        "sha256": doc.sha256,
        "kind": doc.kind,
        "chars": len(doc.text),
        "pages": list(doc.pages),
        "ocr_pages": list(doc.ocr_pages),
        "ocr_confidence": list(doc.ocr_confidence),
        "passages": len(passages),
        "text": f"{TEXTS}/{doc.source}.txt",
    }


def _write_texts(path: Path, texts: dict[str, str | Path]) -> None:
    """Each document's text under ``text/``, exactly as its offsets expect (no newline changes)."""
    for source, text in texts.items():
        target = path / TEXTS / f"{source}.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, Path):
            _link_or_copy(text, target)
        else:
            target.write_bytes(text.encode("utf-8"))


def _link_or_copy(source: Path, target: Path) -> None:
    """Share an unchanged file with the previous store (a hard link, else a copy)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_vectors(
    settings: Settings,
    store: str,
    previous: _Previous | None,
    kept: set[str],
    fresh: list[Passage],
    model: Embedder | OnnxEncoder,
    progress: bool,
) -> None:
    """The store's collections: the previous store's vectors for ``kept``, new ones for ``fresh``."""
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    path = settings.index_dir / store
    if previous and kept and not settings.chroma_url:
        # A copy of the previous local store, minus what changed: no vector is re-embedded.
        shutil.copytree(settings.index_dir / previous.store / "chroma", path / "chroma")
    client = chroma.client(settings, store)  # fails before anything is embedded if unreachable
    texts = {
        "context": [embedding_text(p) for p in fresh],
        "sentence": [p.text for p in fresh],
    }
    for name in COLLECTIONS:
        collection = _fresh_collection(settings, store, previous, kept, name, client)
        if not fresh:
            continue
        vectors = model.encode(texts[name], progress=progress)
        nodes: list[BaseNode] = [
            TextNode(id_=p.id, text=p.text, metadata=_metadata(p), embedding=v.tolist())
            for p, v in zip(fresh, vectors, strict=True)
        ]
        store_nodes = ChromaVectorStore(chroma_collection=collection)
        size = chroma.batch_size(client)
        for i in range(0, len(nodes), size):  # Chroma refuses larger batches
            store_nodes.add(nodes[i : i + size])


def _fresh_collection(
    settings: Settings,
    store: str,
    previous: _Previous | None,
    kept: set[str],
    name: str,
    client: Any,
) -> Any:
    """Collection ``name`` of the new store, holding exactly the ``kept`` vectors."""
    own = chroma.collection_name(settings, store, name)
    if previous and kept and not settings.chroma_url:  # the copied store: drop what changed
        collection = client.get_collection(own, embedding_function=None)
        old_ids = [p["id"] for p in previous.manifest["passages"]]
        chroma.in_batches(
            client, [i for i in old_ids if i not in kept], lambda ids: collection.delete(ids=ids)
        )
        return collection
    collection = client.create_collection(
        own, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    if previous and kept:  # a Chroma server: copy the kept vectors across collections
        source = client.get_collection(
            chroma.collection_name(settings, previous.store, name), embedding_function=None
        )

        def copy(ids: list[str]) -> None:
            got = source.get(ids=ids, include=["embeddings", "documents", "metadatas"])
            collection.add(
                ids=got["ids"],
                embeddings=got["embeddings"],
                documents=got["documents"],
                metadatas=got["metadatas"],
            )

        chroma.in_batches(client, sorted(kept), copy)
    return collection


def _reuse_query_encoder(
    settings: Settings, previous: _Previous | None, path: Path
) -> dict[str, Any] | None:
    """The previous store's ONNX export, shared when it is intact (same settings, same model)."""
    entry = previous.manifest.get("query_encoder") if previous else None
    if not entry or previous is None:
        return None
    old = settings.index_dir / previous.store / entry["file"]
    if not old.is_file() or old.stat().st_size != entry["bytes"]:
        return None
    _link_or_copy(old, path / entry["file"])
    return dict(entry)


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
        client = chroma.client(settings, store, read_only=True)
        vectors = {}
        ids = [p.id for p in passages]
        for name in COLLECTIONS:
            got = client.get_collection(chroma.collection_name(settings, store, name)).get(
                ids=ids, include=["embeddings"]
            )
            by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
            if len(by_id) != len(ids):
                raise IndexStoreError(f"{path} misses vectors ({len(by_id)} of {len(ids)})")
            vectors[name] = np.asarray([by_id[i] for i in ids], dtype=np.float32)
        collection = client.get_collection(chroma.collection_name(settings, store, "context"))
        encoder = manifest.get("query_encoder")
        query_encoder = path / encoder["file"] if encoder else None
        if query_encoder and (
            not query_encoder.is_file() or query_encoder.stat().st_size != encoder["bytes"]
        ):
            raise IndexStoreError(f"{query_encoder} is missing or truncated")
        documents = tuple(_document_info(d) for d in manifest["documents"])
        for d in manifest["documents"]:
            if not (path / d["text"]).is_file():
                raise IndexStoreError(f"{path / d['text']} is missing")
        skipped = tuple(Skipped(**s) for s in manifest.get("skipped", []))
    except IndexStoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AssistantError) as exc:
        raise IndexStoreError(f"{path} can't be read: {exc}") from None
    except Exception as exc:  # chromadb raises its own error types for a damaged store
        raise IndexStoreError(f"{path} can't be read: {type(exc).__name__}: {exc}") from None
    return IndexData(
        fp,
        store,
        passages,
        vectors["context"],
        vectors["sentence"],
        collection,
        query_encoder,
        documents,
        skipped,
    )


def dense_ranking(index: IndexData, vector: np.ndarray, k: int) -> list[int]:
    """Passage numbers of the ``k`` nearest context vectors, by a Chroma query."""
    try:
        result = index.collection.query(query_embeddings=[vector.tolist()], n_results=k, include=[])
    except Exception as exc:  # chromadb raises its own error types
        raise IndexStoreError(
            f"the vector store failed a query ({exc}); rebuild the index"
        ) from None
    rows = index.rows
    return [rows[i] for i in result["ids"][0] if i in rows]


def read_current(index_dir: Path) -> dict[str, str] | None:
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
            chroma.close_writer(settings, child.name)
            shutil.rmtree(child, ignore_errors=True)
    chroma.drop_other_builds(settings, keep)
