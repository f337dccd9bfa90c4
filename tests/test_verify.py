"""The check of generated replies against the passages they cite (pure logic)."""

from __future__ import annotations

import pytest

from assistant.generate import checked
from assistant.types import Answer, Citation
from assistant.verify import facts, markers, sentences, strip_markers, verify

LOSSES = (
    "From 2020 to 2022, the company suffered continuous losses of 1.729 billion yuan, "
    "1.824 billion yuan, and 3.832 billion yuan respectively."
)
IPO = (
    "In November 2025, the company raised more than 10 billion Hong Kong dollars through "
    "its Hong Kong IPO, and 70% of the funds were planned to be used for R & D."
)
PASSAGES = [LOSSES, IPO]


def test_verify__keeps_a_sentence_whose_facts_are_in_its_passage() -> None:
    result = verify("The company lost 3.832 billion yuan in 2022 [1].", PASSAGES)
    assert result.kept == ["The company lost 3.832 billion yuan in 2022 [1]."]
    assert result.dropped == []
    assert result.cited == [1]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("The company lost 4.1 billion yuan in 2022 [1].", "4.1 billion not in [1]"),
        ("The company lost 3.832 million yuan [1].", "3.832 million not in [1]"),  # scale
        ("About 70% went to marketing in 2024 [2].", "2024 not in [2]"),
        ("Elon Musk runs the company [1].", "Elon, Musk not in [1]"),
        ("Tesla lost 1.729 billion yuan in 2020 [1].", "Tesla not in [1]"),  # opening word
        ("The losses were 1.824 billion yuan in 2021 [2].", "1.824 billion, 2021 not in [2]"),
        ("The company lost money.", "cites no passage"),
        ("The company lost 1.729 billion yuan [3].", "cites [3], which is not a passage"),
        ("It listed in March 2025 [2].", "March not in [2]"),
        ("Seventy percent went to R & D, eighty percent later [2].", "80% not in [2]"),
    ],
)
def test_verify__drops_a_sentence_the_passages_do_not_back(reply: str, reason: str) -> None:
    result = verify(reply, PASSAGES)
    assert result.kept == []
    assert [d.reason for d in result.dropped] == [reason]


def test_verify__words_capitalised_only_to_open_a_sentence_are_not_names() -> None:
    reply = "About 70% went to R & D [2]. Losses were 3.832 billion yuan in 2022 [1]."
    assert verify(reply, PASSAGES).dropped == []


def test_verify__judges_each_sentence_on_its_own() -> None:
    reply = (
        "It lost 1.729 billion yuan in 2020 [1]. It was founded in 1986 [1]. It raised funds [2]."
    )
    result = verify(reply, PASSAGES)
    assert result.kept == ["It lost 1.729 billion yuan in 2020 [1].", "It raised funds [2]."]
    assert [d.sentence for d in result.dropped] == ["It was founded in 1986 [1]."]
    assert result.cited == [1, 2]


def test_verify__accepts_the_same_fact_written_another_way() -> None:
    reply = (
        "It raised over HK$10 billion in Nov. 2025 [2]. "
        "Seventy percent of it was for R&D. [2] Losses were 1,824 million? No: 1.824 billion [1]."
    )
    result = verify(reply, PASSAGES)
    assert result.kept[:2] == [
        "It raised over HK$10 billion in Nov. 2025 [2].",
        "Seventy percent of it was for R&D. [2]",
    ]


def test_sentences__marker_after_the_full_stop_stays_with_its_sentence() -> None:
    assert sentences("**It lost 3 billion.** [1] It grew. [2]\n- A list item [1]") == [
        "It lost 3 billion. [1]",
        "It grew. [2]",
        "A list item [1]",
    ]
    assert sentences("[1] A copied passage. [2]") == ["A copied passage. [1] [2]"]


def test_markers__reads_every_form_models_write() -> None:
    assert markers("a [1] b [2, 3] c [1][4] d [Passage 5] e (6)") == [1, 2, 3, 4, 5]
    assert strip_markers("It fell 8.7% [2]. Then [1, 2] rose.") == "It fell 8.7%. Then rose."


def test_facts__numbers_keep_their_scale_and_percent() -> None:
    found = {f.label() for f in facts("Sales of 28,000 units, 3.5 bn yuan and 12.50% in May")}
    assert {"28000", "3.5 billion", "12.5%"} <= found
    assert "may" not in found  # "May" is a modal verb as often as a month: not a checked fact


def _extractive(answer: str = "3.832 billion yuan") -> Answer:
    cites = [
        Citation(n=i + 1, text=t, source="a.txt", start=0, end=len(t), section=None, score=1.0)
        for i, t in enumerate(PASSAGES)
    ]
    return Answer("How much in 2022?", answer, f"**{answer}**", False, cites, "money")


def test_checked__a_verified_reply_replaces_the_extractive_one() -> None:
    answer = checked(_extractive(), "The 2022 loss was 3.832 billion yuan [1]. It is big.")
    assert answer.mode == "generated" and answer.verified
    assert answer.answer == "The 2022 loss was 3.832 billion yuan."
    assert answer.text.startswith("The 2022 loss was 3.832 billion yuan [1].")
    assert f"> {LOSSES} [1]" in answer.text
    assert [d.sentence for d in answer.dropped] == ["It is big."]
    assert answer.citations == _extractive().citations  # [n] keeps pointing at the same passages


def test_checked__nothing_verified_falls_back_to_the_extractive_reply() -> None:
    reply = "The loss was 9 billion yuan [1]."
    answer = checked(_extractive(), reply)
    assert answer.mode == "extractive" and not answer.verified
    assert answer.answer == "3.832 billion yuan" and answer.text == "**3.832 billion yuan**"
    assert answer.generated == reply
    assert answer.dropped[0].reason == "9 billion not in [1]"


def test_checked__an_echo_of_the_prompt_is_dropped_even_when_its_figure_verifies() -> None:
    reply = "The 2022 loss was 3.832 billion yuan [1]. A short answer found in passage [1]: 2022"
    answer = checked(_extractive(), reply)
    assert answer.text.startswith("The 2022 loss was 3.832 billion yuan [1].\n\n")
    assert [(d.sentence, d.reason) for d in answer.dropped] == [
        ("A short answer found in passage [1]: 2022", "repeats the prompt")
    ]
