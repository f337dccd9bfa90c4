"""``bench/load.py`` against the real web app: a small load, zero errors, same answers."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import AppServer

LOAD_PY = Path(__file__).resolve().parent.parent / "bench" / "load.py"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", LOAD_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_load__four_clients_get_the_in_process_answers_without_errors(
    load: ModuleType, app_server: AppServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--url", app_server.url, "--clients", "4", "--questions", "3", "--timeout", "120"]

    code = load.main(argv)

    out = capsys.readouterr().out
    assert "errors: 0, mismatches: 0, not run (timeout): 0" in out, out
    assert re.search(r"answers: 12 in [\d.]+ s", out), out
    assert re.search(r"latency: p50 [\d.]+ s, p95 [\d.]+ s, max [\d.]+ s", out), out
    assert code == 0, out


def test_load__refuses_a_non_loopback_url(load: ModuleType) -> None:
    with pytest.raises(SystemExit, match="loopback"):
        load.run("http://example.com:7860/", clients=1, questions=1, timeout=5)


def test_plan__round_robins_over_answerable_single_turn_cases(load: ModuleType) -> None:
    cases = load.load_cases()
    assert cases and all(c.answerable and not c.history for c in cases)

    work = load.plan(cases, clients=3, questions=2)

    assert [[c.id for c in turns] for turns in work] == [
        [cases[0].id, cases[1].id],
        [cases[2].id, cases[3].id],
        [cases[4].id, cases[5].id],
    ]
