"""The abstainer: its features on fixed evidence, and the shipped model on fixed rows."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import ModelError
from assistant.abstain import (
    Abstainer,
    Evidence,
    abstainer,
    agreement,
    features,
    span_shapes,
    wh_class,
)

STRONG = Evidence(
    question="In what year did the Normans invade at Bannow Bay?",
    span="1169",
    sentence="The Normans arrived after their invasion at Bannow Bay in 1169.",
    window="The Normans arrived after their invasion at Bannow Bay in 1169.",
    paragraph="The Normans arrived after their invasion at Bannow Bay in 1169.",
    score=14.0,
    best_score=14.0,
    null=-2.0,
    rank=0,
    paragraph_rank=0,
    fused=1.0,
    dense=0.7,
    dense_context=0.7,
    lexical=1.0,
)
# The same sentence asked about something it does not name: a weak, off-topic span.
WEAK = replace(
    STRONG,
    question="In what year did the Vikings invade at Dublin Harbour?",
    span="The Normans",
    score=1.0,
    best_score=1.0,
    null=6.0,
    dense=0.2,
    dense_context=0.2,
    lexical=0.0,
    fused=0.5,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many ships sank?", "how_many"),
        ("In what year did it end?", "when"),
        ("Who ruled Cyprus in 1191?", "who"),
        ("What London neighborhood attracted refugees?", "which_what"),
    ],
)
def test_wh_class__reads_the_question_word(question: str, expected: str) -> None:
    assert wh_class(question) == expected


def test_span_shapes__years_and_capitals() -> None:
    assert span_shapes("in 1169")["year"]
    assert span_shapes("Shoreditch")["capital"]
    assert not span_shapes("Shoreditch")["digit"]


def test_features__coverage_and_missing_names() -> None:
    strong, weak = features(STRONG), features(WEAK)
    assert strong["sentence_coverage"] > weak["sentence_coverage"]
    assert strong["any_name_missing"] == 0.0
    assert weak["any_name_missing"] == 1.0
    assert strong["wh_when*year"] == 1.0


def test_agreement__content_words_shared_by_two_answers() -> None:
    assert agreement("in May 2023", "May 2023") == 1.0
    assert agreement("Jane Doe", "John Smith") == 0.0
    assert 0.0 < agreement("Jane Doe, the chairman", "Jane Doe") < 1.0


def test_features__a_reader_span_records_whether_the_rules_agree() -> None:
    agreeing = features(replace(STRONG, rules_answer="in 1169"))
    assert agreeing["rules_agree"] == 1.0 and agreeing["rules_abstained"] == 0.0
    assert agreeing["from_rules"] == 0.0
    assert not any(name.startswith("rules*") for name in agreeing)
    alone = features(STRONG)
    assert alone["rules_agree"] == 0.0 and alone["rules_abstained"] == 1.0


def test_features__the_rules_reply_has_its_own_copy_of_every_feature() -> None:
    reply = replace(STRONG, rules_answer="1169", from_rules=True)
    row = features(reply)
    assert row["from_rules"] == 1.0
    assert row["rules*sentence_coverage"] == row["sentence_coverage"]
    assert row["rules*wh_when*year"] == 1.0
    assert row["rules*rules_agree"] == 1.0


def test_shipped_abstainer__answers_the_strong_row_and_abstains_on_the_weak() -> None:
    model = abstainer()
    assert model.probability(features(STRONG)) >= model.threshold
    assert model.probability(features(WEAK)) < model.threshold


def test_abstainer__missing_or_damaged_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="make train"):
        Abstainer.load(tmp_path / "absent.json")
    bad = tmp_path / "abstainer.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=str(bad)):
        Abstainer.load(bad)
    bad.write_text(json.dumps({"weights": {"a": 1}, "bias": 0}), encoding="utf-8")
    with pytest.raises(ModelError, match="damaged"):
        Abstainer.load(bad)
