"""General answer-selection rules of the ranker, on made-up sentences."""

from __future__ import annotations

from assistant import extract
from assistant.rank import _ROLE_OF, _defines_role


def test_defines_role__an_apposition_naming_the_role_and_organisation() -> None:
    text = "At the event, Jane Doe, the chairman of Acme, spoke."
    span = extract.Span(14, 22, "Jane Doe", "person")
    assert _defines_role(text, span, "Who is the chairman of Acme?")
    assert not _defines_role(text, span, "Who is the chairman of Bolt?")


def test_role_of__finds_the_post_and_its_owner() -> None:
    assert _ROLE_OF.findall("She served as the CEO of the car unit.") == [("CEO", "car unit")]
