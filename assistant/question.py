"""From what the person typed to what we search for and what kind of answer we expect.

Scope: input validation, the expected answer type (from the wh-word and head noun),
the question's constraints (years, numbers, names) and focus terms, and rewriting
follow-ups with the chat history ("And in 2021?", "When was that announced?").
Non-goals: full parsing or coreference resolution.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from assistant.errors import QuestionError
from assistant.text import STOPWORDS, Vocabulary, tokens


class Turn(NamedTuple):
    """One message of the chat history; an assistant's carries its short answer."""

    role: str  # "user" or "assistant"
    content: str
    answer: str | None = None  # the Answer's short span ("" abstained); None if not kept


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
_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
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
# How a chat message may wrap its question: "Please tell me: when ...?", "Do you know who
# ...?", "..., please?". The wrapper says nothing about what is asked. "Tell me how many
# ..." stays: the rules read it as an imperative, as "Name the brand ...".
_PLEASE = re.compile(r"^\s*(?:please|kindly)\b[\s,:]*", re.I)
_REQUEST = re.compile(
    r"^(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?tell\s+me|tell\s+me\s*[,:]"
    r"|i(?:['’]d|\s+would)\s+like\s+to\s+know|i\s+want\s+to\s+know|i\s+wonder"
    r"|do\s+you\s+know)[\s,:]*(?=(?:who|whom|whose|what|when|where|which|why|how|whether"
    r"|is|are|was|were|do|does|did|has|have|had)\b)",
    re.I,
)
_THANKS = re.compile(r"\s*,\s*(?:please|thanks|thank\s+you)[\s.!]*(?=\?*\s*$)", re.I)


def unwrapped(question: str) -> str:
    """The question without a polite wrapper; as it is when nothing would be left.

    Example: "Please tell me: when was it launched?" -> "When was it launched?";
    "Do you know who chairs Acme, please?" -> "Who chairs Acme?"
    """
    core = _THANKS.sub("", _REQUEST.sub("", _PLEASE.sub("", question, count=1), count=1)).strip()
    if not any(ch.isalnum() for ch in core) or core == question.strip():
        return question
    return core[0].upper() + core[1:]


# Head nouns that make "what/which X" ask for a kind of answer. General English.
_DATE_NOUNS = r"year|month|date|day|time|quarter|period"
_PERCENT_NOUNS = (
    r"percentage|percent|proportion|share|stake|ratio|rate|portion|fraction|shareholding"
)
_PLACE_NOUNS = r"city|country|province|state|region|market|exchange|place|location|town"
_MONEY_NOUNS = (
    r"amount|value|valuation|price|cost|loss|losses|profit|profits|revenue|income|sum|"
    r"worth|funding|investment|capital|cash|figure|number|total|volume|target|sales|deficit|"
    r"growth|increase|decline|rise|drop|gain|change|size|magnitude"
)
_MASS_NOUNS = {"sales", "news", "series", "means", "earnings", "proceeds", "savings", "funds"}
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
_PERSON_NOUNS = (
    r"executive|executives|chairman|chairwoman|ceo|director|founder|person|analyst|leader|"
    r"boss|official|manager|spokesperson|president|chief"
)
_NAME_NOUNS = (
    r"company|companies|brand|brands|firm|firms|automaker|automakers|carmaker|carmakers|"
    r"maker|model|models|car|cars|vehicle|vehicles|bank|banks|partner|partners|person|"
    r"people|name|names|product|products|organisation|organization|institution|competitor|"
    r"competitors|rival|rivals|index|platform|system|systems|media|outlet|city|country|chip|"
    r"chips|phone|phones|group|entity|shareholder|supplier|manufacturer|business|unit|"
    r"committee|board|team|department|agency|division|marque|label|rival"
)


# "What is/was/has been the [one or two modifiers] NOUN of/behind/for ...": NOUN heads it.
_HEAD = re.compile(
    r"^(?:what|which)\s+(?:is|was|are|were|has been|have been)\s+the\s+(?:[\w-]+\s+){0,2}?"
    r"([a-z]+)\s+(?:of|behind|for)\b"
)


@dataclass(frozen=True)
class Query:
    """An analysed question. ``text`` is what retrieval searches for."""

    text: str
    answer_type: str  # quantity, percent, date, name, person, list, reason, other
    focus: list[str] = field(default_factory=list)  # tokens the answer should sit near
    primary: list[str] = field(default_factory=list)  # the newest turn's own tokens
    years: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # capitalised terms the question names
    unit: str | None = None  # "units", "vehicles", "yuan", ... asked for by "how many X"
    followup: bool = False
    # The previous short answer, for a follow-up asking something new about it.
    previous_answer: str = ""
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
    """Chat history as ``Turn``s, from OpenAI/Gradio-style messages.

    An assistant message may carry its short answer as ``"answer"`` (``Answer.turns()``
    writes it); follow-ups then resolve against it rather than the reply's wording.
    Example: [{"role": "user", "content": "Hi"}] -> [Turn("user", "Hi")]
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
        answer = message.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise QuestionError(f"history[{i}]['answer'] must be text when given")
        turns.append(Turn(message["role"], content[:4000], answer[:4000] if answer else answer))
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


def answer_type(question: str) -> str:
    """Expected answer type from the wh-word and head noun.

    Example: "How much did it lose in 2022?" -> "quantity"; "When was it founded?" -> "date"
    """
    q = _CONTRACTION.sub(r"\1 is", question.lower())  # "What's the ..." -> "what is the ..."
    # A fronted clause ("When X happened, what did it earn?") is not the question asked.
    fronted = re.match(
        r"^(?:when|once|after|before|if|while)\b[^,?]*,\s*(?=(?:\w+\s+)?(?:what|which|who|how)\b)",
        q,
    )
    if fronted:
        q = q[fronted.end() :]
    first = _WH.search(q)
    lead = first.group(1) if first else ""
    # Later wh-words belong to subordinate clauses ("What did X do when ...?"): ignore them.
    q = q[first.start() :] if first else q
    if lead == "why" or re.search(
        r"\b(for what reason|what (?:caused|led|drove|made|prompted|pushed|forced))\b", q
    ):
        return "reason"
    if re.search(
        r"\bhow did (?:[\w'’&-]+\s+){0,4}(?:expenses|costs|spending|sales|revenue|prices?|value|"
        r"valuation|profits?|loss|losses|deliveries|volume|income)\s+(?:change|develop|evolve|move)\b",
        q,
    ):
        return "quantity"  # "How did its R&D expenses change in 2024?" -> "tripled"
    if re.search(r"\bhow (?:quickly|fast|soon)\b", q):
        return "duration"
    if re.search(r"\bhow much of\b", q):
        return "percent"  # "How much of it did Acme keep?" asks for a portion
    if lead == "where" or re.search(rf"\b(?:what|which)\s+(?:\w+\s+)?(?:{_PLACE_NOUNS})\b", q):
        return "place"
    head = _HEAD.match(q)
    if head and head.group(1) in ("reason", "reasons", "cause", "causes"):
        return "reason"
    if head and not re.fullmatch(
        "|".join((_DATE_NOUNS, _PERCENT_NOUNS, _MONEY_NOUNS, _NAME_NOUNS, _PERSON_NOUNS)),
        head.group(1),
    ):
        # "What has been the main source of pressure behind its price?": the head noun
        # ("source") says what is asked; a later "price" only describes it.
        return "other"
    if re.search(
        rf"\b(what|which|by what)\s+(?:[\w'’-]+\s+){{0,4}}({_PERCENT_NOUNS})\b(?!\s+price)", q
    ) or re.search(r"\b(percent|percentage)\b", q):
        return "percent"
    if re.search(
        r"\bhow (much|many|large|big|high|low|small|far)\b|\b(valued|worth|priced) at\b"
        r"|\b(what|which)\s+(?:\w+\s+)?(low|high|level|range|figure|amount|sum|total|price)\b(?!\s*-)"
        r"|\bunder what\b",
        q,
    ):
        return "quantity"
    if lead == "when" or re.search(rf"\b(what|which)\s+(?:\w+\s+)?({_DATE_NOUNS})\b", q):
        return "date"
    if lead == "how" and re.search(r"\bhow long\b", q):
        return "duration"
    if lead in ("who", "whom", "whose") or re.search(
        rf"\b(what|which)\s+(?:\w+\s+){{0,2}}({_PERSON_NOUNS})\b", q
    ):
        return "person"
    if lead == "how":
        return "reason"
    if lead == "where":
        return "name"
    if re.search(
        rf"\b(what|which)\s+(?:are|were)\s+the\s+(?:\w+\s+){{0,3}}(?:{_NAME_NOUNS}|areas|uses|strategies)\b"
        rf"|\b(what|which)\s+(?:two|three|four|five|six|seven|\d+)\b|\blist\b|\bname all\b|\bname the (?:\w+\s+){{0,2}}\w+s\b",
        q,
    ):
        return "list"
    if re.search(
        r"^what\s+(?:did|does|do|will|would)\b.*\b(earn|lose|pay|raise|spend|invest|cost|"
        r"sell|gain|borrow|owe|charge)\b",
        q,
    ):
        return "quantity"
    if _plural_what(question):
        return "list"
    if re.search(rf"\b(what|which)\b[^?]*\b({_MONEY_NOUNS})\b", q) and not re.search(
        rf"\b(what|which)\s+(?:\w+\s+)?({_NAME_NOUNS})\b", q
    ):
        return "quantity"
    if re.search(rf"\b(what|which)\s+(?:[\w-]+\s+){{0,3}}({_NAME_NOUNS})\b", q) or re.search(
        r"\bwhat is the name\b|\bcalled\b|\bnamed\b|^name\b", q
    ):
        return "name"
    return "other" if lead else _noun_phrase_type(q)


def head_noun(question: str) -> str | None:
    """The noun a which/what question asks for. Example: "Which brand did X launch?" -> "brand"."""
    m = re.search(
        rf"\b(?:what|which)\s+(?:[\w-]+\s+){{0,3}}?({_NAME_NOUNS}|{_PLACE_NOUNS})\b",
        question.lower(),
    )
    return m.group(1) if m else None


def _noun_phrase_type(q: str) -> str:
    """Questions without a wh-word: "Trademark value?", "Give the total rise in the price."."""
    for kind, nouns in (
        ("percent", _PERCENT_NOUNS),
        ("quantity", _MONEY_NOUNS + "|average|monthly|annual"),
        ("date", _DATE_NOUNS),
        ("person", _PERSON_NOUNS),
    ):
        if re.search(rf"\b(?:{nouns})\b", q):
            return kind
    return "other"


def _plural_what(question: str) -> bool:
    """ "Which trademarks did ..." / "What additional features ..." ask for a list."""
    m = re.search(r"\b(?:what|which)\s+(.*)", question, re.I)
    if not m:
        return False
    for word in m.group(1).split()[:4]:
        if word != word.lower():
            continue  # a proper-noun modifier: "Which Acme models ..."
        if word in STOPWORDS:
            return False
        if word in _MASS_NOUNS:
            return False
        if len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
            return True
    return False


def _unit(question: str) -> str | None:
    """The counted noun of "how many". Example: "How many electric vehicles ...?" -> "vehicles"."""
    m = re.search(r"\bhow many\s+(.*)", question.lower())
    if not m:
        return None
    rest = re.sub(
        r"^of\s+(?:the|its|their|those|these)\s+", "", m.group(1)
    )  # "how many of its cars"
    for word in re.findall(r"[\w'’-]+", rest)[:3]:
        if word in STOPWORDS:
            break
        if word.endswith(("'s", "’s")):
            continue  # a possessive: "the brand's cars" counts cars
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            return word
    return None


def _names(question: str) -> list[str]:
    """Capitalised words the question names (not its first word). Example: "Did Acme win?" -> ["Acme"]"""
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


def _constraint_names(question: str) -> list[str]:
    """Names a supporting passage must mention: not those in a fronted clause ("After Acme
    launched X, how much ...?") or used as a modifier ("the Lyon carmaker", "which US bank")."""
    wh = _WH.search(question)
    fronted = question[: wh.start()] if wh and "," in question[: wh.start()] else ""
    out = []
    for name in _names(question):
        at = question.find(name)
        if fronted and 0 <= at < len(fronted):
            continue
        before, after = question[:at], question[at + len(name) :]
        if re.search(r"\b(?:the|a|an|which|what)\s+$", before, re.I) and re.match(
            r"(?:['’]s)?\s+(?!(?:is|was|are|were|has|had|have|do|does|did|will|would|can|could|"
            r"may|might|should|must)\b)[a-z]+(?<!ed)\b",
            after,
        ):
            continue
        out.append(name)
    return out


def analyse(text: str, followup: bool = False) -> Query:
    """Analyse a stand-alone question."""
    years = _YEAR.findall(text)
    return Query(
        text=text,
        answer_type=answer_type(text),
        focus=tokens(text),
        primary=tokens(text),
        years=years,
        names=_constraint_names(text),
        unit=_unit(text),
        followup=followup,
    )


def question_words() -> set[str]:
    """Words of the answer-type lexicons, for correcting misspelt question words."""
    lexicons = "|".join((_DATE_NOUNS, _PERCENT_NOUNS, _MONEY_NOUNS, _NAME_NOUNS, _PERSON_NOUNS))
    return (
        set(lexicons.split("|"))
        | set(_PLACE_NOUNS.split("|"))
        | {"chairman", "million", "billion", "thousand", "percent"}
        | _QUESTION_WORDS
    )


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


def _short_answer(turn: Turn) -> str:
    """The previous short answer: the one the turn kept, else what its reply puts in bold.

    A client that sends only the reply's text (an OpenAI-style history) still has its
    answer read back: the assistant's replies mark it in bold, their first line else.
    """
    if turn.answer is not None:
        return turn.answer[:160]
    bold = re.search(r"\*\*(.+?)\*\*", turn.content)
    return (bold.group(1) if bold else turn.content.split("\n", 1)[0])[:160]


def rewrite(question: str, history: list[Turn], vocabulary: Vocabulary | None = None) -> Query:
    """Resolve a follow-up against the history, after correcting misspelt words.

    Examples (previous question "How much did the firm lose in 2020?"):
    "And in 2021?" -> "How much did the firm lose in 2021?";
    "When was that announced?" -> "When was that announced? How much did the firm lose ..."
    """
    if vocabulary is not None:  # "WHEN DID IT LIST?" is read as "When did it list?"
        question = vocabulary.truecase(question)
    question = unwrapped(question)
    question = _ABBREVIATED_MONTH.sub(lambda m: _MONTH_ABBR[m.group(1).lower()], question)
    if vocabulary is not None:
        question = vocabulary.correct(question)
    previous_questions = [t.content for t in history if t.role == "user"]
    if not previous_questions or not _is_followup(question):
        return analyse(question)
    prior = rewrite(previous_questions[-1], history[: _last_user_index(history)], vocabulary)
    replies = [t for t in history if t.role == "assistant"]
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
            answer_type=(
                prior.answer_type
                if own.answer_type == "other" or not _WH.search(question)
                else own.answer_type
            ),
            focus=own.focus + [t for t in prior.focus if t not in own.focus + prior.years],
            primary=own.focus,
            years=years,
            names=own.names + [n for n in prior.names if n not in own.names],
            unit=own.unit or prior.unit,
            followup=True,
        )
    # Anaphora: search with the new question plus the previous topic and answer.
    previous = _short_answer(replies[-1]) if replies else ""
    context = f"{prior.text} {previous}".strip()
    subject = (
        previous.strip(" .")
        if prior.answer_type in ("name", "person", "place")
        and _SUBJECT_PRONOUN.search(question)
        and 0 < len(previous.split()) <= 5
        else ""
    )
    return Query(
        # A pronoun standing for the previous answer is searched as that answer, without
        # the previous question's other names ("Who chairs it?" after "Which firm ...?").
        text=f"{question} {subject or context}",
        answer_type=own.answer_type,
        focus=own.focus,
        primary=own.focus,
        years=own.years or prior.years,
        names=own.names
        + ([subject] if subject else [n for n in prior.names if n not in own.names]),
        unit=own.unit,
        followup=True,
        previous_answer=previous if own.answer_type == prior.answer_type else "",
        subject=subject,
    )


def _last_user_index(history: list[Turn]) -> int:
    return max(i for i, t in enumerate(history) if t.role == "user")
