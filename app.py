"""The web chat: a thin Gradio UI over ``assistant.ask`` (no retrieval logic here)."""

from __future__ import annotations

import os

import gradio as gr

from assistant import AssistantError, ask


def respond(message: str, history: list[dict]) -> str:
    """One chat turn."""
    try:
        return ask(message, history=history).text
    except AssistantError as exc:
        return f"⚠️ {exc}"


def build() -> gr.ChatInterface:
    return gr.ChatInterface(respond, title="Ask the document")


if __name__ == "__main__":
    build().launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
