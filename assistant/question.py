"""From what the person typed to what we search for and what kind of answer we expect.

Scope: input validation, the question word's class, the years and names a question
states, and rewriting follow-ups with the chat history ("And in 2021?", "When was that
announced?").
Non-goals: full parsing or coreference resolution.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.errors import QuestionError
from assistant.text import STOPWORDS, Vocabulary, tokens

Turn = tuple[str, str]  # (role, content)
MAX_TURNS = 20  # history kept for resolving follow-ups

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
_COUNT_WORDS = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
_PRONOUN = re.compile(
    r"\b(it|its|that|this|they|them|their|he|him|his|she|her|those|these|there|then|"
    r"the (?:company|firm|brand|deal|year|same)|the year (?:after|before))\b",
    re.I,
)
_SUBJECT_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|he|him|his|she|her)\b", re.I)
_DEMONSTRATIVE = re.compile(
    r"\b(?:that|those|these)\s+(?!(?:the|a|an|it|its|they|he|she|we|is|was|are|were)\b)[a-z]+\b"
)
_ELLIPSIS = re.compile(
    r"^\s*(and|also|what about|how about|and what about|and how about|or)\b", re.I
)
_WH_WORDS = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")
_WH = re.compile(rf"\b({'|'.join(_WH_WORDS)})\b", re.I)
_CONTRACTION = re.compile(r"\b(what|who|where|when|how|which)['’]s\b")
# Abbreviated months before a day or year ("Nov 27") are written out as documents do.
_MONTH_ABBR = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "sept": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}
_ABBREVIATED_MONTH = re.compile(r"\b(" + "|".join(_MONTH_ABBR) + r")\.?(?=\s+\d)", re.I)

_MONTHS = {
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
}


@dataclass(frozen=True)
class Query:
    """An analysed question. ``text`` is what retrieval searches and the reader reads."""

    text: str
    answer_type: str  # the question word's class: how_many, when, who, ... (``wh_class``)
    years: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # capitalised terms the question names
    followup: bool = False
    # What a follow-up's pronoun stands for when the previous answer was a name
    # ("Which automaker ...?" "Acme." "Who chairs it?" -> "Acme").
    subject: str = ""


def validate_question(question: Any, max_chars: int) -> str:
    """Clean a question or raise ``QuestionError``. Example: "  Who?\\x00 " -> "Who?"."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Ask a shorter question."
        )
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in question
    )
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("the question is empty; type a question about the document")
    return cleaned


def validate_history(history: Any) -> list[Turn]:
    """Chat history as (role, content) pairs, from OpenAI/Gradio-style messages.

    Example: [{"role": "user", "content": "Hi"}] -> [("user", "Hi")]
    """
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise QuestionError(
            'history must be a list of {"role": "user"|"assistant", "content": str} messages'
        )
    turns: list[Turn] = []
    for i, message in enumerate(history):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise QuestionError(
                f'history[{i}] must be a {{"role": "user"|"assistant", "content": str}} message'
            )
        content = _content_text(message.get("content"))
        if content is None:
            raise QuestionError(f"history[{i}]['content'] must be text")
        turns.append((message["role"], content[:4000]))
    # Follow-ups resolve against recent turns only; older ones can't change the reading.
    return turns[-MAX_TURNS:]


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # Gradio/OpenAI content parts: [{"type": "text", "text": ...}]
        parts = [c.get("text") for c in content if isinstance(c, dict)]
        if all(isinstance(p, str) for p in parts):
            return " ".join(p for p in parts if isinstance(p, str))
    return None


def wh_class(question: str) -> str:
    """The kind of answer the question word asks for.

    Example: "How many ships sank?" -> "how_many"; "In what year did it end?" -> "when"
    """
    q = question.lower()
    for kind, pattern in _WH_CLASSES:
        if re.search(pattern, q):
            return kind
    return "which_what"


_WH_CLASSES = (
    ("how_many", r"\bhow (?:many|large|big|high|long|old|far)\b"),
    ("how_much", r"\bhow much\b|\b(?:what|which) (?:percentage|amount|number)\b"),
    ("when", r"\bwhen\b|\b(?:what|which) (?:year|month|day|date|century|decade|time)\b"),
    ("who", r"\bwho(?:m|se)?\b"),
    ("where", r"\bwhere\b"),
    ("why", r"\bwhy\b"),
    ("how", r"\bhow\b"),
)
WH_CLASSES = (*(kind for kind, _ in _WH_CLASSES), "which_what")


def _names(question: str) -> list[str]:
    """Capitalised words the question names (not its first word). Example: "Did Seres win?" -> ["Seres"]"""
    found = []
    for m in re.finditer(r"\b[A-Z][\w&+-]*(?:\s+[A-Z0-9][\w&+-]*)*", question):
        word = m.group(0)
        if m.start() == 0 or question[: m.start()].rstrip().endswith((".", "?", "!")):
            parts = word.split()
            if len(parts) == 1 and not word.isupper():
                continue
            kept = [p for p in parts if not _WH.fullmatch(p)]
            while len(kept) > 1 and kept[0].lower() in STOPWORDS:
                kept = kept[1:]  # "After Acme announced ..." names Acme
            word = " ".join(kept) or word
        if _WH.fullmatch(word) or word.split()[0].lower() in _MONTHS:
            continue
        found.append(word)
    return found


def analyse(text: str, followup: bool = False) -> Query:
    """Analyse a stand-alone question."""
    return Query(
        text=text,
        answer_type=wh_class(text),
        years=_YEAR.findall(text),
        names=_names(text),
        followup=followup,
    )


def question_words() -> set[str]:
    """Common question words, for correcting misspelt words of a question."""
    return set(_QUESTION_WORDS) | set(_WH_WORDS)


# Common English words of questions that a document may not use: known words, so the
# spelling corrector leaves them alone ("complete" is not a typo of "compete").
_QUESTION_WORDS = frozenset(
    """complete completed completing finish finished happen happened occur occurred describe
    described explain explained mention mentioned average overall maximum minimum roughly
    approximately originally currently initially founded located employ employs employees
    spend spent earn earned cost costs pay paid keep kept hold held total whole entire full
    quickly fast soon first last latest recent previous following went gone goes""".split()
)


def _is_followup(question: str) -> bool:
    words = question.split()
    return bool(
        _ELLIPSIS.match(question)
        or (len(words) <= 4 and not _WH.search(question))
        or (len(words) <= 9 and _PRONOUN.search(question) and not _names(question))
        # "What share of that money ...?": a demonstrative with a noun points back.
        or (len(words) <= 12 and _DEMONSTRATIVE.search(question) is not None)
        # "In how many days?", "When?": too little of its own to stand alone.
        or (len(words) <= 5 and not _names(question) and len(tokens(question)) <= 1)
    )


def _year_shift(question: str) -> int:
    """-1 for "the year before", +1 for "the year after", else 0."""
    if re.search(
        r"\b(?:year|one year) (?:before|earlier|prior)\b|\bprevious year\b", question, re.I
    ):
        return -1
    if re.search(
        r"\b(?:year|one year) (?:after|later)\b|\b(?:next|following) year\b", question, re.I
    ):
        return 1
    return 0


def _elliptical(question: str) -> bool:
    """A fragment that borrows the previous question ("And in 2021?", "What about Acme?").

    "And how much did Jane say it is worth?" opens like one but asks a question of its own.
    """
    if not _WH.search(question):
        return True
    if not _ELLIPSIS.match(question):
        return False
    rest = re.sub(r"^\s*(?:and|also|or)?\s*(?:(?:what|how) about\b)?", "", question, flags=re.I)
    return not (_WH.match(rest.strip()) and len(rest.split()) >= 5)


def _short_answer(reply: str) -> str:
    bold = re.search(r"\*\*(.+?)\*\*", reply)
    return (bold.group(1) if bold else reply.split("\n", 1)[0])[:160]


def rewrite(question: str, history: list[Turn], vocabulary: Vocabulary | None = None) -> Query:
    """Resolve a follow-up against the history, after correcting misspelt words.

    Examples (previous question "How much did the firm lose in 2020?"):
    "And in 2021?" -> "How much did the firm lose in 2021?";
    "When was that announced?" -> "When was that announced? How much did the firm lose ..."
    """
    question = _ABBREVIATED_MONTH.sub(lambda m: _MONTH_ABBR[m.group(1).lower()], question)
    if vocabulary is not None:
        question = vocabulary.correct(question)
    previous_questions = [c for r, c in history if r == "user"]
    if not previous_questions or not _is_followup(question):
        return analyse(question)
    prior = rewrite(previous_questions[-1], history[: _last_user_index(history)], vocabulary)
    replies = [c for r, c in history if r == "assistant"]
    own = analyse(question, followup=True)
    shift = _year_shift(question)
    if shift and not own.years and len(prior.years) == 1:
        # "And the year before?" after a 2022 question asks about 2021.
        own = replace(own, years=[str(int(prior.years[0]) + shift)])
    if _elliptical(question):
        # Ellipsis: keep the previous question, swap in the new year/name.
        text = prior.text
        for old, new in zip(prior.years, own.years, strict=False):
            text = text.replace(old, new)
        extra = [n for n in own.names if n not in text]
        rest = " ".join(extra) if not own.years or extra else ""
        text = f"{text} {rest}".strip()
        years = own.years or prior.years
        return Query(
            text=text,
            answer_type=wh_class(text),
            years=years,
            names=own.names + [n for n in prior.names if n not in own.names],
            followup=True,
        )
    # Anaphora: search with the new question plus the previous topic and answer.
    previous = _short_answer(replies[-1]) if replies else ""
    context = f"{prior.text} {previous}".strip()
    subject = (
        previous.strip(" .")
        # a name: capitalised, no figures ("Acme Motors", not "2.5 billion yuan")
        if previous[:1].isupper()
        and not any(ch.isdigit() for ch in previous)
        and _SUBJECT_PRONOUN.search(question)
        and 0 < len(previous.split()) <= 5
        else ""
    )
    return Query(
        # A pronoun standing for the previous answer is searched as that answer, without
        # the previous question's other names ("Who chairs it?" after "Which firm ...?").
        text=f"{question} {subject or context}",
        answer_type=own.answer_type,
        years=own.years or prior.years,
        names=own.names
        + ([subject] if subject else [n for n in prior.names if n not in own.names]),
        followup=True,
        subject=subject,
    )


def _last_user_index(history: list[Turn]) -> int:
    return max(i for i, (role, _) in enumerate(history) if role == "user")
