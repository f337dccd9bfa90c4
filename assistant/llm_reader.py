"""The language-model reader: it reads the best retrieved passages and quotes the answer.

``LLMReader.read`` sends the passages and the question (``prompts.reader_messages``) to
the model, greedy, with a token and a wall-clock limit, and keeps the first token's
probabilities: how likely the model was to say "unanswerable", and each reply token's
probability. A quote is located in the passages (``quote.locate``). Then the model is
asked, after the same passages and question but without its reply, whether the
passages state the answer (``prompts.STATED``): with llama.cpp's prompt cache only that
last line is read again. What cannot be located is not an answer. Two ways to run the
model, one interface (``Chat``): in this process (llama-cpp-python, the bundled GGUF, on
the llama.cpp thread) or an OpenAI-compatible server (``llama_cpp.server``, vLLM) that
several app processes share.
Non-goals: choosing passages (``context``), deciding to answer (``decide``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.errors import ModelError, Overtime
from assistant.prompts import DECLINE, check_messages, reader_messages
from assistant.quote import Located, clean, locate

TOP_LOGPROBS = 10  # alternatives kept for the first token of each reply


@dataclass(frozen=True)
class Completion:
    """One reply: its text, the first token's alternatives (token -> probability), its cost."""

    text: str
    first: dict[str, float]
    prompt_tokens: int
    seconds: float
    probs: tuple[float, ...] = ()  # the probability of each token of the reply, as chosen


class Chat(Protocol):
    """A chat model that replies greedily and reports the first token's probabilities."""

    name: str

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, timeout: float
    ) -> Completion: ...


@dataclass(frozen=True)
class Reading:
    """What the model made of the passages."""

    reply: str  # as the model wrote it
    declined: bool  # it said the passages do not state the answer
    located: Located | None  # where its quote is in the passages it read
    p_decline: float  # probability that its first token starts "unanswerable"
    p_stated: float  # probability of "yes" to "Do the passages explicitly state the answer?"
    token_probs: tuple[float, ...]  # the probability of each token of the reply
    prompt_tokens: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


class LLMReader:
    """Quote the answer to a question from a few passages, or decline."""

    def __init__(self, chat: Chat, max_tokens: int = 48, timeout: float = 60.0) -> None:
        self.chat, self.max_tokens, self.timeout = chat, max_tokens, timeout

    def read(self, question: str, passages: Sequence[str], deadline: float = math.inf) -> Reading:
        """Example: read("Who chairs Acme?", ["Ana Lima, chairman of Acme, said ..."])
        -> Reading(reply="Ana Lima", located=Located(0, 0, 8, 1.0), ...)

        ``deadline`` (a ``time.perf_counter()`` time) bounds the reading and its check:
        past it, ``Overtime``; each reply is also cut at ``timeout`` seconds.
        """
        messages = reader_messages(question, passages)
        first = self.chat.complete(messages, self.max_tokens, self._left(deadline))
        quote = clean(first.text)
        declined = not quote or quote.lower().rstrip(".").strip() == DECLINE
        located = None if declined else locate(quote, passages)
        p_decline = _starts(first.first, DECLINE)
        check = self.chat.complete(check_messages(question, passages), 1, self._left(deadline))
        timings = {"read": first.seconds, "stated": check.seconds}
        return Reading(
            reply=first.text,
            declined=declined,
            located=located,
            p_decline=p_decline,
            p_stated=_yes(check.first),
            token_probs=first.probs,
            prompt_tokens=first.prompt_tokens,
            seconds=sum(timings.values()),
            timings=timings,
        )

    def _left(self, deadline: float) -> float:
        """Seconds a reply may take: ``timeout``, or what is left before ``deadline``."""
        left = min(self.timeout, deadline - time.perf_counter())
        if left <= 0:
            raise Overtime("the deadline passed before the model could read")
        return left


def _yes(first: dict[str, float]) -> float:
    """P("yes") / (P("yes") + P("no")) of a first token; 0.5 when neither is likely."""
    yes, no = _starts(first, "yes"), _starts(first, "no")
    return yes / (yes + no) if yes + no > 0 else 0.5


def _starts(first: dict[str, float], word: str) -> float:
    """Probability mass of first tokens that begin ``word``.

    Example: ({"un": 0.6, "Un": 0.1, "The": 0.3}, "unanswerable") -> 0.7
    """
    total = 0.0
    for token, p in first.items():
        t = token.strip().lower()
        if t and word.startswith(t):
            total += p
    return min(1.0, total)


class LocalChat:
    """The model in this process (llama-cpp-python), on the llama.cpp thread (``llm_thread``).

    It formats the chat with the model's own template, then generates greedily token by
    token: the first token's distribution comes from the logits of the prompt's last
    position (no ``logits_all``, which would hold a vocabulary-wide row per token), and
    the loop stops at the end-of-turn token, a line break or ``max_tokens``. Past
    ``timeout`` seconds llama.cpp is aborted, in the prompt's evaluation too
    (``llm_thread.deadline``), and ``Overtime`` is raised. llama.cpp keeps the previous
    prompt's cache, so a prompt that extends it (the "stated?" check) reads only what is
    new.
    """

    def __init__(self, llama: Any, name: str) -> None:
        self.llama, self.name = llama, name
        fmt = chat_template(llama)
        if fmt is None:
            raise ModelError(f"the reader model {name} has no chat template in its GGUF metadata")
        self.format = fmt
        self.stops = {
            llama.token_eos(),
            *llama.tokenize(b"<|im_end|>", add_bos=False, special=True),
        }

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, timeout: float
    ) -> Completion:
        from assistant import llm_thread

        return llm_thread.run(self._complete, messages, max_tokens, timeout)

    def _complete(
        self, messages: list[dict[str, str]], max_tokens: int, timeout: float
    ) -> Completion:
        began = time.perf_counter()
        deadline = began + timeout
        tokens = self.llama.tokenize(
            self.format(messages).encode("utf-8"), add_bos=False, special=True
        )
        room = self.llama.n_ctx() - max_tokens - 1
        if len(tokens) > room:  # cut the middle (the passages' end), keep the question
            tokens = tokens[: room // 2] + tokens[len(tokens) - (room - room // 2) :]
        out: list[int] = []
        probs: list[float] = []
        first: dict[str, float] = {}
        from assistant import llm_thread

        try:
            with llm_thread.deadline(deadline):
                for token in self.llama.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
                    z = _softmax(self._last_logits())  # what the token was chosen from
                    if not out and not first:
                        first = self._top(z)
                    if token in self.stops:
                        break
                    out.append(token)
                    probs.append(float(z[token]))
                    text = self.llama.detokenize(out).decode("utf-8", "ignore")
                    if len(out) >= max_tokens or "\n" in text.strip():
                        break  # a reply that runs on is cut by the token limit
                    if time.perf_counter() > deadline:
                        raise Overtime(f"the model took over {timeout:.1f} s to reply")
        except (RuntimeError, ValueError, OSError) as exc:
            if time.perf_counter() > deadline:  # llama_decode was aborted at the deadline
                raise Overtime(f"the model took over {timeout:.1f} s to read") from None
            raise ModelError(f"the reader model {self.name} failed: {exc}") from None
        text = self.llama.detokenize(out).decode("utf-8", "ignore")
        return Completion(
            text.strip(), first, len(tokens), time.perf_counter() - began, tuple(probs)
        )

    def _last_logits(self) -> Any:
        """The logits llama.cpp holds for the last position it decoded (the prompt's end)."""
        import llama_cpp
        import numpy as np

        pointer = llama_cpp.llama_get_logits(self.llama.ctx)
        return np.ctypeslib.as_array(pointer, shape=(self.llama.n_vocab(),)).copy()

    def _top(self, z: Any) -> dict[str, float]:
        """The ``TOP_LOGPROBS`` likeliest next tokens of distribution ``z``."""
        import numpy as np

        best = np.argpartition(-z, TOP_LOGPROBS)[:TOP_LOGPROBS]
        out: dict[str, float] = {}
        for t in best:
            piece = self.llama.detokenize([int(t)]).decode("utf-8", "ignore")
            out[piece] = out.get(piece, 0.0) + float(z[t])
        return out


def _softmax(logits: Any) -> Any:
    import numpy as np

    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


def chat_template(llama: Any) -> Callable[[list[dict[str, str]]], str] | None:
    """The model's chat template (GGUF metadata) as messages -> prompt text; None without one."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None

    def token(key: str) -> str:
        tid = llama.metadata.get(key)
        return llama.detokenize([int(tid)]).decode("utf-8", "ignore") if tid else ""

    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=token("tokenizer.ggml.eos_token_id"),
        bos_token=token("tokenizer.ggml.bos_token_id"),
        add_generation_prompt=True,
    )
    return lambda messages: str(formatter(messages=messages).prompt)  # type: ignore[arg-type]


def _field(item: Any, name: str) -> Any:
    """``item[name]`` or ``item.name``: OpenAI-style responses come as dicts or objects."""
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _first_alternatives(logprobs: Any) -> dict[str, float]:
    """Token -> probability for the first token, from an OpenAI-style ``logprobs`` field."""
    content = _field(logprobs, "content") if logprobs else None
    if not content:
        return {}
    out: dict[str, float] = {}
    for alt in _field(content[0], "top_logprobs") or []:
        token, logprob = _field(alt, "token"), _field(alt, "logprob")
        if token is not None and logprob is not None and math.isfinite(logprob):
            out[token] = out.get(token, 0.0) + math.exp(logprob)
    return out


def _token_probs(logprobs: Any) -> tuple[float, ...]:
    """The probability of each token of the reply, from an OpenAI-style ``logprobs`` field."""
    content = _field(logprobs, "content") if logprobs else None
    logprobs_ = [_field(item, "logprob") for item in content or []]
    return tuple(math.exp(lp) for lp in logprobs_ if lp is not None and math.isfinite(lp))


class ServerChat:
    """An OpenAI-compatible chat server (llama.cpp's ``llama_cpp.server``, vLLM)."""

    def __init__(self, url: str, model: str, api_key: str | None = None) -> None:
        from openai import OpenAI

        self.name = f"openai:{model} at {url}"
        self.model = model
        self.client = OpenAI(base_url=url, api_key=api_key or "no-key", max_retries=0)
        self.logprobs = True

    def _create(
        self, messages: list[dict[str, str]], max_tokens: int, timeout: float, logprobs: bool
    ) -> Any:
        extra: dict[str, Any] = {"logprobs": True, "top_logprobs": TOP_LOGPROBS} if logprobs else {}
        return self.client.chat.completions.create(
            model=self.model,
            messages=messages,  # type: ignore[arg-type]
            temperature=0.0,
            max_tokens=max_tokens,
            seed=0,
            timeout=timeout,
            stop=["\n"] if max_tokens > 1 else None,
            **extra,
        )

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, timeout: float
    ) -> Completion:
        began = time.perf_counter()
        try:
            done = self._create(messages, max_tokens, timeout, self.logprobs)
        except Exception as exc:  # the client raises its own connection and API errors
            if time.perf_counter() - began >= timeout:
                raise Overtime(f"the reader server took over {timeout:.1f} s to reply") from None
            if self.logprobs and "logprobs" in str(exc).lower():
                # A server started without logits for every token (llama_cpp.server's
                # --logits_all) refuses them: read without the first token's probabilities.
                self.logprobs = False
                return self.complete(messages, max_tokens, timeout)
            detail = (
                str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            )
            raise ModelError(
                f"the reader server {self.name} failed: {detail}; start it or unset "
                "ASSISTANT_READER_LLM to read in this process"
            ) from None
        choice = done.choices[0]
        usage = getattr(done, "usage", None)
        return Completion(
            choice.message.content or "",
            _first_alternatives(choice.logprobs),
            int(getattr(usage, "prompt_tokens", 0) or 0),
            time.perf_counter() - began,
            _token_probs(choice.logprobs),
        )


def reader_for(settings: Any) -> LLMReader:
    """The reader ``settings`` name: the bundled GGUF (checked), another GGUF, or a server.

    Example: Settings(reader_llm="openai:qwen", reader_url="http://127.0.0.1:8001/v1")
    -> an ``LLMReader`` over ``ServerChat``. Raises ``ModelError`` naming the fix.
    """
    from pathlib import Path

    from assistant import bundle
    from assistant.models import local_llm

    spec = settings.reader_llm
    chat: Chat
    if spec.startswith("openai:"):
        url = (settings.reader_url or "http://127.0.0.1:8000/v1").rstrip("/")
        chat = ServerChat(url, spec.partition(":")[2], settings.llm_api_key)
    else:
        pins = bundle.load_pins(bundle.SIZES[settings.reader_model])
        path = Path(spec).expanduser() if spec else bundle.model_file(pins)
        if not spec:
            bundle.check(path, pins)
        elif not path.is_file():
            raise ModelError(
                f"no reader model at {path}; point ASSISTANT_READER_LLM at a .gguf file"
            )
        chat = LocalChat(local_llm(path, settings.llm_threads), path.name)
    if settings.readings_file:
        from assistant.readings import CachedChat

        chat = CachedChat(chat, settings.readings_file, model_identity(spec, settings))
    return LLMReader(chat, timeout=settings.llm_read_timeout)


def model_identity(spec: str, settings: Any) -> str:
    """What a reply depends on besides the prompt: the GGUF's sha256, or the server's model.

    The bundled file's sha256 is its pin (checked on install); another file is hashed
    once per process.
    """
    from pathlib import Path

    from assistant import bundle, loaded

    if spec.startswith("openai:"):
        return f"{spec} at {settings.reader_url}"
    if not spec:
        return bundle.load_pins(bundle.SIZES[settings.reader_model]).sha256
    path = Path(spec).expanduser().resolve()
    return loaded.once("model sha256", path, lambda: bundle.sha256_of(path))
