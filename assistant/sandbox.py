"""Reading an uploaded file in a child process, so that a hostile file costs one message.

``extract_apart(data, name, ocr)`` runs ``formats.extract`` in a fresh Python process
(``python -m assistant.sandbox``) that caps its own memory (``MEMORY_BYTES`` of address
space) and is killed after ``SECONDS``: a parser that runs away on a crafted PDF, Word
file or image takes the child down, never the web app or the CLI. The file goes in on
stdin; JSON lines come back on stdout: ``{"page": [name, done, total]}`` for OCR
progress, then ``{"extracted": {...}}`` or ``{"error": "message"}``. OCR's cache is
written by the child as usual. Non-goals: isolation from the file system or the network
(the parsers run no code from documents); Windows (no ``resource`` module: the file is
read in process there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError, short_reason
from assistant.formats import Extracted, extract
from assistant.ocr import OCR_SECONDS, OcrOptions

MEMORY_BYTES = (
    6 * 1024**3
)  # address space; onnxruntime and the parsers reserve far more than they use
SECONDS = OCR_SECONDS + 60.0


def extract_apart(data: bytes, name: str, ocr: OcrOptions | None = None) -> Extracted:
    """``formats.extract(data, name, ocr)``, run in a child process with memory and time caps.

    Example: a PDF whose parser would take 40 GB -> CorpusError("report.pdf could not be
    read within 6,144 MB of memory; ...") while the caller goes on.
    """
    if sys.platform == "win32":  # pragma: no cover - no rlimits there
        return extract(data, name, ocr)
    ocr = ocr or OcrOptions()
    header = {
        "name": name,
        "cache_dir": str(ocr.cache_dir) if ocr.cache_dir else None,
        "seconds": ocr.seconds,
        "memory": MEMORY_BYTES,
    }
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "assistant.sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        child.kill()

    timer = threading.Timer(SECONDS, stop)
    timer.start()
    result: dict[str, Any] = {}
    try:
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(json.dumps(header).encode() + b"\n" + data)
            child.stdin.close()
        except BrokenPipeError:
            pass
        for raw in child.stdout:
            line = json.loads(raw)
            if "page" in line and ocr.on_page:
                ocr.on_page(*line["page"])
            elif "page" not in line:
                result = line
        code = child.wait()
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
    if "extracted" in result:
        got = result["extracted"]
        return Extracted(
            text=got["text"],
            kind=got["kind"],
            pages=tuple(got["pages"]),
            ocr_pages=tuple(got["ocr_pages"]),
            ocr_confidence=tuple(got["ocr_confidence"]),
        )
    if "error" in result:
        raise CorpusError(result["error"])
    if expired.is_set():
        raise CorpusError(
            f"{name} took longer than {SECONDS:g} s to read; split it or export it again"
        )
    raise CorpusError(
        f"{name} could not be read within {MEMORY_BYTES // 1024**2:,} MB of memory (the reader "
        f"stopped with code {code}); export it again or split it"
    )


def _child() -> int:
    """The child's side: cap memory, read the header line and the file, reply in JSON lines."""
    import resource

    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    resource.setrlimit(resource.RLIMIT_AS, (header["memory"], header["memory"]))
    data = stdin.read()
    out = sys.stdout

    def on_page(name: str, done: int, total: int) -> None:
        out.write(json.dumps({"page": [name, done, total]}) + "\n")
        out.flush()

    cache = Path(header["cache_dir"]) if header["cache_dir"] else None
    options = OcrOptions(cache_dir=cache, on_page=on_page, seconds=header["seconds"])
    try:
        got = extract(data, header["name"], options)
        reply: dict[str, Any] = {"extracted": asdict(got)}
    except CorpusError as exc:
        reply = {"error": str(exc)}
    except (MemoryError, ImportError):  # a parser's libraries can't even load under the cap
        reply = {
            "error": f"{header['name']} could not be read within {header['memory'] // 1024**2:,} MB "
            "of memory; export it again or split it"
        }
    except Exception as exc:  # a parser's own failure on a malformed file: one message
        reply = {"error": f"{header['name']} can't be read ({short_reason(exc)}); export it again"}
    out.write(json.dumps(reply) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
