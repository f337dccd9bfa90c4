"""The Chroma clients behind the index: a store's local files, a private copy, or a server.

A store's vectors live in ``index/store-*/chroma/`` (a ``PersistentClient``), or on the
Chroma server at ``ASSISTANT_CHROMA_URL``, where each build's collections carry the
store's name. Clients are opened once per process (``assistant.loaded``); readers open a
private copy of a local store so that answering never writes to ``index/``.

    >>> client(settings, "store-0123abcd-1", read_only=True)  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assistant import loaded
from assistant.config import Settings
from assistant.errors import IndexStoreError

log = logging.getLogger(__name__)

MAX_BATCH = 5000  # ids per call, below Chroma's own limit on every backend seen


def client(settings: Settings, store: str, *, read_only: bool = False) -> Any:
    """The Chroma client holding ``store``'s vectors: local files, or a Chroma server."""
    if settings.chroma_url:
        return loaded.once("chroma client", settings.chroma_url, lambda: _server(settings))
    key = str(settings.index_dir / store / "chroma")
    if read_only:
        # Chroma rewrites its files whenever a client opens them; readers open a private
        # copy so that answering never changes index/ (and works when it is read-only).
        key = _private_copy(Path(key))

    def local() -> Any:
        import chromadb

        return chromadb.PersistentClient(path=key, settings=_chroma_settings())

    return loaded.once("chroma client", key, local)


def collection_name(settings: Settings, store: str, name: str) -> str:
    """Local stores hold their own collections; on a server each build gets its own names."""
    return f"{store}-{name}" if settings.chroma_url else name


def batch_size(chroma: Any) -> int:
    """How many ids one call to ``chroma`` may carry."""
    return max(1, min(int(chroma.get_max_batch_size()), MAX_BATCH))


def in_batches(chroma: Any, ids: list[str], action: Callable[[list[str]], None]) -> None:
    """Call ``action`` on ``ids`` a batch at a time (Chroma refuses larger calls)."""
    size = batch_size(chroma)
    for i in range(0, len(ids), size):
        action(ids[i : i + size])


def release(settings: Settings, store: str) -> None:
    """Close this process's clients of a local ``store`` and remove its private copy."""
    if settings.chroma_url:
        return
    key = str(settings.index_dir / store / "chroma")
    loaded.forget("chroma client", key)
    for copy in loaded.forget("chroma copy", key):
        loaded.forget("chroma client", copy)
        shutil.rmtree(Path(copy).parent, ignore_errors=True)


def close_writer(settings: Settings, store: str) -> None:
    """Close this process's writing client of a local ``store`` (before it is removed)."""
    loaded.forget("chroma client", str(settings.index_dir / store / "chroma"))


def drop_other_builds(settings: Settings, keep: str) -> None:
    """Delete the collections of this corpus's older builds from the Chroma server."""
    if not settings.chroma_url:
        return
    server = client(settings, keep)
    for collection in server.list_collections():
        name = getattr(collection, "name", collection)
        if name.startswith("store-") and not name.startswith(f"{keep}-"):
            try:
                server.delete_collection(name)
            except Exception as exc:  # another process may have removed it
                log.info("could not delete old collection %s: %s", name, exc)


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _server(settings: Settings) -> Any:
    """A client of the Chroma server at ``settings.chroma_url``, checked to answer."""
    import chromadb

    assert settings.chroma_url
    url = urlsplit(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise IndexStoreError(
            f"ASSISTANT_CHROMA_URL={settings.chroma_url!r} is not an http(s)://host:port URL"
        )
    try:
        server = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=_chroma_settings(),
        )
        server.heartbeat()
    except Exception as exc:  # connection errors come in many types
        raise IndexStoreError(
            f"the Chroma server at {settings.chroma_url} can't be reached ({exc}); "
            "start it (`chroma run --path DIR --port PORT`) or unset ASSISTANT_CHROMA_URL"
        ) from None
    return server


def _private_copy(store_chroma: Path) -> str:
    """A per-process temporary copy of a finished store's Chroma folder (removed at exit)."""

    def copy() -> str:
        if not store_chroma.is_dir():
            raise IndexStoreError(f"{store_chroma} is missing")
        target = Path(tempfile.mkdtemp(prefix="assistant-chroma-")) / "chroma"
        atexit.register(shutil.rmtree, target.parent, ignore_errors=True)
        shutil.copytree(store_chroma, target)
        return str(target)

    return loaded.once("chroma copy", str(store_chroma), copy)
