"""What the person typed -> a clean question, its expected answer type, a follow-up resolved.

Pure logic: no model, no index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.errors import AssistantError, QuestionError
from assistant.question import (
    Turn,
    answer_type,
    question_words,
    rewrite,
    unwrapped,
    validate_history,
    validate_question,
)
from assistant.text import Vocabulary

ARTICLE = Path(__file__).resolve().parent.parent / "corpus" / "seres-huawei-aito.txt"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much did Seres lose in 2022?", "quantity"),
        ("How many cars did AITO sell in the first half of 2023?", "quantity"),
        ("What was the value of the AITO trademark?", "quantity"),
        ("What percentage of the IPO funds goes to R & D?", "percent"),
        ("By what percent did the stock rise on September 30?", "percent"),
        ("What share of Yinwang does Huawei hold?", "percent"),
        ("When did Yu Chengdong become CEO of the automotive BU?", "date"),
        ("In which year did Changan launch Avatr?", "date"),
        ("Who is the chairman of Seres?", "person"),
        ("What's the maximum stake Acme could take in the venture?", "percent"),
        ("How did Acme's R&D expenses change in 2024?", "quantity"),
        ("How did the deal change Acme's role?", "reason"),
        ("What was the size of Acme's net loss in 2022?", "quantity"),
        ("Which executive questioned the Smart Selection model?", "person"),
        ("Why did the Seres stock price fall in 2022?", "reason"),
        ("What caused the rebound of the stock price?", "reason"),
        ("Which brands were formed under HarmonyOS Smart Mobility?", "list"),
        ("What were the five brands?", "list"),
        ("Which five brands were formed?", "list"),
        ("What are the five major brands?", "list"),
        ("Which trademarks did Huawei transfer?", "list"),
        ("What is the name of the joint brand of Seres and Huawei?", "name"),
        ("How long did it take the new M7 to get 50,000 bookings?", "duration"),
        ("What has been the main source of pressure behind the stock price?", "other"),
        ("What was the main cause of the price war?", "reason"),
        ("What led the banks to cut their forecasts?", "reason"),
        ("Where is the company based?", "place"),
        ("In which city is the firm headquartered?", "place"),
        ("Trademark value?", "quantity"),
        ("Average monthly sales in H1 2023?", "quantity"),
        ("Give the total rise in the stock price since May.", "quantity"),
        ("Name the five brands formed under the model.", "list"),
        ("How much of it did the parent keep?", "percent"),
        ("What was the maximum shareholding the partner could take?", "percent"),
        ("How quickly did the car get 50,000 orders?", "duration"),
        ("Which high-end brand did the firm launch?", "name"),
    ],
)
def test_answer_type__follows_the_wh_word_and_head_noun(question: str, expected: str) -> None:
    assert answer_type(question) == expected


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\n\t \r\n", "empty"),
        ("\x00\x07\u200b", "empty"),
        ("x" * 1001, "limit is 1,000"),
    ],
    ids=["empty", "spaces", "blank-lines", "control-chars-only", "too-long"],
)
def test_validate_question__rejects_empty_or_overlong_questions(
    question: str, problem: str
) -> None:
    with pytest.raises(QuestionError, match=problem):
        validate_question(question, max_chars=1000)


@pytest.mark.parametrize("question", [None, 42, b"How much?", ["How much?"]])
def test_validate_question__rejects_what_is_not_text(question: Any) -> None:
    with pytest.raises(QuestionError, match="must be text"):
        validate_question(question, max_chars=1000)


def test_validate_question__errors_are_assistant_errors_and_value_errors() -> None:
    with pytest.raises(AssistantError):
        validate_question("", max_chars=10)
    with pytest.raises(ValueError):
        validate_question("", max_chars=10)


@pytest.mark.parametrize(
    ("question", "cleaned"),
    [
        ("  Who is the chairman of Seres?\n", "Who is the chairman of Seres?"),
        ("Who\x00 is the\u200b chairman?\x1b", "Who is the chairman?"),
        ("How much\r\ndid Seres\tlose in 2022?", "How much did Seres lose in 2022?"),
        (
            "Wie viel hat Seres 2022 verloren – 3,8 Mrd.?",
            "Wie viel hat Seres 2022 verloren – 3,8 Mrd.?",
        ),
    ],
)
def test_validate_question__strips_control_characters_and_extra_space(
    question: str, cleaned: str
) -> None:
    assert validate_question(question, max_chars=1000) == cleaned


def test_validate_question__accepts_a_question_exactly_at_the_limit() -> None:
    question = "Why? " + "x" * 995
    assert validate_question(question, max_chars=1000) == question


def test_validate_history__accepts_openai_and_gradio_messages() -> None:
    history = [
        {"role": "user", "content": "How much did Seres lose in 2020?"},
        {"role": "assistant", "content": [{"type": "text", "text": "**1.73 billion yuan**"}]},
    ]
    assert validate_history(history) == [
        Turn("user", "How much did Seres lose in 2020?"),
        Turn("assistant", "**1.73 billion yuan**"),
    ]
    assert validate_history(None) == []
    assert validate_history([]) == []


@pytest.mark.parametrize(
    "history",
    [
        "How much did Seres lose in 2020?",
        {"role": "user", "content": "Hi"},
        [("user", "Hi")],
        [None],
        [{"role": "system", "content": "You are a bot"}],
        [{"content": "Hi"}],
        [{"role": "user"}],
        [{"role": "user", "content": 2020}],
        [{"role": "user", "content": [{"type": "image", "url": 3}]}],
    ],
    ids=[
        "a-string",
        "a-single-dict",
        "tuples",
        "none-message",
        "system-role",
        "no-role",
        "no-content",
        "number-content",
        "non-text-part",
    ],
)
def test_validate_history__rejects_wrong_shapes_with_question_error(history: Any) -> None:
    with pytest.raises(QuestionError, match="history"):
        validate_history(history)


PREVIOUS = [
    Turn("user", "How much did Seres lose in 2020?"),
    Turn("assistant", "**1.73 billion yuan**\n\n> In 2020, only 732 units ... [1]"),
]


@pytest.mark.parametrize("followup", ["And in 2021?", "What about 2021?", "2021?"])
def test_rewrite__an_elliptical_follow_up_swaps_in_the_new_year(followup: str) -> None:
    query = rewrite(followup, PREVIOUS)
    assert "2021" in query.text
    assert "2020" not in query.text
    assert "lose" in query.text and "Seres" in query.text
    assert query.years == ["2021"]
    assert query.answer_type == "quantity"
    assert query.followup


def test_rewrite__a_pronoun_follow_up_searches_with_the_previous_topic() -> None:
    history = [
        Turn("user", "Which brand did Huawei launch with Chery?"),
        Turn("assistant", '**Luxeed**\n\n> In April 2023, Huawei ... the "Luxeed" brand. [1]'),
    ]
    query = rewrite("When was that announced?", history)
    assert query.text.startswith("When was that announced?")
    assert "Chery" in query.text
    assert "Luxeed" in query.text
    assert query.answer_type == "date"


def test_rewrite__an_and_question_with_its_own_wh_clause_keeps_its_words() -> None:
    history = [
        Turn("user", "What was the trademark valued at?"),
        Turn(
            "assistant",
            "**2.5 billion yuan**\n\n> The trademark was valued at 2.5 billion yuan. [1]",
        ),
    ]
    query = rewrite("And how much did the founder say it is really worth?", history)
    assert query.text.startswith("And how much did the founder say it is really worth?")
    assert "trademark" in query.text
    assert query.previous_answer == "2.5 billion yuan"
    assert query.answer_type == "quantity"


def test_rewrite__a_kept_answer_is_used_rather_than_the_reply_text() -> None:
    history = validate_history(
        [
            {"role": "user", "content": "Which automaker signed the memorandum with Bolt?"},
            # the reply's bold is a heading-like phrase, not the answer
            {"role": "assistant", "content": "**Signed** by Acme Motors.", "answer": "Acme Motors"},
        ]
    )
    assert history[1].answer == "Acme Motors"
    q = rewrite("Who chairs it?", history)
    assert q.subject == "Acme Motors"
    # an abstention kept as "" adds no answer to the search
    history = [history[0], history[1]._replace(answer="")]
    assert rewrite("Who chairs it?", history).subject == ""


def test_validate_history__a_non_text_answer_is_refused() -> None:
    with pytest.raises(QuestionError, match=r"history\[1\]\['answer'\]"):
        validate_history(
            [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello", "answer": 3},
            ]
        )


def test_rewrite__a_stand_alone_question_ignores_the_history() -> None:
    query = rewrite("Who is the chairman of Seres?", PREVIOUS)
    assert query.text == "Who is the chairman of Seres?"
    assert query.answer_type == "person"
    assert not query.followup


def test_rewrite__corrects_misspelt_words_against_the_corpus_vocabulary() -> None:
    vocabulary = Vocabulary([ARTICLE.read_text(encoding="utf-8")])
    query = rewrite("Who is the chariman of Seres in 2022?", [], vocabulary)
    assert query.text == "Who is the chairman of Seres in 2022?"
    assert query.years == ["2022"]


def test_vocabulary__leaves_known_words_one_letter_from_a_corpus_word_alone() -> None:
    from assistant.models import english_words

    vocabulary = Vocabulary([ARTICLE.read_text(encoding="utf-8")], known=english_words())
    assert "faster" in vocabulary.words
    assert vocabulary.correct("Who is the harbour master?") == "Who is the harbour master?"
    assert vocabulary.correct("Who is the chariman of Seres?") == "Who is the chairman of Seres?"


def test_unit__skips_of_the_and_possessives() -> None:
    from assistant.question import _unit

    assert _unit("How many of the brand's cars were sold?") == "cars"
    assert _unit("How many AITO vehicles were sold?") == "vehicles"


def test_rewrite__a_demonstrative_with_a_noun_is_a_follow_up() -> None:
    history = [
        Turn("user", "How much did the firm raise in its IPO?"),
        Turn("assistant", "**10 billion dollars**\n\n> The firm raised 10 billion dollars. [1]"),
    ]
    query = rewrite("What share of that money is earmarked for R&D?", history)
    assert query.followup
    assert "IPO" in query.text


def test_tokens__letters_joined_by_ampersand_are_one_word() -> None:
    from assistant.text import tokens

    assert tokens("R & D spend") == tokens("R&D spend") == ["rd", "spend"]


def test_tokens__a_function_word_with_a_clitic_is_no_content_word() -> None:
    from assistant.text import tokens

    assert tokens("What's the company's revenue?") == tokens("What is the company revenue?")
    assert tokens("Who's the CEO? They didn't say, it won't, we've, I'd") == ["ceo"]
    assert tokens("Seres' stock, O'Brien's plan") == ["sere", "stock", "o'brien", "plan"]


def test_vocabulary__a_question_in_capitals_is_cased_as_the_documents_write_it() -> None:
    vocabulary = Vocabulary(["Seres raised HK$10 billion in its IPO.", "Seres grew. The IPO"])
    assert vocabulary.truecase("HOW MUCH DID SERES' IPO RAISE?") == "How much did Seres' IPO raise?"
    assert vocabulary.truecase("WHO IS JANE ROE?") == "Who is jane roe?"  # unknown: lower case
    for asis in ("How much did SERES raise?", "IPO?", "2025?", ""):
        assert vocabulary.truecase(asis) == asis


def test_rewrite__reads_a_question_in_capitals_as_the_documents_write_it() -> None:
    vocabulary = Vocabulary(["Acme Motors lost 3.2 billion yuan in 2022."])
    query = rewrite("HOW MUCH DID ACME MOTORS LOSE IN 2022?", [], vocabulary)
    assert query.text == "How much did Acme Motors lose in 2022?"
    assert query.names == rewrite("How much did Acme Motors lose in 2022?", []).names


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("Please tell me: when was the plant opened?", "When was the plant opened?"),
        ("Please, when was the plant opened?", "When was the plant opened?"),
        ("Could you please tell me who chairs Acme?", "Who chairs Acme?"),
        ("I'd like to know how much Acme lost", "How much Acme lost"),
        ("Do you know who chairs Acme, please?", "Who chairs Acme?"),
        ("When was the plant opened, thanks?", "When was the plant opened?"),
        # no wrapper: kept as typed
        ("Tell me how many cars Acme sold.", "Tell me how many cars Acme sold."),
        ("Tell me about Acme", "Tell me about Acme"),
        ("Who said please?", "Who said please?"),
        ("Do you know the price?", "Do you know the price?"),
        ("Please", "Please"),
    ],
)
def test_unwrapped__drops_a_polite_wrapper_only(typed: str, read: str) -> None:
    assert unwrapped(typed) == read
    if typed != read:
        assert rewrite(typed, []).text == read


def test_vocabulary__leaves_common_question_words_alone() -> None:
    vocabulary = Vocabulary(["The firm will compete in 2025.", *question_words()])
    assert vocabulary.correct("When did it complete its IPO?") == "When did it complete its IPO?"


def test_constraint_names__skip_fronted_clauses_and_modifiers() -> None:
    from assistant.question import _constraint_names

    assert _constraint_names("After Acme launched Zed, how much did Bolt fall?") == ["Bolt"]
    assert _constraint_names("What was the Lyon carmaker worth?") == []
    assert _constraint_names("Which US bank warned Acme?") == ["Acme"]


def test_rewrite__the_year_before_shifts_the_previous_year() -> None:
    history = [
        Turn("user", "How much did the firm lose in 2022?"),
        Turn("assistant", "**3.8 billion yuan**"),
    ]
    query = rewrite("And the year before?", history)
    assert query.years == ["2021"]
    assert "2021" in query.text
    assert query.answer_type == "quantity"


def test_abbreviated_months_are_written_out() -> None:
    assert rewrite("Acme share drop on Nov 27?", []).text == "Acme share drop on November 27?"
    assert rewrite("Did it rise in Nov?", []).text == "Did it rise in Nov?"  # no day: unchanged


def test_common_verbs_are_no_typos_of_wh_words() -> None:
    vocabulary = Vocabulary(["Parts were put into the car.", *question_words()])
    assert vocabulary.correct("What parts went into it?") == "What parts went into it?"


def test_pronoun_after_a_name_answer_stands_for_that_name() -> None:
    history = [
        Turn("user", "Which automaker signed the memorandum with Bolt?"),
        Turn("assistant", "Acme Motors."),
    ]
    q = rewrite("Who chairs it?", history)
    assert q.subject == "Acme Motors"
    assert q.text == "Who chairs it? Acme Motors"
    assert q.names == ["Acme Motors"]
    # After a quantity answer "it" is the previous topic, searched with the previous question.
    history = [Turn("user", "How much did Acme lose in 2022?"), Turn("assistant", "3 billion yuan")]
    q = rewrite("When was it reported?", history)
    assert q.subject == "" and "How much did Acme lose in 2022?" in q.text


def test_fronted_clause_does_not_set_the_answer_type() -> None:
    assert answer_type("When the firm got into the black, what did it earn?") == "quantity"
    assert answer_type("When did it happen, and why?") == "date"


def test_corrector_keeps_words_next_to_one_the_question_uses() -> None:
    vocabulary = Vocabulary(["It came back to profit.", *question_words()])
    assert vocabulary.correct("It got back into the black.") == "It got back into the black."
