"""Which questions can reach the documents' words (``assistant.reach``), made-up text."""

from __future__ import annotations

from assistant.reach import Reach, letter_scripts, script

DOCS = [
    "The Harbour Board of Velmora met on 4 May 2031. Its chair, Marta Quill-Oduya, said the "
    "new pier would cost 41.5 million crowns.",
    "Fishing fleets have used the old pier since 1911.",
]


def test_script__names_the_writing_system_of_a_letter() -> None:
    assert [script(c) for c in "aéЖ港ひカ"] == [
        "Latin",
        "Latin",
        "Cyrillic",
        "Han",
        "Japanese",
        "Japanese",
    ]
    assert letter_scripts("Pier 7, 港!") == {"Latin": 4, "Han": 1}


def test_why_not__a_question_in_the_documents_words_reaches_them() -> None:
    reach = Reach(DOCS)
    assert reach.why_not("How much will the new pier cost?") == ""
    assert reach.why_not("Who chaired the board?") == ""  # stems meet: chaired / chair
    assert reach.why_not("What is it?") == ""  # no content word: nothing to test


def test_why_not__another_script_or_no_shared_word_does_not() -> None:
    reach = Reach(DOCS)
    assert "Han script" in reach.why_not("维尔莫拉的新码头要花多少钱？")
    assert "Cyrillic script" in reach.why_not("Сколько стоит новый причал?")
    assert reach.why_not("Which quasar emits gamma rays?") == (
        "0 of the question's 4 content words occur in the documents"
    )
    assert "1 of the question's 3" in reach.why_not("Which quasar owns the pier?")
    assert reach.why_not("Which fleet owns the pier?") == ""  # 2 of 3


def test_why_not__a_name_in_another_script_inside_an_english_question_is_fine() -> None:
    assert Reach(DOCS).why_not("Did the pier of 維爾莫拉 cost 41.5 million crowns?") == ""


def test_reach__documents_in_two_scripts_take_questions_in_either() -> None:
    reach = Reach([*DOCS, "新码头的费用是四千一百五十万克朗。" * 3])
    assert reach.scripts == {"Latin", "Han"}
    assert reach.why_not("新码头的费用是多少？") == ""


def test_why_not__accents_typed_or_not_reach_the_same_words() -> None:
    reach = Reach([*DOCS, "The harbour master, Jörg Müller, signed the deed."])
    assert reach.why_not("Who is Muller?") == ""
    assert reach.why_not("Which pièr did Velmorà build?") == ""
