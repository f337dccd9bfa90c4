"""Typed answer spans inside a sentence: amounts, percents, dates, names, lists.

Pure logic: sentences from the article (and a few made-up ones in the same style).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import extract, phrases
from assistant.extract import Span
from assistant.ingest import Document, passages_from_document

ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "seres-huawei-aito.txt"


def _texts(spans: list[Span]) -> list[str]:
    return [s.text for s in spans]


@pytest.fixture(scope="module")
def article_sentences() -> list[str]:
    doc = Document(ARTICLE.name, ARTICLE.read_text(encoding="utf-8"), "0")
    return [p.text for p in passages_from_document(doc) if p.kind == "sentence"]


EXTRACTORS: list[Callable[[str], list[Span]]] = [
    extract.amounts,
    extract.percents,
    extract.dates,
    extract.durations,
    phrases.quotes,
    phrases.names,
    phrases.enumerations,
]


def test_extractors__every_span_is_an_exact_piece_of_its_sentence(
    article_sentences: list[str],
) -> None:
    found = 0
    for sentence in article_sentences:
        for extractor in EXTRACTORS:
            for span in extractor(sentence):
                assert sentence[span.start : span.end] == span.text, (extractor, sentence)
                assert span.text == span.text.strip()
                found += 1
    assert found > 300


@pytest.mark.parametrize(
    ("sentence", "amount"),
    [
        (
            "In 2020, only 732 units of its strategic model, the SF5, were sold, resulting in "
            "a net loss of 1.73 billion yuan.",
            "1.73 billion yuan",
        ),
        (
            "In November 2025, Seres raised more than 10 billion Hong Kong dollars through its "
            "Hong Kong IPO.",
            "more than 10 billion Hong Kong dollars",
        ),
        (
            "In the first half of the year, only 28,000 AITO vehicles were sold.",
            "28,000 AITO vehicles",
        ),
        (
            "The new AITO M7 quickly became a best - seller, receiving 50,000 large - order "
            "bookings in 25 days.",
            "50,000 large - order bookings",
        ),
        ('The trademark of "AITO" was valued at 2.5 billion yuan.', "2.5 billion yuan"),
        (
            "Changan and Seres each invested 11.5 billion yuan and obtained 10% of the shares.",
            "11.5 billion yuan",
        ),
        (
            "Its monthly sales volume remained between 10,000 and 20,000 units for a long time.",
            "between 10,000 and 20,000 units",
        ),
        ("Its stock price dropped to a low of 7.2 yuan.", "7.2 yuan"),
    ],
)
def test_amounts__keep_the_number_with_its_scale_and_unit(sentence: str, amount: str) -> None:
    spans = extract.amounts(sentence)
    assert any(amount in s.text for s in spans), _texts(spans)
    span = next(s for s in spans if amount in s.text)
    assert span.has_unit
    assert span.has_scale == ("billion" in amount)


@pytest.mark.parametrize(
    "sentence",
    [
        "The hot sales of models like the AITO M9 have enabled it to turn losses into profits.",
        "In September 2023, its flagship phones, the Mate 60 Pro+ and the foldable Mate X5, "
        "were pre - released.",
        "In 2023, Huawei's 5G chips broke through the blockade.",
        "At the partner conference in early 2024, Zhu Huarong used a metaphor.",
        "On November 27, Seres' stock price dropped.",
    ],
    ids=["AITO-M9", "Mate-60", "5G", "year", "day-of-month"],
)
def test_amounts__are_never_years_days_or_model_numbers(sentence: str) -> None:
    assert extract.amounts(sentence) == []


def test_amounts__no_article_year_is_taken_for_an_amount(article_sentences: list[str]) -> None:
    for sentence in article_sentences:
        for span in extract.amounts(sentence):
            assert not re.fullmatch(r"(?:19|20)\d\d", span.text), sentence
            assert not re.search(r"\b(?:M[5-9]|Mate 60|SF5)\b", span.text), sentence


def test_amounts__model_numbers_beside_real_amounts_are_left_out() -> None:
    sentence = "Huawei launched the Mate 60 in 2023 and sold 10 million phones."
    assert _texts(extract.amounts(sentence)) == ["10 million phones"]


def test_amounts__an_amount_after_an_acronym_is_still_an_amount() -> None:
    sentence = 'It was described by Yu Chengdong as "the best SUV under 10 million yuan."'
    assert any("10 million yuan" in t for t in _texts(extract.amounts(sentence)))


def test_amounts__a_spelled_out_percentage_is_not_an_amount() -> None:
    assert extract.amounts("The stake is no more than 40 percent of the company.") == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("It obtained 10% of the shares in Yinwang, with Huawei holding 80%.", ["10%", "80%"]),
        (
            "Since August 28, 2023, the stock price has increased by 110.42% in total.",
            ["110.42%"],
        ),
        ("A cumulative decline of more than 70% in less than a year.", ["more than 70%"]),
        ("The stake is no more than 40 percent.", ["no more than 40 percent"]),
    ],
)
def test_percents__found_with_their_modifiers(sentence: str, expected: list[str]) -> None:
    assert _texts(extract.percents(sentence)) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "In May 2021, Yu Chengdong also concurrently served as the CEO of the automotive BU.",
            "May 2021",
        ),
        ("At the end of 2020, Huawei transferred its automotive BU.", "the end of 2020"),
        ("In mid - 2022, AITO launched its second model, the M7.", "mid - 2022"),
        ("Since August 28, 2023, the company's stock price has increased.", "August 28, 2023"),
        (
            "In the first half of the year, only 28,000 AITO vehicles were sold.",
            "the first half of the year",
        ),
        ("Seres plans to achieve a sales target of 1 million vehicles in 2028.", "2028"),
    ],
)
def test_dates__found_in_the_forms_the_article_uses(sentence: str, expected: str) -> None:
    assert expected in _texts(extract.dates(sentence))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Flights start in the spring of 2026, with four hospitals.", "the spring of 2026"),
        ("The plant opened in autumn 2025.", "autumn 2025"),
        ("Talks resume in late winter 2027.", "late winter 2027"),
    ],
)
def test_dates__a_season_is_part_of_the_date(sentence: str, expected: str) -> None:
    assert _texts(extract.dates(sentence)) == [expected]


def test_dates__not_taken_from_inside_numbers() -> None:
    assert extract.dates("Seres suffered losses of 2,020.5 million yuan.") == []


def test_durations__counted_spans_of_time() -> None:
    assert _texts(extract.durations("It received 50,000 bookings in 25 days.")) == ["in 25 days"]


@pytest.mark.parametrize(
    ("sentence", "person"),
    [
        (
            "At the roll-off ceremony, Zhang Xinghai, the chairman of Seres, attributed this "
            "achievement to the model.",
            "Zhang Xinghai",
        ),
        (
            "Zhu Huarong, the chairman of Changan Automobile, publicly questioned the model.",
            "Zhu Huarong",
        ),
        ('Yu Chengdong described it as a "smart terminal on wheels."', "Yu Chengdong"),
    ],
)
def test_names__a_person_is_told_apart_by_role_words(sentence: str, person: str) -> None:
    spans = phrases.names(sentence)
    assert [s.text for s in spans if s.kind == "person"] == [person]


def test_names__companies_are_names_not_persons() -> None:
    sentence = "Zhu Huarong, the chairman of Changan Automobile, publicly questioned the model."
    kinds = {s.text: s.kind for s in phrases.names(sentence)}
    assert kinds["Changan Automobile"] == "name"


def test_names__a_sentence_opening_word_is_dropped_unless_the_corpus_capitalises_it() -> None:
    sentence = "However, Huawei transferred the trademarks to Seres."
    texts = _texts(phrases.names(sentence, proper_words=frozenset({"Huawei", "Seres"})))
    assert texts == ["Huawei", "Seres"]


def test_enumerations__the_five_brands_as_one_list() -> None:
    sentence = (
        "It replicated the cooperation model with Seres to Chery, BAIC, Jianghuai, and SAIC, "
        "forming five major brands: AITO, Luxeed, Enjoy, Honor, and Shangjie."
    )
    lists = _texts(phrases.enumerations(sentence))
    assert "AITO, Luxeed, Enjoy, Honor, and Shangjie" in lists
    assert "Chery, BAIC, Jianghuai, and SAIC" in lists


def test_quotes__short_quoted_phrases() -> None:
    sentence = (
        'In April 2023, Huawei announced its cooperation with Chery to launch the "Luxeed" brand.'
    )
    assert _texts(phrases.quotes(sentence)) == ["Luxeed"]


@pytest.mark.parametrize(
    ("sentence", "keys"),
    [
        (
            "From 2020 to 2022, Seres suffered continuous losses of 1.729 billion yuan, "
            "1.824 billion yuan, and 3.832 billion yuan respectively.",
            ["2020", "2021", "2022"],
        ),
        ("From 2021 through 2023, it sold 5, 7 and 9 cars respectively.", ["2021", "2022", "2023"]),
        ("In 2021 and 2023, it lost 1.8 and 2.1 billion yuan respectively.", ["2021", "2023"]),
        ("From 2020 to 2022, Seres suffered continuous losses.", []),
    ],
)
def test_respectively_keys__years_the_values_belong_to(sentence: str, keys: list[str]) -> None:
    assert extract.respectively_keys(sentence) == keys


def test_respectively_keys__line_up_with_the_amounts() -> None:
    sentence = (
        "From 2020 to 2022, Seres suffered continuous losses of 1.729 billion yuan, "
        "1.824 billion yuan, and 3.832 billion yuan respectively."
    )
    pairs = dict(
        zip(extract.respectively_keys(sentence), _texts(extract.amounts(sentence)), strict=True)
    )
    assert pairs == {
        "2020": "1.729 billion yuan",
        "2021": "1.824 billion yuan",
        "2022": "3.832 billion yuan",
    }


def test_dates__month_with_relative_year_is_one_date() -> None:
    text = "These are the uses of the funds raised from its IPO in November last year."
    assert _texts(extract.dates(text)) == ["November last year"]


def test_places__names_with_a_place_cue_only() -> None:
    text = "In May 2020, this Lyon-based firm raised funds through its Geneva IPO with Acme."
    assert _texts(phrases.places(text)) == ["Lyon", "Geneva"]


def test_amounts__no_more_than_is_part_of_the_amount() -> None:
    assert _texts(extract.percents("with a ratio of no more than 40%.")) == ["no more than 40%"]


def test_multiples__changes_said_as_multiples() -> None:
    text = "After the launch, the stock price more than tripled, and costs doubled; a 3-fold rise."
    assert _texts(extract.multiples(text)) == ["more than tripled", "doubled", "3-fold"]


def test_quotes__up_to_twelve_words_and_no_contraction_names() -> None:
    text = 'The bank asserted that "Acme\'s golden product cycle is coming to an end."'
    assert _texts(phrases.quotes(text)) == ["Acme's golden product cycle is coming to an end"]
    said = 'He said, "It\'s a good thing that the circle is expanding."'
    assert "It" not in _texts(phrases.names(said, frozenset()))


def test_elliptic_counts__a_bare_number_after_from_n_noun_to() -> None:
    from assistant import extract

    text = "Its circle of partners expanded from one brand to five, and more came."
    assert [s.text for s in extract.elliptic_counts(text)] == ["five"]
    assert extract.elliptic_counts("sales rose from 10 units to 20 units") == []
    assert extract.elliptic_counts("from one year to 2.5") == []
