"""Generated replies: ask the local LLM, then keep only what the passages back.

Scope: the prompt (numbered passages + the extractive short answer), streaming the
LLM's tokens, and building the final ``Answer`` from the verified sentences, or the
extractive one when nothing verified remains. Non-goals: loading backends (``llm``)
and the checks themselves (``verify``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.errors import ModelError
from assistant.llm import Backend, load_backend, server_url
from assistant.prompts import writer_messages
from assistant.types import Answer, Dropped
from assistant.verify import Verification, markers, strip_markers, verify

if TYPE_CHECKING:
    from llama_index.core.llms import ChatMessage

    from assistant.config import Settings

# Small models echo the prompt's scaffolding, sometimes with a marker that makes it "verify".
_PROMPT_ECHO = re.compile(
    r"^(?:a short answer found in|question\s*:|passages?\s*:|answer in one or two sentences)",
    re.IGNORECASE,
)


def prompt(question: str, extractive: Answer) -> list[ChatMessage]:
    """The chat messages for ``question``; passage [n] is ``extractive.citations[n-1]``."""
    from llama_index.core.llms import ChatMessage

    messages = writer_messages(question, [c.text for c in extractive.citations], extractive.answer)
    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def stream_generated(
    question: str, extractive: Answer, settings: Settings
) -> Iterator[str | Answer]:
    """Yield the LLM's reply token by token, then the final, checked ``Answer``.

    Without an extractive answer to ground it (abstained), the LLM is not asked and the
    extractive ``Answer`` is yielded as is: a generated reply never overrides abstention.
    """
    if extractive.abstained or not extractive.citations:
        yield extractive
        return
    backend = load_backend(settings)
    parts: list[str] = []
    with backend.lock:
        try:
            for chunk in _chunks(backend, prompt(question, extractive)):
                if chunk.delta:
                    parts.append(chunk.delta)
                    yield chunk.delta
        except ModelError:
            raise
        except Exception as exc:  # each integration raises its own client errors
            raise ModelError(_backend_failure(settings, exc)) from None
    yield checked(extractive, "".join(parts))


def _chunks(backend: Backend, messages: list[ChatMessage]) -> Iterator[Any]:
    """The streamed reply; an in-process llama.cpp model streams from its own thread."""
    if backend.in_process:
        from assistant import llm_thread

        return llm_thread.stream(lambda: backend.llm.stream_chat(messages))
    return iter(backend.llm.stream_chat(messages))


def checked(extractive: Answer, reply: str) -> Answer:
    """``extractive`` replaced by the verified part of ``reply``, when any survives.

    Example: reply "Acme lost 1.73 billion yuan [1]. It was founded in 1986." ->
    text "Acme lost 1.73 billion yuan [1]." + the quoted passage, with the second
    sentence in ``dropped`` (it cites nothing).
    """
    passages = [c.text for c in extractive.citations]
    check = verify(reply, passages)
    echoes = [k for k in check.kept if _PROMPT_ECHO.match(k)]
    if echoes:  # "A short answer found in passage [1]: 40%" is the prompt, not an answer
        kept = [k for k in check.kept if k not in echoes]
        dropped = check.dropped + [Dropped(e, "repeats the prompt") for e in echoes]
        check = Verification(
            kept, dropped, [n for n in check.cited if any(n in markers(k) for k in kept)]
        )
    if not check.kept:
        return replace(extractive, generated=reply, dropped=check.dropped)
    body = " ".join(check.kept)
    quotes = "\n".join(f"> {passages[n - 1]} [{n}]" for n in sorted(check.cited))
    return replace(
        extractive,
        answer=strip_markers(body),
        text=f"{body}\n\n{quotes}",
        mode="generated",
        verified=True,
        generated=reply,
        dropped=check.dropped,
    )


def _backend_failure(settings: Settings, exc: Exception) -> str:
    where = "" if (settings.llm or "").startswith("llamacpp:") else f" at {server_url(settings)}"
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return (
        f"the LLM backend {settings.llm}{where} failed: {detail}; start the server or fix "
        "ASSISTANT_LLM (unset it for extractive answers)"
    )
