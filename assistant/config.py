"""One frozen ``Settings`` dataclass, read from ``ASSISTANT_*`` variables.

Nothing in the package reads the environment except ``Settings.from_env``;
every stage receives the settings it needs explicitly.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ANSWERERS = ("auto", "llm", "fast", "learned", "rules")


@dataclass(frozen=True)
class Settings:
    """Where things live and how retrieval and answering behave."""

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    model_name: str = "all-MiniLM-L6-v2 fine-tuned (models/embedder)"  # the index's label
    chroma_url: str | None = None  # http://host:port to use a Chroma server instead of index_dir
    window: int = 1  # neighbouring sentences on each side folded into a passage's context
    top_k: int = 20  # candidates taken from each retriever before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant
    citations: int = 3  # citations returned with an answer
    max_question_chars: int = 1000
    min_evidence: float = 0.30  # rules: below this support score the assistant abstains
    # "auto" (the fast answerer where it is sure, else the language model reads; fast alone
    # when the model is not installed), "llm" (the language model always reads), "fast"
    # (the MiniLM reader's spans and the rules' reply, chosen or refused by the trained
    # abstainer, models/; "learned" is the same) or "rules" (typed spans, no models).
    answerer: str = "auto"
    reader_passages: int = 2  # fast: paragraphs of the best hits that the reader reads
    # The language-model reader: "" = the bundled GGUF (models/llm/), a path to another
    # .gguf, or "openai:MODEL" for an OpenAI-compatible server at reader_url.
    reader_llm: str = ""
    reader_model: str = "1.5b"  # the bundled GGUF read with when reader_llm is "": 1.5b | 0.5b
    reader_url: str | None = None  # from OPENAI_BASE_URL when reader_llm is openai:
    # what it reads around the fast reader's sentence, then the hits: "windows" (+-1 sentence),
    # "sentences" (alone) or "paragraphs"
    llm_read: str = "windows"
    llm_pieces: int = 1  # how many windows or paragraphs (models/README.md: reading plans)
    llm_read_chars: int = 2400  # passages cut to this many characters (about 550 tokens)
    llm_threads: int = 0  # 0 = one per physical core
    llm_read_timeout: float = 60.0  # seconds per reply before it is cut
    # Seconds a question may take, from the fast answer to the model's reading and check;
    # past it the fast answer (or an abstention) stands and Answer.note says so.
    deadline: float = 8.0
    # A disk cache of the reader model's replies (assistant/readings.py): evals and training
    # set it so that nothing is read twice; off (None) for questions asked by people.
    readings_file: Path | None = None
    # Optional generated replies: "llamacpp:/path/model.gguf" | "ollama:MODEL" | "openai:MODEL".
    llm: str | None = None
    llm_url: str | None = None  # server of ollama/openai; from OLLAMA_HOST / OPENAI_BASE_URL
    llm_api_key: str | None = field(default=None, repr=False)  # openai; from OPENAI_API_KEY
    llm_max_tokens: int = 160
    llm_timeout: float = 120.0  # seconds to wait for a server's reply
    # Sharing the web chat: a users file turns sign-in on (assistant/users.py); the audit
    # log defaults to audit.jsonl beside it. open_page lets a non-loopback address serve
    # an open, read-only page without users (refused otherwise).
    users_file: Path | None = None
    audit_file: Path | None = None
    open_page: bool = False
    questions_per_minute: int = 20  # per user, or per address on an open page
    uploads_per_hour: int = 30  # files, per user

    @property
    def audit_path(self) -> Path | None:
        """Where the audit log goes: ``audit_file``, else audit.jsonl beside the users file."""
        if self.audit_file:
            return self.audit_file
        return self.users_file.parent / "audit.jsonl" if self.users_file else None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``ASSISTANT_<FIELD>`` variables, then keyword overrides.

        Example: ASSISTANT_TOP_K=30 -> Settings(top_k=30, ...)
        """
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"ASSISTANT_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, cls.__dataclass_fields__[f.name].default)
        backend = str(overrides.get("llm", values.get("llm")) or "").partition(":")[0]
        server = {"openai": "OPENAI_BASE_URL", "ollama": "OLLAMA_HOST"}.get(backend)
        if server and env.get(server) and "llm_url" not in values:
            values["llm_url"] = env[server]
        reader = str(overrides.get("reader_llm", values.get("reader_llm")) or "")
        if (
            reader.startswith("openai:")
            and env.get("OPENAI_BASE_URL")
            and "reader_url" not in values
        ):
            values["reader_url"] = env["OPENAI_BASE_URL"]
        if backend == "openai" and env.get("OPENAI_API_KEY") and "llm_api_key" not in values:
            values["llm_api_key"] = env["OPENAI_API_KEY"]
        return replace(cls(**values), **overrides)

    def __post_init__(self) -> None:
        limits = {
            "window": self.window >= 0,
            "top_k": self.top_k >= 1,
            "rrf_k": self.rrf_k >= 1,
            "citations": self.citations >= 1,
            "max_question_chars": self.max_question_chars >= 1,
            "reader_passages": self.reader_passages >= 1,
            "min_evidence": math.isfinite(self.min_evidence) and 0 <= self.min_evidence <= 1,
            "answerer": self.answerer in ANSWERERS,
            "llm_read": self.llm_read in ("windows", "sentences", "paragraphs"),
            "reader_model": self.reader_model in ("1.5b", "0.5b"),
            "llm_pieces": self.llm_pieces >= 1,
            "llm_read_chars": self.llm_read_chars >= 200,
            "llm_threads": self.llm_threads >= 0,
            "llm_read_timeout": math.isfinite(self.llm_read_timeout) and self.llm_read_timeout > 0,
            "deadline": self.deadline > 0,
            "llm_max_tokens": self.llm_max_tokens >= 1,
            "llm_timeout": math.isfinite(self.llm_timeout) and self.llm_timeout > 0,
            "questions_per_minute": self.questions_per_minute >= 1,
            "uploads_per_hour": self.uploads_per_hour >= 1,
        }
        bad = [name for name, ok in limits.items() if not ok]
        if bad:
            shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ConfigError(
                f"invalid setting {shown}: window >= 0, top_k/rrf_k/citations/reader_passages/"
                "max_question_chars/llm_max_tokens >= 1, min_evidence in [0, 1], llm_timeout > 0, "
                "answerer auto|llm|fast|learned|rules, llm_read windows|sentences|paragraphs, reader_model 1.5b|0.5b, "
                "llm_pieces >= 1, llm_read_chars >= 200, llm_threads >= 0, llm_read_timeout > 0, deadline > 0, "
                "questions_per_minute/uploads_per_hour >= 1; "
                "fix the ASSISTANT_* variable"
            )
        if self.llm:
            from assistant.llm_spec import parse_backend

            parse_backend(self.llm)  # a malformed ASSISTANT_LLM fails here, before any work


def _convert(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, Path) or name.endswith("_file"):
            return Path(raw).expanduser()
        if isinstance(default, bool):
            return raw.lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ConfigError(
            f"ASSISTANT_{name.upper()}={raw!r} is not a valid {type(default).__name__}; "
            "fix or unset it"
        ) from None
    return raw
