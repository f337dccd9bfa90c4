"""The eval scorer on fixed answers: no assistant, no model, no files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from evals.numbers import numeric_match, parse_quantity
from evals.scoring import (
    Case,
    answer_correct,
    check_thresholds,
    citation_supports,
    evidence_rank,
    exact_match,
    list_items,
    mean_reciprocal_rank,
    offsets_valid,
    recall_at,
    token_f1,
)
from evals.text import normalize

THRESHOLDS = {
    "answer_accuracy": 0.90,
    "citation_at_1": 0.95,
    "unanswerable_accuracy": 0.90,
    "false_abstention_max": 0.05,
    "offsets_valid": 1.0,
}
PASSING = {
    "answer_accuracy": 0.93,
    "citation_at_1": 0.97,
    "unanswerable_accuracy": 1.0,
    "false_abstention": 0.02,
    "offsets_valid": 1.0,
}
DUMP = (
    "According to the article, in August 2024 the first-round investment plan for Yinwang "
    "was finally finalized after long negotiations between the parties, and Changan and Seres "
    "each invested 11.5 billion yuan and obtained 10% of the shares in Yinwang, with Huawei "
    "holding 80%, while a person close to the deal said that Huawei did not continue to "
    "promote further financing after that first round was done."
)


@dataclass(frozen=True)
class FakeCitation:
    """Same fields as ``assistant.Citation``."""

    n: int
    text: str
    source: str
    start: int
    end: int
    section: str | None = None
    score: float = 1.0


def case(answers: list[str], type_: str = "money", **extra: object) -> Case:
    return Case.from_dict(
        {"id": "c1", "question": "q?", "answers": answers, "type": type_, **extra}
    )


# ------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The AITO M9", "aito m9"),
        ("an olive branch, a deal", "olive branch deal"),
        ('"Smart Selection"!', "smart selection"),
        ("50,000 units", "50000 units"),
        ("1,000,000", "1000000"),
        ("**11.5 billion yuan**", "11.5 billion yuan"),
        ("80%", "80 percent"),
    ],
)
def test_normalize__strips_articles_punctuation_separators_and_bold(raw: str, expected: str):
    assert normalize(raw) == expected


def test_normalize__spaced_hyphen_equals_hyphen_equals_space():
    assert normalize("mid - 2022") == normalize("mid-2022") == normalize("mid 2022")


def test_normalize__keeps_decimal_points_so_different_numbers_differ():
    assert normalize("1.73 billion.") == "1.73 billion"
    assert normalize("1.73") != normalize("173")


def test_normalize__spaced_ampersand_equals_compact():
    assert normalize("R & D") == normalize("R&D")


# ------------------------------------------------------------------- EM and F1


def test_exact_match__takes_the_best_alias():
    assert exact_match("Zhang Xinghai.", ["Yu Chengdong", "zhang xinghai"])
    assert not exact_match("Zhang", ["Yu Chengdong", "Zhang Xinghai"])


def test_token_f1__takes_the_best_alias():
    assert token_f1("Zhang Xinghai", ["Yu Chengdong", "Zhang Xinghai"]) == 1.0
    assert token_f1("Zhang", ["Zhang Xinghai"]) == pytest.approx(2 / 3)
    assert token_f1("Li Auto", ["Zhang Xinghai"]) == 0.0


# ---------------------------------------------------------------------- numbers


def test_parse_quantity__reads_scale_unit_and_precision():
    q = parse_quantity("RMB 11.5 billion")
    assert q is not None
    assert (q.value, q.scale, q.unit, q.decimals) == (11.5, 1e9, "yuan", 1)
    hk = parse_quantity("HK$10bn")
    assert hk is not None
    assert (hk.total, hk.unit) == (1e10, "hkd")
    assert parse_quantity("no figures here") is None


@pytest.mark.parametrize("pred", ["RMB 11.5 billion", "11,500 million yuan", "**11.5bn yuan**"])
def test_numeric_match__accepts_the_same_amount_written_differently(pred: str):
    assert numeric_match(pred, ["11.5 billion yuan"]).match


def test_numeric_match__right_digits_wrong_scale_is_a_scale_error():
    result = numeric_match("11.5 million yuan", ["11.5 billion yuan"])
    assert not result.match
    assert result.scale_error
    assert not result.unit_error


def test_numeric_match__right_value_other_currency_is_a_unit_error():
    result = numeric_match("11.5 billion HK dollars", ["11.5 billion yuan"])
    assert not result.match
    assert result.unit_error
    assert not result.scale_error


def test_numeric_match__missing_unit_in_answer_is_accepted():
    assert numeric_match("11.5 billion", ["11.5 billion yuan"]).match


def test_numeric_match__compares_at_the_gold_precision():
    assert numeric_match("1.729 billion yuan", ["1.73 billion yuan"]).match
    assert not numeric_match("1.73 billion yuan", ["1.729 billion yuan"]).match


def test_numeric_match__percent_sign_equals_word_percent():
    assert numeric_match("80 percent", ["80%"]).match
    assert numeric_match("80%", ["80 per cent"]).match
    assert not numeric_match("80 units", ["80%"]).match


def test_numeric_match__range_needs_every_number_in_order():
    gold = ["between 10,000 and 20,000 units"]
    assert numeric_match("10,000 to 20,000 units", gold).match
    assert not numeric_match("10,000 units", gold).match
    assert not numeric_match("20,000 to 10,000 units", gold).match


def test_numeric_match__rejects_a_hedge_listing_several_figures():
    assert not numeric_match("1.73 billion or 1.824 billion yuan", ["1.73 billion yuan"]).match


def test_numeric_match__ignores_a_year_given_as_context():
    assert numeric_match("about 5.95 billion yuan in 2024", ["5.95 billion yuan"]).match


def test_numeric_match__rejects_a_long_dump_with_the_right_figure():
    assert "11.5 billion yuan" in DUMP
    assert len(DUMP.split()) >= 60
    assert not numeric_match(DUMP, ["11.5 billion yuan"]).match


# ------------------------------------------------------------------ correctness


def test_answer_correct__money_accepts_equivalent_amounts_and_rejects_errors():
    money = case(["11.5 billion yuan"])
    assert answer_correct(money, "RMB 11.5 billion", abstained=False)
    assert answer_correct(money, "11,500 million yuan", abstained=False)
    assert not answer_correct(money, "11.5 million yuan", abstained=False)
    assert not answer_correct(money, "11.5 billion HK dollars", abstained=False)


def test_answer_correct__rejects_a_60_word_dump_containing_the_answer():
    assert not answer_correct(case(["11.5 billion yuan"]), DUMP, abstained=False)
    assert not answer_correct(case(["Changan and Seres"], "org"), DUMP, abstained=False)


def test_answer_correct__accepts_a_short_answer_containing_the_gold():
    assert answer_correct(case(["Zhang Xinghai"], "person"), "Chairman Zhang Xinghai", False)
    assert not answer_correct(case(["Zhang Xinghai"], "person"), "Zhang", False)


def test_answer_correct__date_with_spaced_hyphen_matches_hyphenated_answer():
    assert answer_correct(case(["mid - 2022"], "date"), "In mid-2022", abstained=False)


def test_answer_correct__unanswerable_is_correct_only_when_abstaining():
    unanswerable = case([], "unanswerable", evidence=None)
    assert answer_correct(unanswerable, "", abstained=True)
    assert not answer_correct(unanswerable, "5 billion yuan", abstained=False)


def test_answer_correct__an_abstention_on_an_answerable_case_is_wrong():
    assert not answer_correct(case(["11.5 billion yuan"]), "", abstained=True)
    assert not answer_correct(case(["11.5 billion yuan"]), "11.5 billion yuan", abstained=True)


def test_answer_correct__list_needs_every_item_in_any_order():
    brands = case(["AITO, Luxeed, Enjoy, Honor, and Shangjie"], "list")
    assert answer_correct(brands, "Shangjie, Honor, Enjoy, Luxeed and AITO", abstained=False)
    assert not answer_correct(brands, "AITO, Luxeed and Enjoy", abstained=False)


def test_list_items__splits_on_commas_and_and():
    assert list_items("AITO, Luxeed, and Enjoy") == ["AITO", "Luxeed", "Enjoy"]


def test_answer_correct__why_accepts_a_sentence_containing_the_reason():
    why = case(["the business advanced sluggishly"], "why")
    reply = (
        "The projects faced numerous obstacles and sales missed expectations. "
        "As the business advanced sluggishly, the HI approach came under pressure."
    )
    assert answer_correct(why, reply, abstained=False)
    assert not answer_correct(why, "Because Huawei changed its strategy.", abstained=False)


def test_answer_correct__followup_is_scored_by_its_answer_type():
    followup = case(["1.824 billion yuan"], "followup", answer_type="money")
    assert answer_correct(followup, "RMB 1.824 billion", abstained=False)
    assert not answer_correct(followup, "1.824 million yuan", abstained=False)


# -------------------------------------------------------------------- citations

SENTENCE = "In 2020, only 732 units of its strategic model, the SF5, were sold."
CORPUS = {"doc.txt": "Intro line.\n" + SENTENCE + "\nMore text."}
START = CORPUS["doc.txt"].index(SENTENCE)


def test_citation_supports__evidence_inside_the_cited_sentence():
    assert citation_supports("only 732 units of its strategic model", SENTENCE)
    assert not citation_supports("a net loss of 1.73 billion yuan", SENTENCE)
    assert not citation_supports(None, SENTENCE)


def test_citation_supports__a_citation_covering_most_of_the_evidence():
    evidence = "only 732 units of its strategic model, the SF5, were sold"
    assert citation_supports(evidence, "only 732 units of its strategic model, the SF5")
    assert not citation_supports(evidence, "the SF5")


def test_offsets_valid__true_when_the_span_is_the_cited_text():
    good = FakeCitation(1, SENTENCE, "doc.txt", START, START + len(SENTENCE))
    assert offsets_valid(good, CORPUS)


@pytest.mark.parametrize(
    "bad",
    [
        FakeCitation(1, SENTENCE, "doc.txt", START + 1, START + 1 + len(SENTENCE)),
        FakeCitation(1, SENTENCE, "other.txt", START, START + len(SENTENCE)),
        FakeCitation(1, SENTENCE, "doc.txt", START, 10_000),
        FakeCitation(1, "", "doc.txt", START, START),
    ],
)
def test_offsets_valid__false_for_shifted_missing_or_out_of_range_spans(bad: FakeCitation):
    assert not offsets_valid(bad, CORPUS)


def test_evidence_rank__is_the_first_supporting_citation():
    citations = [
        FakeCitation(1, "Seres Super Factory", "doc.txt", 0, 1),
        FakeCitation(2, SENTENCE, "doc.txt", 0, 1),
        FakeCitation(3, SENTENCE, "doc.txt", 0, 1),
    ]
    assert evidence_rank("732 units", citations) == 2
    assert evidence_rank("1.73 billion yuan", citations) is None
    assert evidence_rank("732 units", []) is None


def test_evidence_rank__accepts_any_of_several_alternative_evidences():
    citations = [FakeCitation(1, "Seres lost 1.729 billion yuan in 2020.", "doc.txt", 0, 1)]
    alternatives = ["a net loss of 1.73 billion yuan", "lost 1.729 billion yuan"]
    assert evidence_rank(alternatives, citations) == 1
    assert case(["1.73 billion yuan"], evidence=alternatives).evidence == tuple(alternatives)


def test_recall_and_mrr__on_a_fixed_list_of_ranks():
    ranks = [1, 2, None, 4]
    assert recall_at(ranks, 1) == 0.25
    assert recall_at(ranks, 3) == 0.5
    assert recall_at(ranks, 5) == 0.75
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 2 + 1 / 4) / 4)


# ------------------------------------------------------------------- thresholds


def test_check_thresholds__passes_when_every_limit_is_met():
    result = check_thresholds(PASSING, THRESHOLDS)
    assert result.passed
    assert result.failures == []


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("answer_accuracy", 0.85),
        ("citation_at_1", 0.90),
        ("unanswerable_accuracy", 0.50),
        ("false_abstention", 0.10),
        ("offsets_valid", 0.99),
    ],
)
def test_check_thresholds__a_missed_limit_fails_the_run(metric: str, value: float):
    result = check_thresholds({**PASSING, metric: value}, THRESHOLDS)
    assert not result.passed
    assert len(result.failures) == 1
    assert metric in result.failures[0]


def test_check_thresholds__unmeasured_metric_is_skipped_but_unknown_key_fails():
    skipped = check_thresholds({**PASSING, "unanswerable_accuracy": None}, THRESHOLDS)
    assert skipped.passed
    assert skipped.skipped == ["unanswerable_accuracy"]
    typo = check_thresholds(PASSING, {**THRESHOLDS, "answer_acuracy": 0.9})
    assert not typo.passed


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).resolve().parent.parent / "evals").glob("*.toml")), ids=str
)
def test_every_shipped_thresholds_file_reads_as_limits(path: Path):
    from evals.runner import load_thresholds

    limits = load_thresholds(path)  # a damaged file would stop `make test` after pytest
    assert limits
    assert all(0.0 <= v <= 100.0 for v in limits.values())


def test_report_exit_code__is_non_zero_when_a_threshold_is_missed():
    from evals.runner import Report

    def report(summary: dict[str, float]) -> Report:
        check = check_thresholds(summary, THRESHOLDS)
        return Report([], {}, {}, dict(summary), THRESHOLDS, check)

    assert report(PASSING).exit_code == 0
    assert report({**PASSING, "answer_accuracy": 0.5}).exit_code == 1


def test_reading_of__tells_a_finished_reading_from_one_cut_by_the_deadline() -> None:
    from evals.scoring import reading_of

    assert reading_of({"fast": 0.05}) == (False, False)
    assert reading_of({"fast": 0.05, "read": 4.1, "stated": 0.4}) == (True, False)
    assert reading_of({"fast": 0.05, "read": 7.9}) == (True, True)
