"""Word-level text helpers shared by retrieval and answering.

Tokens are lowercase, stop words dropped, lightly stemmed, so that "losses",
"lost" and "loss" meet. Also: spelling correction of question words against the
corpus vocabulary. Non-goals: full lemmatisation, languages other than English.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself also
    did does according article say says said tell told much many around among across within
    without toward towards upon via amid onto behind beyond""".split()
)
_WORD = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
# Irregular forms that a suffix stemmer cannot join; general English, not corpus-specific.
_IRREGULAR = {
    "lost": "loss",
    "lose": "loss",
    "losing": "loss",
    "loses": "loss",
    "losses": "loss",
    "sold": "sale",
    "sell": "sale",
    "sells": "sale",
    "selling": "sale",
    "bought": "buy",
    "paid": "pay",
    "won": "win",
    "rose": "rise",
    "risen": "rise",
    "fell": "fall",
    "fallen": "fall",
    "grew": "grow",
    "grown": "grow",
    "made": "make",
    "held": "hold",
    "took": "take",
    "gave": "give",
    "led": "lead",
    "began": "begin",
    "spent": "spend",
    "investment": "invest",
    "investments": "invest",
    "profitable": "profit",
    "profitability": "profit",
    "announcement": "announce",
    "cooperation": "cooperate",
    "shareholding": "share",
    "shareholder": "share",
    "shareholders": "share",
    "deliveries": "deliver",
    "delivery": "deliver",
    "valuation": "value",
    "chairmen": "chairman",
    "born": "birth",
    "valued": "value",
    "worth": "value",
}


@lru_cache(maxsize=1 << 16)  # a corpus repeats its words; stemming each once is enough
def stem(word: str) -> str:
    """Light suffix stemmer. Example: "launched" -> "launch", "companies" -> "company"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.rstrip("'")
    if w in _IRREGULAR:
        return _drop_e(_IRREGULAR[w])
    if len(w) <= 3 or w[0].isdigit():
        return w
    return _drop_e(_strip_suffix(w))


def _drop_e(w: str) -> str:
    # "announce", "announced", "announces" all end as "announc"
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


def _strip_suffix(w: str) -> str:
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                return w
            base = w[: -len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2]:
                base = base[:-1]  # "stopped" -> "stop"
            return base
    return w


def words(text: str) -> list[str]:
    """Word and number tokens as written. Example: "It's 1,000 cars!" -> ["It's", "1,000", "cars"]"""
    return _WORD.findall(text)


_CHAIRS = re.compile(
    r"\b(?:head|heads|headed|heading|lead|leads|led|leading|chairs|chaired)\s+(?:the\s+)?board\b",
    re.I,
)


_IN_THE_RED = re.compile(r"\bin the red\b", re.I)


def tokens(text: str) -> list[str]:
    """Content tokens for matching, synonyms joined.

    Example: "How much did Acme lose?" -> ["acme", "loss"]; "deficit" -> ["loss"]
    """
    out = []
    # "R&D" and "R & D" are one word: single letters joined by "&" ("M&A", "P&L").
    text = re.sub(r"\b([A-Za-z])\s*&\s*([A-Za-z])\b", r"\1\2", text)
    # "heads the board" / "leads the board" is what a chairman does.
    text = _CHAIRS.sub("chairman", text)
    text = _IN_THE_RED.sub(" loss ", text)  # "in the red" is making a loss
    for w in words(text):
        lw = w.lower()
        # "What's", "it's", "didn't", "they're": a function word whatever its clitic
        if _bare(lw) in STOPWORDS or (len(lw) == 1 and not lw.isdigit()):
            continue
        if lw[0].isdigit():
            out.append(lw.replace(",", ""))
        else:
            t = stem(lw)
            out.append(_SYNONYM.get(t, t))
    return out


_CLITIC = re.compile(r"n['’]t$|['’](?:s|re|ve|ll|d|m)?$")
_NEGATED = {"won't": "will", "can't": "can", "won’t": "will", "can’t": "can"}


def _bare(word: str) -> str:
    """A lower-case word without its clitic. Example: "what's" -> "what"; "didn't" -> "did"."""
    return _NEGATED.get(word) or _CLITIC.sub("", word)


# Common business-news synonyms, joined under one stem. General English, not one document's.
_SYNONYM_GROUPS = {
    "loss": "deficit deficits shortfall",
    "profit": "earn earns earned earning earnings",
    "automaker": "carmaker carmakers automakers automobile-maker",
    "increase": "rise rises rose risen rising grow grew grown growth gain gains gained climb "
    "climbed jump jumped surge surged appreciate appreciated appreciation",
    "decline": "fall falls fell fallen falling drop drops dropped plunge plunged slump slumped "
    "decrease decreased depreciate depreciated",
    "sale": "buyer buyers purchased",
    "chairman": "chair chairs chairwoman chairperson",
    "ipo": "listing listed flotation",
    "based": "headquarter headquartered headquarters",
    "value": "worth valuation",
    "fund": "money cash proceeds",
    "consecutive": "straight successive",
    "describe": "call called calls dub dubbed term termed",
    "change": "transform transformed transforms transformation shift shifted",
    "vehicle": "car cars",
    "stake": "holding holdings hold holds held keep keeps kept retain retains retained own owns owned",
    "cooperate": "cooperation partner partners partnered partnership alliance collaborate "
    "collaboration",
}
_SYNONYM = {stem(w): stem(canon) for canon, group in _SYNONYM_GROUPS.items() for w in group.split()}


def _transposition(word: str, known: set[str], stems: set[str]) -> str | None:
    """A word, known as is or by its stem, that differs by two swapped neighbours.

    Example: "rasie" -> "raise" (when "raised" is in the corpus).
    """
    for i in range(len(word) - 1):
        candidate = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if candidate in known or stem(candidate) in stems:
            return candidate
    return None


_WH_WORDS = ["what", "which", "when", "where", "who", "whom", "whose", "why", "how"]


class Vocabulary:
    """The corpus's words, for correcting misspelt question words.

    ``known`` words are never corrected: a word of the language may lie one letter from a
    corpus word ("master" from "faster") without being its typo.
    """

    def __init__(self, texts: Iterable[str], known: Iterable[str] = ()) -> None:
        written = Counter(w for t in texts for w in words(t) if w[0].isalpha())
        # each word as the documents most often write it ("Acme", "IPO", "the")
        self.casing: dict[str, str] = {}
        for w, _ in written.most_common():
            self.casing.setdefault(w.lower(), w)
        self.words: set[str] = set(self.casing)
        self.known = frozenset(w.lower() for w in known)
        self._by_length: dict[int, list[str]] = {}  # a typo is within one letter of its word
        for w in sorted(self.words):
            self._by_length.setdefault(len(w), []).append(w)
        self.stems = {stem(w) for w in self.words}

    def truecase(self, question: str) -> str:
        """A question typed in capitals, written as the documents write its words.

        Example: "WHO CHAIRS ACME?" -> "Who chairs Acme?" (a question with any lower-case
        letter is returned as it is).
        """
        if question != question.upper() or question == question.lower():
            return question

        def case(m: re.Match[str]) -> str:
            lw = m.group(0).lower()
            return self.casing.get(lw, lw)

        cased = re.sub(r"[^\W\d_]+", case, question)
        at = next(i for i, ch in enumerate(cased) if ch.isalpha())  # there is a cased letter
        return cased[:at] + cased[at].upper() + cased[at + 1 :]

    def correct(self, question: str) -> str:
        """Replace unknown words of 5+ letters by their closest corpus word, if close enough.

        Example: "Who is the chariman of Acme?" -> "Who is the chairman of Acme?"
        (when "chairman" is in the corpus).
        """

        def fix(m: re.Match[str]) -> str:
            w = m.group(0)
            lw = w.lower()
            if lw in self.words or lw in STOPWORDS or lw in self.known:
                return w
            if len(lw) < 5:
                close = difflib.get_close_matches(lw, _WH_WORDS, n=1, cutoff=0.75)
            elif stem(lw) in self.words or stem(lw) in self.stems:
                return w
            elif swapped := _transposition(lw, self.words, self.stems):
                close = [swapped]
            else:
                # "found" is not a typo of "founder": only words within one letter compete
                near = [w for n in (-1, 0, 1) for w in self._by_length.get(len(lw) + n, [])]
                close = difflib.get_close_matches(lw, near, n=1, cutoff=0.82)
            # A word the question already uses is no correction ("back into the black").
            if not close or close[0] in own:
                return w
            return close[0].capitalize() if w[0].isupper() else close[0]

        own = {w.lower() for w in re.findall(r"[^\W\d_]+", question)}
        return re.sub(r"[^\W\d_]+", fix, question)
