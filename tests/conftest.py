"""Shared fixtures: the real web app, started as a subprocess on a free loopback port, and a
spy counting what index builds embed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests import app.py, which is a script, not a package
# The suite's default is the fast answerer (no language model), as most tests check what
# it does; the language-model tests (test_cascade.py, ...) choose auto or llm themselves.
os.environ.setdefault("ASSISTANT_ANSWERER", "fast")
APP_START_TIMEOUT = 90.0  # seconds: model load + index open (or build) + gradio start


@dataclass
class AppServer:
    url: str  # "http://127.0.0.1:PORT/"
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server subprocess, killing it when it ignores that for 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _stop(server: AppServer) -> None:
    stop_process(server.proc)


def _start(log: Path, env_extra: dict[str, str]) -> AppServer:
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = AppServer(url=f"http://127.0.0.1:{port}/", proc=proc, log=log)
    deadline = time.monotonic() + APP_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    _stop(server)
    raise RuntimeError(f"app.py not ready after {APP_START_TIMEOUT:.0f} s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AppServer]]:
    """Start ``app.py`` with extra environment; every server started is stopped at the end."""
    servers: list[AppServer] = []

    def start(**env_extra: str) -> AppServer:
        log = tmp_path_factory.mktemp("app") / "app.log"
        servers.append(_start(log, env_extra))
        return servers[-1]

    yield start
    for server in servers:
        _stop(server)


@pytest.fixture(scope="session")
def app_server(start_app: Callable[..., AppServer]) -> AppServer:
    """The web chat on the project's own corpus and index (shared by the app and browser tests)."""
    return start_app()


@dataclass
class EncodeSpy:
    """Counts the texts the real model embeds (it still embeds them)."""

    calls: int = 0
    texts: int = 0


@pytest.fixture
def encode_spy(monkeypatch: pytest.MonkeyPatch) -> EncodeSpy:
    """Counts what the builds embed, with torch or with the store's ONNX export."""
    from assistant.models import Embedder, OnnxEncoder

    spy = EncodeSpy()
    for cls in (Embedder, OnnxEncoder):
        real = cls.encode

        def counting(self: Any, texts: list[str], progress: bool = False, real: Any = real) -> Any:
            spy.calls += 1
            spy.texts += len(texts)
            return real(self, texts, progress=progress)

        monkeypatch.setattr(cls, "encode", counting)
    return spy


def llama_server(
    model: Path, alias: str, log: Path, extra: list[str], timeout: float = 120.0
) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server for ``model`` on a free loopback port;
    yields its base URL (``http://127.0.0.1:PORT/v1``) and stops it afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias"]
    cmd += [alias, "--host", "127.0.0.1", "--port", str(port), *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if json.load(r)["data"]:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        stop_process(proc)


def signed_in_app(root: Path, accounts: dict[str, tuple[str, str]]) -> dict[str, str]:
    """A copy of the seed article under ``root/corpus`` and a users file of ``accounts``
    (name -> (password, role)); returns the app's environment for them."""
    from assistant.users import Users

    (root / "corpus").mkdir()
    shutil.copy2(ROOT / "corpus" / "seres-huawei-aito.txt", root / "corpus")
    users = Users(root / "users.json")
    for name, (password, role) in accounts.items():
        users.add(name, password, role)
    return {
        "ASSISTANT_CORPUS_DIR": str(root / "corpus"),
        "ASSISTANT_INDEX_DIR": str(root / "index"),
        "ASSISTANT_USERS_FILE": str(root / "users.json"),
    }
