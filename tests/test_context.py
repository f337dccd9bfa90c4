"""What the language model reads: paragraphs rebuilt at exact offsets, sentence windows."""

from __future__ import annotations

from assistant.context import paragraphs_of, windows, within
from assistant.types import Passage

SENTENCES = ["One a.", "Two b.", "Three c.", "Four d.", "Five e.", "Six f.", "Seven g."]


def _passages() -> list[Passage]:
    out, pos = [], 0
    for n, text in enumerate(SENTENCES):
        out.append(
            Passage(
                f"d.txt#{pos}-{pos + len(text)}",
                "d.txt",
                pos,
                pos + len(text),
                text,
                None,
                "sentence",
                0,
                n,
                text,
            )
        )
        pos += len(text) + 1
    return out


def test_paragraph__text_sits_at_the_document_offsets() -> None:
    piece = paragraphs_of(_passages())[("d.txt", 0)]
    doc = " ".join(SENTENCES)
    assert piece.start == 0 and piece.text == doc
    assert piece.sentence_at(doc.index("Four")).text == "Four d."


def test_windows__anchors_far_apart_give_two_windows_best_first() -> None:
    ps = _passages()
    got = windows([ps[5], ps[1]], paragraphs_of(ps), count=3)
    assert [w.text for w in got] == ["Five e. Six f. Seven g.", "One a. Two b. Three c."]


def test_windows__a_window_joining_two_others_leaves_one_window_and_no_repeated_text() -> None:
    ps = _passages()
    anchors = [ps[0], ps[4], ps[2]]  # windows 0-1 and 3-5, then 1-3 joins them
    got = windows(anchors, paragraphs_of(ps), count=3)
    assert [w.text for w in got] == ["One a. Two b. Three c. Four d. Five e. Six f."]


def test_windows__count_limits_new_windows_but_not_growing_ones() -> None:
    ps = _passages()
    got = windows([ps[0], ps[6], ps[4]], paragraphs_of(ps), count=1)
    assert [w.text for w in got] == ["One a. Two b."]


def test_windows__a_window_too_short_to_read_alone_brings_the_next_one() -> None:
    ps = _passages()
    anchors = [ps[0], ps[6]]
    got = windows(anchors, paragraphs_of(ps), count=1, min_chars=20)  # "One a. Two b." is 13
    assert [w.text for w in got] == ["One a. Two b.", "Six f. Seven g."]
    assert len(windows(anchors, paragraphs_of(ps), count=1, min_chars=10)) == 1


def test_within__keeps_the_best_pieces_that_fit_and_cuts_a_first_one_too_long() -> None:
    ps = _passages()
    paragraph = paragraphs_of(ps)[("d.txt", 0)]
    got = within([paragraph], 20)
    assert len(got) == 1 and len(got[0].text) <= 20 and paragraph.text.startswith(got[0].text)


def test_windows__width_0_reads_the_hit_sentences_alone() -> None:
    ps = _passages()
    got = windows([ps[5], ps[1], ps[2]], paragraphs_of(ps), count=2, width=0)
    assert [p.text for p in got] == ["Six f.", "Two b. Three c."]  # touching anchors join
