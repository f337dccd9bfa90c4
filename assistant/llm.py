"""The optional local LLM, through llama-index's LLM integrations.

Scope: loading the backend ``ASSISTANT_LLM`` names (``llm_spec``; each an optional
extra, ``pip install '.[llm]'``) once per settings, and turning its failures into
``ModelError``/``ConfigError`` that say what to do. Non-goals: prompts and checking
replies (``generate``, ``verify``).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import loaded
from assistant.errors import ConfigError, ModelError
from assistant.llm_spec import BACKENDS, DEFAULT_URLS, parse_backend

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

    from assistant.config import Settings

CONTEXT_WINDOW = 4096  # tokens: the prompt holds a few short passages


@dataclass
class Backend:
    """A loaded LLM and the lock that keeps one generation at a time on it."""

    spec: str
    llm: LLM
    lock: threading.Lock
    in_process: bool = False  # llama.cpp in this process: call it on ``llm_thread`` only


def load_backend(settings: Settings) -> Backend:
    """The LLM named by ``settings.llm``, loaded once and reused."""
    if not settings.llm:
        raise ConfigError("no LLM configured; set ASSISTANT_LLM (see README, 'Generated answers')")
    key = (
        settings.llm,
        settings.llm_url,
        hashlib.sha256((settings.llm_api_key or "").encode()).hexdigest(),  # not the key
        settings.llm_max_tokens,
        settings.llm_timeout,
    )
    spec = settings.llm

    def load() -> Backend:
        name, target = parse_backend(spec)
        llm = _LOADERS[name](_integration(name), target, settings)
        return Backend(spec, llm, threading.Lock(), name == "llamacpp")

    return loaded.once("llm backend", key, load)


def server_url(settings: Settings) -> str:
    """Where an ollama/openai backend is expected ("" for llamacpp)."""
    name, _ = parse_backend(settings.llm or "")
    url = settings.llm_url or DEFAULT_URLS.get(name, "")
    if url and "://" not in url:  # OLLAMA_HOST is often "host:port"
        url = f"http://{url}"
    return url.rstrip("/")


def _integration(name: str) -> Any:
    module, packages = BACKENDS[name]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelError(
            f"the {name} backend needs {packages}; install them with pip install '.[llm]' "
            f"(missing: {exc.name or exc})"
        ) from None


def _llamacpp(module: Any, target: str, settings: Settings) -> LLM:
    path = Path(target).expanduser()
    if not path.is_file():
        raise ModelError(f"no model file at {path}; point ASSISTANT_LLM at a .gguf file")
    from assistant import llm_thread

    try:
        llm = llm_thread.run(
            lambda: module.LlamaCPP(
                model_path=str(path),
                temperature=0.0,
                max_new_tokens=settings.llm_max_tokens,
                context_window=CONTEXT_WINDOW,
                model_kwargs={"n_threads": os.cpu_count() or 1, "seed": 0, "verbose": False},
                verbose=False,
            )
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"{path} could not be loaded as a GGUF model: {exc}") from None
    # Free the model before interpreter shutdown: Llama.__del__ at exit finds its C
    # bindings gone and prints a TypeError traceback.
    atexit.register(llm._model.close)
    to_prompt = _chat_template(llm._model)
    if to_prompt is not None:
        llm.messages_to_prompt = to_prompt
        llm.completion_to_prompt = lambda text: to_prompt([_user(text)])
    return llm


def _chat_template(model: Any) -> Callable[[Sequence[ChatMessage]], str] | None:
    """The model's own chat template for llama-index messages (None when it has none)."""
    from assistant.llm_reader import chat_template

    fmt = chat_template(model)
    if fmt is None:
        return None
    return lambda messages: fmt(
        [{"role": m.role.value, "content": m.content or ""} for m in messages]
    )


def _user(text: str) -> ChatMessage:
    from llama_index.core.llms import ChatMessage

    return ChatMessage(role="user", content=text)


def _ollama(module: Any, target: str, settings: Settings) -> LLM:
    return module.Ollama(
        model=target,
        base_url=server_url(settings),
        request_timeout=settings.llm_timeout,
        temperature=0.0,
        context_window=CONTEXT_WINDOW,
        additional_kwargs={"num_predict": settings.llm_max_tokens},
    )


def _openai(module: Any, target: str, settings: Settings) -> LLM:
    return module.OpenAILike(
        model=target,
        api_base=server_url(settings),
        api_key=settings.llm_api_key or "no-key",  # local servers want none; the client, one
        is_chat_model=True,
        context_window=CONTEXT_WINDOW,
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,
        timeout=settings.llm_timeout,
        max_retries=0,
    )


_LOADERS: dict[str, Callable[[Any, str, Settings], LLM]] = {
    "llamacpp": _llamacpp,
    "ollama": _ollama,
    "openai": _openai,
}
