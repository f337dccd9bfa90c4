"""Whether a question can reach the documents at all: its script and its content words.

A question written in another script than the documents (a Chinese question over an
English article), or fewer than half of whose content words (``text.tokens``: stop
words dropped, lightly stemmed, accents folded) occur in them, is not read by the
language model: no passage is likely to hold its answer, and a reading costs seconds.
The fast answerer still decides (it abstains on such questions, or answers from a name
it found). The cascade tests the question both as typed and as spelling-corrected.
Half: on the 7 train and dev articles of SQuAD 2.0 (evals/squad_split.json), 5 of 1,359
answerable questions fall below it, either way (and 22 of 1,395 unanswerable ones); no
seed case does.
Non-goals: telling languages of one script apart; retrieval's own scores (``decide``).

Example:
    reach = Reach(["Acme lost 3.8 million euros in 2022."])
    reach.why_not("公司亏损多少")              # "the question is in Han script, ..."
    reach.why_not("How much did Acme lose?")  # ""
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from assistant.text import tokens

STEM = 5  # a content word reaches the documents when one of their words starts the same
MIN_FOUND = 0.5  # the share of a question's content words that must occur in the documents
MIN_SHARE = 0.02  # a script is the documents' when at least this share of their letters is
SAMPLED_LETTERS = 200_000  # letters counted per corpus: enough to know its scripts
# Unicode names that share a writing system's first word but not the system.
_SCRIPT = {"CJK": "Han", "HIRAGANA": "Japanese", "KATAKANA": "Japanese"}


def script(ch: str) -> str:
    """The writing system of a letter, from its Unicode name. Example: "é" -> "Latin"."""
    first = unicodedata.name(ch, "").partition(" ")[0]
    return _SCRIPT.get(first, first.title())


def letter_scripts(text: str, limit: int | None = None) -> Counter[str]:
    """How many letters of ``text`` each script has (the first ``limit`` letters)."""
    counts: Counter[str] = Counter()
    seen = 0
    for ch in text:
        if ch.isalpha():
            counts[script(ch)] += 1
            seen += 1
            if limit is not None and seen >= limit:
                break
    return counts


def folded(text: str) -> str:
    """``text`` without its accents, as questions are often typed. Example: "Möngke" -> "Mongke"."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class Reach:
    """The scripts and word stems of a set of documents, to test questions against."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts: Counter[str] = Counter()
        stems: set[str] = set()
        for text in texts:
            left = SAMPLED_LETTERS - sum(counts.values())
            if left > 0:
                counts.update(letter_scripts(text, left))
            stems.update(t[:STEM] for t in tokens(folded(text)))
        total = sum(counts.values())
        self.scripts = frozenset(s for s, n in counts.items() if n >= MIN_SHARE * total)
        self.stems = frozenset(stems)

    def why_not(self, question: str) -> str:
        """Why ``question`` cannot be answered from these documents' words; "" when it can."""
        written = letter_scripts(question)
        if written and self.scripts:
            main = written.most_common(1)[0][0]
            if main not in self.scripts:
                theirs = " and ".join(sorted(self.scripts))
                return f"the question is in {main} script, the documents in {theirs}"
        words = tokens(folded(question))
        found = sum(w[:STEM] in self.stems for w in words)
        if words and self.stems and found < MIN_FOUND * len(words):
            return f"{found} of the question's {len(words)} content words occur in the documents"
        return ""
