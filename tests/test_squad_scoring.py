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
def test_squad_em_f1__official_rules(prediction: str, golds: list[str], em: float, f1: float) -> None:
    got_em, got_f1 = squad_em_f1(prediction, golds)
    assert got_em == em
    assert got_f1 == pytest.approx(f1)


ARTICLE = {
    "title": "Tiny",
    "paragraphs": [
        {"context": "Ann Lee wrote it in 1990.", "qas": [
            {"id": "a", "question": "Who wrote it?", "answers": [{"text": "Ann Lee", "answer_start": 0}]},
            {"id": "b", "question": "Who read it?", "answers": []},
        ]},
        {"context": " It sold 30 copies.", "qas": [
            {"id": "c", "question": "How many sold?", "answers": [{"text": "30", "answer_start": 9}]},
        ]},
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
