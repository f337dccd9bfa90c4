"""What an ``ASSISTANT_LLM`` value names: a backend and its target.

    bundled                     the project's reader model (models/llm/), in this process
    llamacpp:/path/model.gguf   llama-cpp-python, in this process
    ollama:MODEL                an Ollama server (OLLAMA_HOST or ASSISTANT_LLM_URL)
    openai:MODEL                any OpenAI-compatible server (OPENAI_BASE_URL or
                                ASSISTANT_LLM_URL): llama.cpp's server, vLLM, OpenAI

Parsing only, so that ``Settings`` can check the value without importing llama-index;
loading is ``llm.load_backend``.
"""

from __future__ import annotations

from assistant.errors import ConfigError

# backend -> (llama-index module, the pip packages it needs)
BACKENDS = {
    "llamacpp": ("llama_index.llms.llama_cpp", "llama-index-llms-llama-cpp llama-cpp-python"),
    "ollama": ("llama_index.llms.ollama", "llama-index-llms-ollama"),
    "openai": ("llama_index.llms.openai_like", "llama-index-llms-openai-like"),
}
DEFAULT_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:8000/v1"}


def parse_backend(spec: str) -> tuple[str, str]:
    """Split an ``ASSISTANT_LLM`` value. Example: "ollama:qwen2.5:3b" -> ("ollama", "qwen2.5:3b")

    "bundled" is the project's own reader model (models/llm/), run in this process.
    """
    if spec.strip() == "bundled":
        from assistant.bundle import model_file

        return "llamacpp", str(model_file())
    name, sep, target = spec.strip().partition(":")
    if name not in BACKENDS or not sep or not target.strip():
        raise ConfigError(
            f"ASSISTANT_LLM={spec!r} is not a backend; use bundled, llamacpp:/path/model.gguf, "
            "ollama:MODEL or openai:MODEL (or unset it for extractive answers)"
        )
    return name, target.strip()
