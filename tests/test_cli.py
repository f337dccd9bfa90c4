"""``python -m assistant``: run as a user would, in a subprocess with this interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.index import open_index

ROOT = Path(__file__).resolve().parent.parent

ACME = """Acme Motors Quarterly Notes
Acme Motors lost 3.2 billion yuan in 2022. The loss came from a costly price war.
In May 2023, Acme Motors opened a plant in Lyon.
"""


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=ROOT,
        env={
            **clean,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ASSISTANT_ANSWERER": "fast",  # the language model's CLI test is in test_cascade.py
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_clean_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_cli__ask_json_prints_the_answer_contract() -> None:
    done = run_cli("ask", "How much did Seres lose in 2022?", "--json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"question", "answer", "text", "abstained", "citations"} <= set(data)
    assert (data["mode"], data["verified"], data["generated"], data["dropped"]) == (
        "extractive",
        False,
        "",
        [],
    )
    assert data["question"] == "How much did Seres lose in 2022?"
    assert data["answer"] == "3.832 billion yuan"
    assert data["abstained"] is False
    corpus = (ROOT / "corpus" / data["citations"][0]["source"]).read_text(encoding="utf-8")
    for c in data["citations"]:
        assert {"n", "text", "source", "start", "end", "section", "score"} <= set(c)
        assert corpus[c["start"] : c["end"]] == c["text"]


@pytest.mark.parametrize("question", ["", "   "])
def test_cli__an_empty_question_exits_non_zero_with_one_clear_line(question: str) -> None:
    done = run_cli("ask", question)

    assert done.returncode != 0
    assert done.stdout == ""
    line = _one_clean_error_line(done.stderr)
    assert "empty" in line


def test_cli__index_reuses_an_unchanged_index_and_rebuild_forces_a_new_one(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acme.txt").write_text(ACME, encoding="utf-8")
    settings = Settings(answerer="fast", corpus_dir=corpus, index_dir=tmp_path / "index")
    store = open_index(settings).store  # built here, with this process's loaded model
    env = {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}

    reused = run_cli("index", **env)
    assert reused.returncode == 0, reused.stderr
    assert reused.stdout == (
        f"index ready: 1 document, 4 passages in {settings.index_dir / store}\n"
    )
    assert "building" not in reused.stderr

    forced = run_cli("index", "--rebuild", **env)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.startswith("index ready: 1 document, 4 passages in ")
    assert store not in forced.stdout
    assert "Traceback" not in forced.stderr


def test_cli__a_missing_corpus_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    env = {
        "ASSISTANT_CORPUS_DIR": str(tmp_path / "no-corpus"),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
    }
    done = run_cli("index", **env)

    assert done.returncode == 1
    line = _one_clean_error_line(done.stderr)
    assert "no-corpus" in line and "does not exist" in line


def test_cli__a_bad_setting_exits_non_zero_with_one_clear_line() -> None:
    done = run_cli("ask", "How much did Seres lose in 2022?", ASSISTANT_TOP_K="many")

    assert done.returncode == 1
    line = _one_clean_error_line(done.stderr)
    assert "ASSISTANT_TOP_K" in line


@pytest.mark.parametrize("spec", ["gpt-4", "llamacpp:/no/such/model.gguf"])
def test_cli__a_bad_llm_exits_non_zero_with_one_clear_line(spec: str) -> None:
    done = run_cli("ask", "How much did Seres lose in 2022?", "--llm", spec)

    assert done.returncode == 1
    line = _one_clean_error_line(done.stderr)
    assert "is not a backend" in line or "no model file at /no/such/model.gguf" in line


def test_cli__add_lists_and_removes_documents_with_clear_errors(tmp_path: Path) -> None:
    from makedocs import ELF_HEADER, make_docx

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acme.txt").write_text(ACME, encoding="utf-8")
    env = {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    (tmp_path / "ferry.docx").write_bytes(make_docx())
    (tmp_path / "tool.pdf").write_bytes(ELF_HEADER)

    added = run_cli("add", str(tmp_path / "ferry.docx"), **env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added ferry.docx: docx, ")
    listed = run_cli("documents", **env)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [
        "acme.txt",
        "ferry.docx",
    ]
    refused = run_cli("add", str(tmp_path / "tool.pdf"), **env)
    assert refused.returncode == 1
    assert "tool.pdf is not a PDF" in _one_clean_error_line(refused.stderr)
    removed = run_cli("remove", "ferry.docx", **env)
    assert removed.returncode == 0, removed.stderr
    assert not (corpus / "ferry.docx").exists()
    missing = run_cli("remove", "ferry.docx", **env)
    assert "no document named 'ferry.docx'" in _one_clean_error_line(missing.stderr)


def test_cli__add_reads_a_scan_by_ocr_with_progress_and_answers_from_it(tmp_path: Path) -> None:
    from makedocs import make_scan, png_header

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acme.txt").write_text(ACME, encoding="utf-8")
    env = {"ASSISTANT_CORPUS_DIR": str(corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    (tmp_path / "harbour.png").write_bytes(make_scan("PNG"))
    (tmp_path / "bomb.png").write_bytes(png_header(60_000, 60_000))

    added = run_cli("add", str(tmp_path / "harbour.png"), **env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added harbour.png: image, 1 page, ")
    assert "; OCR on page 1" in added.stdout
    assert "OCR harbour.png: page 1/1" in added.stderr
    asked = run_cli(
        "ask", "--json", "How much cargo did the Kestrel Bay harbour handle in 2023?", **env
    )
    reply = json.loads(asked.stdout)
    assert "4.2 million tonnes" in reply["answer"]
    assert reply["citations"][0]["source"] == "harbour.png"
    refused = run_cli("add", str(tmp_path / "bomb.png"), **env)
    assert refused.returncode == 1
    assert "bomb.png, page 1: its declared size is more than 40 megapixels" in (
        _one_clean_error_line(refused.stderr)
    )
