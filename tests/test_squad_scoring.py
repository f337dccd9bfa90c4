"""The official SQuAD 2.0 scorer on fixed predictions, and the benchmark's pure helpers."""

from __future__ import annotations

import pytest

from evals.squad import Row, article_text, check, sample, summarize
from evals.squad_scoring import normalize_answer, squad_em_f1


def test_normalize_answer__drops_case_punctuation_articles_and_spaces() -> None:
    assert normalize_answer("The  Normans!") == "normans"
    assert normalize_answer("an Apple, a day") == "apple day"


@pytest.mark.parametrize(
    ("prediction", "golds", "em", "f1"),
    [
        ("1169", ["1169", "in 1169"], 1.0, 1.0),
        ("in 1169", ["1169"], 0.0, 2 / 3),
        ("Richard", ["Isaac Komnenos", "Isaac"], 0.0, 0.0),
        ("", [], 1.0, 1.0),  # abstaining on an unanswerable question is right
        ("Shoreditch", [], 0.0, 0.0),  # answering it is wrong
        ("", ["Shoreditch"], 0.0, 0.0),  # abstaining on an answerable one scores 0
    ],
)
def test_squad_em_f1__official_rules(
    prediction: str, golds: list[str], em: float, f1: float
) -> None:
    got_em, got_f1 = squad_em_f1(prediction, golds)
    assert got_em == em
    assert got_f1 == pytest.approx(f1)


ARTICLE = {
    "title": "Tiny",
    "paragraphs": [
        {
            "context": "Ann Lee wrote it in 1990.",
            "qas": [
                {
                    "id": "a",
                    "question": "Who wrote it?",
                    "answers": [{"text": "Ann Lee", "answer_start": 0}],
                },
                {"id": "b", "question": "Who read it?", "answers": []},
            ],
        },
        {
            "context": " It sold 30 copies.",
            "qas": [
                {
                    "id": "c",
                    "question": "How many sold?",
                    "answers": [{"text": "30", "answer_start": 9}],
                },
            ],
        },
    ],
}


def test_article_text__answers_keep_their_offsets_in_the_joined_document() -> None:
    text, starts = article_text(ARTICLE)
    assert text == "Ann Lee wrote it in 1990.\n\nIt sold 30 copies.\n"
    qa = ARTICLE["paragraphs"][1]["qas"][0]
    at = starts[1] + qa["answers"][0]["answer_start"]
    assert text[at : at + 2] == "30"


def test_sample__is_seeded_and_stable() -> None:
    assert sample(ARTICLE, 2, seed=0) == sample(ARTICLE, 2, seed=0)
    assert len(sample(ARTICLE, 2, seed=0)) == 2
    assert len(sample(ARTICLE, None, seed=0)) == 3


def _row(golds: list[str], answer: str, abstained: bool, evidence: bool | None) -> Row:
    em, f1 = squad_em_f1("" if abstained else answer, golds)
    return Row("Tiny", "x", "q?", golds, answer, abstained, em, f1, evidence, evidence, 10.0)


def test_summarize__splits_answerable_and_unanswerable_and_gates() -> None:
    rows = [
        _row(["Ann Lee"], "Ann Lee", False, True),
        _row(["30"], "", True, False),
        _row([], "", True, None),
        _row([], "Bob", False, None),
    ]
    s = summarize(rows)
    assert s["f1"] == 50.0
    assert s["answerable_f1"] == 50.0
    assert s["unanswerable_abstained"] == 50.0
    assert s["answerable_abstained"] == 50.0
    assert s["evidence_at_1"] == 50.0
    assert check(s, {"f1": 40.0, "answerable_abstained_max": 60.0}) == []
    assert check(s, {"f1": 55.0}) == ["f1 = 50.0 (below 55.0)"]


def test_squad_benchmark__runs_a_tiny_article_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``python -m evals --squad`` on a made-up article: its own corpus and index, real models."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    data = {
        "version": "v2.0",
        "data": [
            {
                "title": "Zebra_Sky",
                "paragraphs": [
                    {
                        "context": "Zebra Sky is a novel written by Ann Lee. It was published in 1990 "
                        "by Harbor Press in Boston.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Who wrote the novel Zebra Sky?",
                                "answers": [{"text": "Ann Lee", "answer_start": 32}],
                            },
                            {
                                "id": "q2",
                                "question": "In what year was Zebra Sky published?",
                                "answers": [{"text": "1990", "answer_start": 61}],
                            },
                        ],
                    },
                    {
                        "context": "The novel sold poorly at first. A film of it appeared in 2004.",
                        "qas": [
                            {
                                "id": "q3",
                                "question": "Who directed the 1970 stage play of Zebra Sky?",
                                "answers": [],
                            }
                        ],
                    },
                ],
            }
        ],
    }
    squad = tmp_path / "tiny.json"
    squad.write_text(json.dumps(data), encoding="utf-8")
    reports = tmp_path / "reports"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals",
            "--squad",
            str(squad),
            "--articles",
            "Zebra_Sky",
            "--report-dir",
            str(reports),
            "--quiet",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((reports / "squad.json").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in report["rows"]}
    assert set(rows) == {"q1", "q2", "q3"}
    assert rows["q1"]["answer"] == "Ann Lee" and rows["q1"]["em"] == 1.0
    assert rows["q1"]["evidence_at_1"] is True
    assert report["summary"]["questions"] == 3
    assert "Zebra_Sky" in (reports / "squad.md").read_text(encoding="utf-8")
