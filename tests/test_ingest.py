"""Corpus files -> passages: exact offsets, headings and captions, unusable files.

Pure apart from reading files: no model, no index. The article is copied from
corpus/ into a tmp folder; corpus/ itself is never touched.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import CorpusError
from assistant.ingest import (
    Document,
    load_passages,
    passages_from_document,
    read_corpus,
    scan_corpus,
    split_sentences,
)

ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "seres-huawei-aito.txt"


@pytest.fixture
def article_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    return corpus


def _round_trips(doc: Document) -> None:
    passages = passages_from_document(doc)
    assert passages
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        assert p.id == f"{doc.source}#{p.start}-{p.end}"


def test_load_passages__every_article_passage_round_trips_to_the_file(
    article_corpus: Path,
) -> None:
    docs, passages = load_passages(article_corpus)
    text = (article_corpus / ARTICLE.name).read_text(encoding="utf-8")
    assert [d.source for d in docs] == [ARTICLE.name]
    assert len(passages) > 100
    for p in passages:
        assert p.source == ARTICLE.name
        assert text[p.start : p.end] == p.text
    assert len({p.id for p in passages}) == len(passages)
    assert [p.position for p in passages] == list(range(len(passages)))


def test_load_passages__article_quirks_stay_inside_one_sentence(article_corpus: Path) -> None:
    _, passages = load_passages(article_corpus)
    texts = [p.text for p in passages]
    assert (
        "From 2020 to 2022, Seres suffered continuous losses of 1.729 billion yuan, "
        "1.824 billion yuan, and 3.832 billion yuan respectively." in texts
    )
    assert any(
        t.startswith("Huawei's increasing diversification") and "under - expected" in t
        for t in texts
    )
    assert any(
        "product definition, design, R & D, manufacturing, and marketing" in t for t in texts
    )
    assert 'Yu Chengdong described it as a "smart terminal on wheels."' in texts


TRICKY = (
    "Mr. Yu Reports\n"
    'Mr. Yu said the results were "under - expected." Revenue reached 1.729 billion yuan. '
    "U.S. firms spent more on R & D than Seres did. Did it work? Yes!\n"
    "Seres Super Factory\n"
    "New Challenges\n"
    "The firm grew 7.6% (from 2.5 to 2.69 billion). Dr. Li agreed: it was “remarkable.”\n"
)


def test_passages_from_document__tricky_text_round_trips_and_splits_where_a_reader_would() -> None:
    doc = Document("tricky.txt", TRICKY, "0")
    _round_trips(doc)
    sentences = [p.text for p in passages_from_document(doc) if p.kind == "sentence"]
    assert sentences == [
        'Mr. Yu said the results were "under - expected."',
        "Revenue reached 1.729 billion yuan.",
        "U.S. firms spent more on R & D than Seres did.",
        "Did it work?",
        "Yes!",
        "The firm grew 7.6% (from 2.5 to 2.69 billion).",
        "Dr. Li agreed: it was “remarkable.”",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Losses were 1.729 billion yuan. Costs rose.",
            ["Losses were 1.729 billion yuan.", "Costs rose."],
        ),
        ("Mr. Yu spoke. U.S. firms reacted.", ["Mr. Yu spoke.", "U.S. firms reacted."]),
        ("It was under - expected. R & D grew.", ["It was under - expected.", "R & D grew."]),
        (
            'He called it "far ahead." Others disagreed.',
            ['He called it "far ahead."', "Others disagreed."],
        ),
        ("Was it? Yes! It was.", ["Was it?", "Yes!", "It was."]),
        ("It rose 7.6%. Then it fell.", ["It rose 7.6%.", "Then it fell."]),
    ],
)
def test_split_sentences__keeps_decimals_abbreviations_and_quotes_together(
    text: str, expected: list[str]
) -> None:
    assert [text[a:b] for a, b in split_sentences(text)] == expected


def test_split_sentences__a_sentence_ending_in_r_and_d_ends_there() -> None:
    text = "It wanted funds for new R & D. When the unit made profits, it changed course."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "It wanted funds for new R & D.",
        "When the unit made profits, it changed course.",
    ]


_PIECES = st.sampled_from(
    [*"abcXYZ19 .!?,;:'\"“”()&-#\n\t", "Mr.", "U.S.", "1.729", "R & D", " - ", "\n\n", "## Head\n"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_passages_from_document__any_text_round_trips_and_covers_every_word(text: str) -> None:
    passages = passages_from_document(Document("x.txt", text, "0"))
    covered: set[int] = set()
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.text and p.text == p.text.strip()
        covered.update(range(p.start, p.end))
    for a, b in itertools.pairwise(passages):
        assert a.end <= b.start
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_load_passages__article_headings_captions_and_title(article_corpus: Path) -> None:
    _, passages = load_passages(article_corpus)
    kinds = {p.text: p.kind for p in passages if p.kind != "sentence"}
    assert passages[0].kind == "heading"
    assert passages[0].text.startswith("Under the shadow of Huawei")
    assert kinds == {
        passages[0].text: "heading",
        "Contract Manufacturing for Huawei: A Soaring Stock Price": "heading",
        "Seres Super Factory": "caption",
        "A Difficult Turnaround": "heading",
        "AITO M9": "caption",
        "Investing in Yinwang and Acquiring the AITO Trademark": "heading",
        "New Challenges": "heading",
    }


def test_load_passages__sentences_carry_the_heading_above_them_not_a_caption(
    article_corpus: Path,
) -> None:
    _, passages = load_passages(article_corpus)
    section = {p.text: p.section for p in passages if p.kind == "sentence"}
    assert (
        section['The trademark of "AITO" was valued at 2.5 billion yuan.']
        == "Investing in Yinwang and Acquiring the AITO Trademark"
    )
    turnaround = next(
        t for t in section if t.startswith("Contract manufacturing for Huawei allowed")
    )
    assert section[turnaround] == "A Difficult Turnaround"
    assert (
        section[
            "In 2024, Seres' R & D expenses tripled, and it maintained a high - level "
            "investment in 2025."
        ]
        == "New Challenges"
    )
    assert "AITO M9" not in set(section.values())
    assert "Seres Super Factory" not in set(section.values())


MARKDOWN = """# Acme Motors Annual Report

Acme Motors sold 12,000 cars. It opened a plant in Lyon.

## Results
Revenue rose 7.6% in 2024.
Profit was 5.95 billion yuan.

## Outlook

The firm plans to grow. It will hire engineers.
"""


def test_load_passages__markdown_headings_and_blank_line_paragraphs(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text(MARKDOWN, encoding="utf-8")
    docs, passages = load_passages(tmp_path)
    assert docs[0].source == "report.md"
    for p in passages:
        assert MARKDOWN[p.start : p.end] == p.text
    headings = [(p.text, p.section) for p in passages if p.kind == "heading"]
    assert headings == [
        ("# Acme Motors Annual Report", "Acme Motors Annual Report"),
        ("## Results", "Results"),
        ("## Outlook", "Outlook"),
    ]
    by_text = {p.text: p for p in passages}
    assert by_text["Acme Motors sold 12,000 cars."].section == "Acme Motors Annual Report"
    assert by_text["Revenue rose 7.6% in 2024."].section == "Results"
    assert by_text["It will hire engineers."].section == "Outlook"
    # Blank lines separate paragraphs; a single newline inside one does not.
    assert (
        by_text["Acme Motors sold 12,000 cars."].paragraph
        == by_text["It opened a plant in Lyon."].paragraph
    )
    assert (
        by_text["Revenue rose 7.6% in 2024."].paragraph
        == by_text["Profit was 5.95 billion yuan."].paragraph
    )
    assert (
        by_text["It opened a plant in Lyon."].paragraph
        != by_text["Revenue rose 7.6% in 2024."].paragraph
    )


def test_load_passages__short_sentences_carry_their_neighbours_as_context(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text(MARKDOWN, encoding="utf-8")
    _, passages = load_passages(tmp_path, window=1)
    by_text = {p.text: p for p in passages}
    context = by_text["It opened a plant in Lyon."].context
    assert "Acme Motors sold 12,000 cars." in context
    # Context never reaches across a heading into another section.
    assert "Revenue" not in context
    assert (
        by_text["The firm plans to grow."].context
        == "The firm plans to grow. It will hire engineers."
    )


def test_scan_corpus__lists_subfolders_skips_hidden_files_and_flags_unread_types(
    tmp_path: Path,
) -> None:
    (tmp_path / "b.txt").write_text("Second file.", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# Notes\n\nA note.", encoding="utf-8")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / ".draft.txt").write_text("Hidden draft.", encoding="utf-8")
    (tmp_path / "examples.json").write_text('{"examples": []}', encoding="utf-8")

    files = scan_corpus(tmp_path)

    assert [(f.source, f.problem is None) for f in files] == [
        ("b.txt", True),
        ("notes/a.md", True),
        ("sheet.xlsx", False),
    ]
    assert "does not read .xlsx" in str(files[2].problem)
    with pytest.raises(CorpusError, match=r"sheet\.xlsx"):
        read_corpus(tmp_path)
    (tmp_path / "sheet.xlsx").unlink()
    assert [d.source for d in read_corpus(tmp_path)] == ["b.txt", "notes/a.md"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"  \n\n\t ", "empty"),
        (b"Revenue\x00\x01\x02 grew.", "binary"),
        ("Café crème, 12 £.".encode("latin-1"), "UTF-8"),
    ],
    ids=["empty", "whitespace-only", "binary", "latin-1"],
)
def test_read_corpus__an_unusable_file_raises_corpus_error_naming_it(
    article_corpus: Path, content: bytes, problem: str
) -> None:
    (article_corpus / "broken notes.txt").write_bytes(content)
    with pytest.raises(CorpusError) as err:
        read_corpus(article_corpus)
    assert "broken notes.txt" in str(err.value)
    assert problem in str(err.value)


def test_read_corpus__missing_folder_raises_corpus_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-corpus"
    with pytest.raises(CorpusError, match=r"no-such-corpus.*does not exist"):
        read_corpus(missing)


def test_read_corpus__folder_without_documents_raises_corpus_error_naming_it(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "empty-corpus"
    corpus.mkdir()
    (corpus / ".hidden.txt").write_text("Hidden.", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"empty-corpus holds no document \(\.txt, \.md, \.pdf"):
        read_corpus(corpus)
