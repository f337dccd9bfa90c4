"""General answer-selection rules of the ranker, on made-up sentences."""

from __future__ import annotations

from assistant import extract
from assistant.rank import _ROLE_OF, _defines_role
from assistant.text import tokens
from assistant.types import Passage


def _passage(text: str) -> Passage:
    """A one-sentence passage of a made-up document."""
    return Passage(
        id=text[:8],
        source="a",
        start=0,
        end=len(text),
        text=text,
        section=None,
        kind="sentence",
        paragraph=0,
        position=0,
        context="",
    )


def test_defines_role__an_apposition_naming_the_role_and_organisation() -> None:
    text = "At the event, Jane Doe, the chairman of Acme, spoke."
    span = extract.Span(14, 22, "Jane Doe", "person")
    assert _defines_role(text, span, "Who is the chairman of Acme?") == 1.0
    assert _defines_role(text, span, "Who is the chairman of Bolt?") == 0.0
    assert _defines_role(text, span, "Who heads the board of the carmaker?") == 0.6


def test_role_of__finds_the_post_and_its_owner() -> None:
    assert _ROLE_OF.findall("She served as the CEO of the car unit.") == [("CEO", "car unit")]


def test_other_measure__a_starting_price_is_not_a_stock_price() -> None:
    from assistant.rank import _other_measure

    assert _other_measure(
        "What is the starting price of the car?", "Its stock price fell to 7 yuan."
    )
    assert not _other_measure("What low did the share price fall to?", "Its stock price fell.")
    assert not _other_measure("What was the net loss in 2020?", "It lost 2 billion yuan.")


def test_amounts__a_hyphenated_unit_before_a_noun_is_attributive() -> None:
    (span,) = extract.amounts("the most popular car in the 500,000 - yuan price range")
    assert span.attributive
    (span,) = extract.amounts("it was valued at 2.5 billion yuan.")
    assert not span.attributive


def test_word_counts__years_ago_is_no_count() -> None:
    assert extract.word_counts("Five years ago, the deal came.") == []
    assert [s.text for s in extract.word_counts("losses for two consecutive years")] == [
        "two consecutive years"
    ]


def test_head_noun__the_noun_a_which_question_asks_for() -> None:
    from assistant.question import head_noun

    assert head_noun("Which automaker did the firm team up with?") == "automaker"
    assert head_noun("What was the joint brand born from the deal?") == "brand"
    assert head_noun("How much did it lose?") is None


def test_names__an_ampersand_abbreviation_is_no_name() -> None:
    from assistant import phrases

    spans = phrases.names("The firm raised its R & D budget with Acme Motors.")
    assert [s.text for s in spans] == ["Acme Motors"]


def test_measure_before__the_measure_a_figure_is_given_for() -> None:
    from assistant.rank import _measure_before

    text = "On May 1, its stock price rose by 7%, and its market value increased to 9 billion yuan."
    (span,) = extract.amounts(text)
    assert _measure_before(text, span) == tokens("value")[0]


def test_answer_type__possessive_before_a_percent_noun() -> None:
    from assistant.question import answer_type

    assert answer_type("What was Acme's market share in 2024?") == "percent"


def test_answer_type__imperative_name_the() -> None:
    from assistant.question import answer_type

    assert answer_type("Name the brand Acme launched together with Bolt.") == "name"
    assert answer_type("Name the five brands formed under the model.") == "list"


def test_pick_span__a_stranded_to_asks_for_the_to_target() -> None:
    from assistant.question import analyse
    from assistant.rank import Ranker

    text = (
        "By June 2021, Acme's market value had risen from less than 10 billion yuan "
        "to over 90 billion yuan."
    )
    p = _passage(text)
    question = "By June 2021, what had Acme's market value climbed to?"
    span, _ = Ranker([p])._pick_span(p, analyse(question), "quantity", question)
    assert span is not None and span.text == "over 90 billion yuan"


def test_describe_ask__how_did_x_describe_y() -> None:
    from assistant.answer import _DESCRIBE_ASK

    assert _DESCRIBE_ASK.search("How did Jane describe the new car?")
    assert not _DESCRIBE_ASK.search("Why did Jane describe the car as cheap?")


def test_constraints__a_close_meaning_stands_in_for_reworded_content_words() -> None:
    from assistant.question import analyse
    from assistant.rank import Ranker

    text = "In 2022, Acme launched the Bolt, an SUV developed to compete with the Zed."
    p = _passage(text)
    query = analyse("Which rival SUV was the Acme Bolt designed to take on?")
    ranker = Ranker([p])
    assert ranker._constraints(p, query, dense=0.8)[0]
    assert not ranker._constraints(p, query, dense=0.3)[0]


def test_spans__money_names_no_measure() -> None:
    from assistant.rank import Ranker

    text = "Acme and Bolt each invested 11.5 billion yuan in Zed."
    ranker = Ranker([])
    found = ranker.spans(text, "quantity", "How much money did Acme put into Zed?")
    assert [s.text for s in found] == ["11.5 billion yuan"]
    assert ranker.spans(text, "quantity", "How much money did Acme raise?") == []


def test_defines_role__a_followup_subject_names_the_owner() -> None:
    text = "Jane Doe, the chairman of Acme Motors, spoke."
    span = extract.Span(0, 8, "Jane Doe", "person")
    assert _defines_role(text, span, "Who chairs it?", subject="Acme Motors") == 1.0
    assert _defines_role(text, span, "Who chairs it?", subject="Bolt") == 0.6


def test_pick_span__the_asked_modifier_and_head_noun_before_a_name() -> None:
    from assistant.question import analyse
    from assistant.rank import Ranker

    question = "What was the joint brand born from the deal?"
    joint, owner = _passage("It led to the joint brand, Zed."), _passage("Acme owns the Zed brand.")
    ranker = Ranker([joint, owner])
    _, close_joint = ranker._pick_span(joint, analyse(question), "name", question)
    _, close_owner = ranker._pick_span(owner, analyse(question), "name", question)
    assert close_joint > close_owner


def test_change_ask__how_did_x_change_y_wants_the_transformation() -> None:
    from assistant.rank import _CHANGE_ASK, _TRANSFORM

    assert _CHANGE_ASK.search("How did the deal change Acme's role?")
    assert not _CHANGE_ASK.search("Why did Acme change its name?")
    assert _TRANSFORM.search("Acme transformed from a supplier to a shareholder.")
    assert _TRANSFORM.search("It went from a supplier of parts to a partner.")
    assert not _TRANSFORM.search("They ultimately became two major benefits for Acme.")


def test_bound_ask__a_maximum_asked_and_a_ceiling_stated_agree() -> None:
    from assistant.rank import _BOUND, _BOUND_ASK

    assert _BOUND_ASK.search("What's the maximum stake Acme could take?")
    assert _BOUND.match("no more than 40%")
    assert not _BOUND.match("40%")


def test_type_words__keep_is_a_light_verb() -> None:
    from assistant.rank import _TYPE_WORDS

    assert set(tokens("keep hold take")) <= _TYPE_WORDS


def test_speakers__a_sentence_wholly_quoted_is_spoken_by_the_persons_before_it() -> None:
    from dataclasses import replace

    from assistant.rank import Ranker

    said = _passage("At the event, Jane Doe, the chairman of Acme, said the sale was required.")
    quote = replace(_passage('"This brand is worth at least 9 billion yuan."'), id="q", position=1)
    plain = replace(_passage("The brand is worth 9 billion yuan."), id="p", position=2)
    elsewhere = replace(quote, id="e", position=3, paragraph=1)
    speakers = Ranker([said, quote, plain, elsewhere]).speakers
    assert speakers["q"] == {"jane", "doe"}
    assert "p" not in speakers  # not a quotation
    assert "e" not in speakers  # a quotation opening a paragraph of its own
