"""The quote locator on made-up passages: exact, case, spacing, near miss, nothing."""

from __future__ import annotations

from assistant.quote import clean, locate

PASSAGES = [
    "The Harbour Board met on 4 May 2031 and approved the  new   pier.",
    "Its chair, Marta Quill-Oduya, said the pier would cost 41.5 million crowns.",
]


def _span(quote: str) -> str | None:
    found = locate(quote, PASSAGES)
    return None if found is None else PASSAGES[found.passage][found.start : found.end]


def test_locate__exact_quote_gives_its_offsets_in_the_passage() -> None:
    found = locate("41.5 million crowns", PASSAGES)
    assert found is not None and found.similarity == 1.0
    assert (found.passage, PASSAGES[1][found.start : found.end]) == (1, "41.5 million crowns")


def test_locate__case_spacing_and_typographic_quotes_aside() -> None:
    assert _span("the NEW pier") == "the  new   pier"
    assert _span("“Marta Quill-Oduya”.") == "Marta Quill-Oduya"


def test_locate__percent_and_spaced_hyphens_either_way() -> None:
    passages = ["Revenue fell 9 percent in mid - 2031.", "Costs rose 12% and 3 per cent."]
    found = [locate(q, passages) for q in ("9%", "mid-2031", "12 percent", "3%")]
    spans = [passages[f.passage][f.start : f.end] for f in found if f is not None]
    assert spans == ["9 percent", "mid - 2031", "12%", "3 per cent"]
    assert all(f is not None and f.similarity == 1.0 for f in found)


def test_locate__fractions_and_ranges_in_words_or_figures() -> None:
    passages = ["About one-eighth of them left between 1702 and 1709, a quarter from 1710 to 1712."]
    quotes = ("1/8", "1702-1709", "1/4", "one eighth", "1710-1712", "1709", "a quarter from")
    found = [locate(q, passages) for q in quotes]
    spans = [passages[0][f.start : f.end] for f in found if f is not None]
    expected = ["one-eighth", "1702 and 1709", "a quarter", "one-eighth", "1710 to 1712", "1709"]
    assert spans == [*expected, "a quarter from"]


def test_locate__a_quote_spelt_as_written_is_found_as_written() -> None:
    passages = ["It hired a third party for a fifth straight year."]
    assert [
        passages[0][f.start : f.end] for f in [locate("fifth straight year", passages)] if f
    ] == ["fifth straight year"]


def test_locate__not_inside_a_longer_word() -> None:
    assert _span("pie") is None  # "pier" holds it, but no word "pie" is there


def test_locate__a_near_miss_is_the_closest_whole_words() -> None:
    found = locate("Marta Quill Oduya", PASSAGES)
    assert found is not None and 0.85 <= found.similarity < 1.0
    assert PASSAGES[found.passage][found.start : found.end] == "Marta Quill-Oduya"


def test_locate__what_is_not_there_is_not_an_answer() -> None:
    assert locate("12 billion dollars", PASSAGES) is None
    assert locate("Rotterdam", PASSAGES) is None
    assert locate("", PASSAGES) is None
    assert locate("...", PASSAGES) is None


def test_clean__strips_what_models_wrap_quotes_in() -> None:
    assert clean(' "4 May 2031". ') == "4 May 2031"
    assert clean("Answer: the new pier\nBecause ...") == "the new pier"
