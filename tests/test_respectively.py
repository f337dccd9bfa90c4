"""'A, B and C respectively': the value for the asked year. Pure logic."""

from __future__ import annotations

from assistant.respectively import align, keys, values

LOSSES = (
    "From 2020 to 2022, the firm suffered losses of 1.729 billion yuan, 1.824 billion yuan, "
    "and 3.832 billion yuan respectively."
)


def _span(text: str, part: str) -> tuple[int, int]:
    at = text.index(part)
    return at, at + len(part)


def test_keys__a_year_range_expands() -> None:
    assert keys(LOSSES) == ["2020", "2021", "2022"]
    assert keys("In 2019 and 2021 it sold 3 and 4 cars respectively.") == ["2019", "2021"]


def test_values__the_listed_figures_in_order() -> None:
    found = [LOSSES[a:b] for a, b in values(LOSSES)][-3:]
    assert found == ["1.729 billion yuan", "1.824 billion yuan", "3.832 billion yuan"]


def test_align__moves_to_the_value_of_the_asked_year() -> None:
    start, end = _span(LOSSES, "1.824 billion yuan")
    assert LOSSES[slice(*align(LOSSES, start, end, ["2022"]))] == "3.832 billion yuan"
    assert LOSSES[slice(*align(LOSSES, start, end, ["2020"]))] == "1.729 billion yuan"


def test_align__leaves_other_spans_and_questions_alone() -> None:
    span = _span(LOSSES, "1.824 billion yuan")
    assert align(LOSSES, *span, []) == span  # no year asked
    assert align(LOSSES, *span, ["2023"]) == span  # a year the sentence does not list
    firm = _span(LOSSES, "the firm")
    assert align(LOSSES, *firm, ["2022"]) == firm  # not one of the values
    plain = "In 2022 the firm lost 3.8 billion yuan."
    assert align(plain, 22, 38, ["2022"]) == (22, 38)
