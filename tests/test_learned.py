"""The learned answerer (the default) end to end: real index, reader, rules and abstainer,
on a small corpus of our own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant import ConfigError, Settings, ask
from assistant.context import ranked_paragraphs
from assistant.engine import engine_for
from assistant.learned import Candidate, LearnedAnswerer, _agrees
from assistant.question import Query, rewrite
from assistant.types import Answer, Hit, Passage

ACME = """Acme Motors Quarterly Notes
Acme Motors lost 3.2 billion yuan in 2022. The loss came from a costly price war.
Jane Doe, the chairman of Acme Motors, said the firm would recover.
New Plants
In May 2023, Acme Motors opened a plant in Lyon. The plant can build 80,000 cars a year.
"""


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("acme-learned")
    (root / "corpus").mkdir()
    (root / "corpus" / "acme.txt").write_text(ACME, encoding="utf-8")
    return Settings(corpus_dir=root / "corpus", index_dir=root / "index", answerer="learned")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When did Acme Motors open the Lyon plant?", "May 2023"),
        ("Who is the chairman of Acme Motors?", "Jane Doe"),
    ],
)
def test_learned__answers_with_the_sentence_holding_the_span_cited_first(
    acme: Settings, question: str, expected: str
) -> None:
    answer = ask(question, settings=acme)
    assert answer.answer == expected
    first = answer.citations[0]
    assert expected in first.text
    assert ACME[first.start : first.end] == first.text
    assert answer.text.startswith(f"**{expected}**")


def test_learned__abstains_when_the_corpus_does_not_say(acme: Settings) -> None:
    answer = ask("Who founded Tesla?", settings=acme)
    assert answer.abstained and answer.answer == ""
    assert answer.text.startswith("The document doesn't say")
    assert all(ACME[c.start : c.end] == c.text for c in answer.citations)


def _proposed(acme: Settings, question: str) -> tuple[LearnedAnswerer, Query, list[Hit], Answer]:
    """The learned answerer, the rewritten question, its hits and the rules' reply."""
    retriever, answerer = engine_for(acme)
    assert isinstance(answerer, LearnedAnswerer)
    query = rewrite(question, [], retriever.vocabulary)
    hits = retriever.search(query.text)
    return answerer, query, hits, answerer.rules.answer(question, query, hits, acme)


def test_learned__the_rules_reply_is_one_of_the_candidates(acme: Settings) -> None:
    answerer, query, hits, ruled = _proposed(acme, "How much did Acme Motors lose in 2022?")
    ranked = answerer.candidates(query, hits, acme, ruled)
    assert not ruled.abstained and "3.2 billion yuan" in ruled.answer
    replies = [c for c in ranked if c.reply is not None]
    assert len(replies) == 1 and replies[0].evidence.from_rules
    assert replies[0].text == ruled.answer
    spans = [c for c in ranked if c.reply is None]
    assert spans and all(c.evidence.rules_answer == ruled.answer for c in spans)
    assert ranked == sorted(ranked, key=lambda c: -c.probability)


def test_learned__of_overlapping_spans_only_the_best_read_is_a_candidate(acme: Settings) -> None:
    answerer, query, hits, ruled = _proposed(acme, "Who said the firm would recover?")
    order = ranked_paragraphs(hits)[0][: acme.reader_passages]
    paragraphs = [answerer.paragraphs[k] for k in order]
    read = answerer.reader.read(query.text, [p.text for p in paragraphs])
    spans = [c for c in answerer.candidates(query, hits, acme, ruled) if c.reply is None]
    # the reader proposes nested spans ("Jane Doe", "Jane Doe, the chairman of ...")
    assert len(spans) < len(read)
    for i, a in enumerate(spans):
        assert not any(a.start < b.end and b.start < a.end for b in spans[i + 1 :])
    best = read[0]
    top = paragraphs[best.context]
    assert any(c.start == top.start + best.start and c.end == top.start + best.end for c in spans)


def _sentence(start: int, text: str) -> Passage:
    end = start + len(text)
    return Passage(f"a.txt#{start}-{end}", "a.txt", start, end, text, None, "sentence", 0, 0, text)


def _span(text: str, sentence: Passage) -> Candidate:
    at = sentence.start + sentence.text.index(text)
    return Candidate(text, "a.txt", at, at + len(text), sentence, 0.5)


def test_learned__a_reader_span_backs_the_rules_reply_where_it_was_read() -> None:
    priced = _sentence(0, "It was the best car under 10 million yuan, Jane said.")
    worth = _sentence(60, "The brand is worth over 10 billion yuan.")
    # most words shared but another figure of another sentence: no backing
    assert not _agrees(_span("10 billion yuan", worth), "under 10 million yuan", priced)
    # the same sentence, or the very same words anywhere
    assert _agrees(_span("10 million yuan", priced), "under 10 million yuan", priced)
    assert _agrees(_span("10 billion yuan", worth), "over 10 billion yuan", priced)
    assert not _agrees(_span("Jane", priced), "under 10 million yuan", priced)


def test_learned__keeps_the_rules_reason_when_both_abstain(acme: Settings) -> None:
    answer = ask("Who founded Tesla?", settings=acme)
    assert answer.abstained
    assert "does not mention Tesla" in answer.text


def test_learned__a_question_about_the_title_is_answered_from_the_heading(acme: Settings) -> None:
    answer = ask("What is the title of the document?", settings=acme)
    assert answer.answer == "Acme Motors Quarterly Notes"
    assert answer.citations[0].start == 0


def test_rules_answerer__answers_alone_when_chosen(acme: Settings) -> None:
    rules = replace(acme, answerer="rules")
    _, answerer = engine_for(rules)
    assert not isinstance(answerer, LearnedAnswerer)
    answer = ask("How much did Acme Motors lose in 2022?", settings=rules)
    assert answer.answer == "3.2 billion yuan"
    assert ACME[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].text


def test_settings__the_cascade_is_the_default() -> None:
    assert Settings().answerer == "auto"
    assert Settings.from_env({"ASSISTANT_ANSWERER": "rules"}).answerer == "rules"


def test_settings__an_unknown_answerer_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="answerer"):
        Settings.from_env({"ASSISTANT_ANSWERER": "magic"})
