"""Answer-type-aware reranking of retrieved sentences, and the answer span in each.

Scope: what the corpus teaches about words (weights, proper nouns, persons, topic
names, the years each sentence speaks of), the candidate spans of the expected type,
how close each sits to the question's terms, and the constraints (years, names,
content words) a supporting sentence must meet. Non-goals: composing the reply
(answer.py), retrieval (retrieve.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from assistant import extract, phrases
from assistant.question import Query, _unit, head_noun
from assistant.text import STOPWORDS, tokens
from assistant.types import Hit, Passage

SPAN_TYPES = {"quantity", "percent", "date", "duration", "person", "name", "list", "place"}
_CAUSE = re.compile(
    r"\b(because|due to|as a result|led to|lead to|leading to|so that|in order to|aim(?:ed|ing)? "
    r"to|thanks to|caused|therefore|since|this (?:led|pushed|ensured|allowed)|enabled|allowed|"
    r"(?:limited|driven|caused|hit|hurt|weighed down|held back) by)\b",
    re.I,
)
# "How did X change/reshape Y?" asks for the change itself: "Y transformed from A to B".
_CHANGE_ASK = re.compile(
    r"^\s*how\s+(?:did|does|has|have|will)\b.*\b(?:change|transform|alter|reshape|redefine)\b", re.I
)
_TRANSFORM = re.compile(
    r"\btransform\w*\b|\bturn\w* into\b|\bfrom (?:a|an) [^,.;]{3,120}? to (?:a|an|the)\b", re.I
)
# Clause boundaries: a comma or semicolon and a space, or a contrasting conjunction.
_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:while|whereas|but|and then|and the)\s+")
_EARLIER = re.compile(
    r"\b(from|before|initially|originally|previous|earlier|start(?:ed|ing)?)\b", re.I
)
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_CHANGE = re.compile(
    r"\b(growth|grow|increase|decrease|decline|rise|rose|drop|fell|fall|jump|surge|climb|"
    r"plunge|gain|change|appreciat|depreciat)",
    re.I,
)
# Nouns that name the kind of answer, not what it is about ("In which year ...").
_TYPE_WORDS = frozenset(
    tokens(
        "year month date day time period percentage percent number amount name kind type "
        "title headline heading section article document story text "
        # Units say what form the answer takes, not what it is about ("..., in yuan?").
        "yuan renminbi rmb dollar dollars euro euros pound pounds yen "
        # Light verbs carry little of what is asked ("When did it complete its IPO?").
        "complete hold keep take make get have happen occur achieve reach see come go"
    )
)
_QUOTED = re.compile(r"[\"“][^\"“”]+[\"”][.!?]?")
_RELATIVE_DATE = re.compile(
    r"\b(ago|last|next|this|that)\b|\bthe (?:end|beginning|start) of the year\b", re.I
)
_BOUND_ASK = re.compile(r"\b(?:maximum|max|most|cap|ceiling|limit|minimum|min|least|floor)\b", re.I)
_BOUND = re.compile(r"(?:no |not )?(?:more|less|fewer) than|up to|at (?:most|least)", re.I)
# Plural nouns whose answer is often two short phrases ("X and Y are the strategies").
_PAIR_ASK = re.compile(r"\b(?:strategies|goals|aims|priorities|measures|steps|reasons)\b", re.I)
_RANGE = re.compile(r"\b(?:range|bracket|between|band|segment|class|tier)\b", re.I)
# Parts of a year: a figure for them is not the year's.
_PARTIAL = re.compile(
    rf"\b(?:first|second|third|fourth|1st|2nd|3rd|4th|last) (?:half|quarter)\b|\b[HQ][1-4]\b|"
    rf"\bhalf[- ]year\b|\bmonthly\b|\bper month\b|\ba month\b|"
    rf"\b{extract.MONTH}\s+(?:to|through|-|and)\s+{extract.MONTH}",
    re.I,
)
# Questions about money, and the signs of money in a span.
_MONEY_ASK = re.compile(
    r"\b(?:price[sd]?|cost|costs|value|valued|valuation|worth|revenue|profit|loss|lose|lost|"
    r"funding|funds|investment|invest|invested|cash|raise|raised|pay|paid|spend|spent|earn|"
    r"earned|yuan|dollars?|money|proceeds)\b",
    re.I,
)
_CURRENCY = re.compile(
    r"yuan|renminbi|rmb|dollars?|euros?|pounds?|\byen\b|\bwon\b|rupees?|francs?|[$€£¥]", re.I
)
_BASED = re.compile(r"\b(?:based|headquarter\w*|located|home)\b", re.I)
_PERIOD = re.compile(r"\b(period|how long|span|horizon)\b", re.I)
_ABOUT_HEADINGS = re.compile(r"\b(headline|title|heading|subheading)s?\b", re.I)
_ASKS_TITLE = re.compile(r"\b(?:title|headline)\b", re.I)
_HEADING_WORDS = frozenset(tokens("headline title heading subheading"))
_PREPOSITIONS = frozenset("with to at for from by of as into on in about against".split())
# Roles a person holds "of" an organisation: "the chairman of Acme".
_ROLE = (
    r"(?:chairman|chairwoman|chair|ceo|president|director|founder|head|chief \w+ officer|"
    r"chief executive|cfo|cto|coo|general manager|managing director|spokesperson)"
)
_ROLE_OF = re.compile(rf"\b({_ROLE})\s+of\s+(?:the\s+)?([\w&'’-]+(?:\s+[\w&'’-]+)?)", re.I)
# "Who is the CEO ...", "Who heads the board ...": the role holder is what is asked.
_WHO_IS = re.compile(
    r"^\s*who\s+(?:is|was|are|were|became|becomes|has been|heads|leads|chairs)\b", re.I
)
_ROLE_TOKENS = frozenset(tokens("chairman ceo president founder cfo cto coo spokesperson"))
_APPOSITION = re.compile(
    rf",\s+(?:(?:the|a|an)\s+)?(?:[\w-]+\s+){{0,2}}?({_ROLE})\s+of\s+(?:the\s+)?([\w&'’-]+)", re.I
)
QUOTE_ASK = re.compile(
    r"\b(describ\w*|call\w*|nam\w*|term\w*|label\w*|say|said|assert\w*|slogan|metaphor|"
    r"quote\w*|phrase|words?|strategy|model)\b",
    re.I,
)


@dataclass(frozen=True)
class Scored:
    """A sentence considered for the answer."""

    hit: Hit
    score: float
    support: float  # share of the question's weighted terms found in the sentence or its context
    constraints_ok: bool
    span: extract.Span | None


def context_tokens(passages: list[Passage], words: dict[str, list[str]]) -> dict[str, set[str]]:
    """Each passage's context tokens: those of its window's sentences and of its section.

    A sentence's context is its neighbours in the section joined by spaces (ingest), so its
    tokens are theirs, already known; a context that is not such a join is tokenised whole.
    Example: sentences "Acme lost money." and "It grew." -> each gets {"acme", "loss", ...}
    """
    sections: dict[str, set[str]] = {}
    out: dict[str, set[str]] = {}
    body: dict[str, list[Passage]] = {}
    for p in passages:
        if p.kind == "sentence":
            body.setdefault(p.source, []).append(p)
    for sentences in body.values():
        for k, p in enumerate(sentences):
            near = [q for q in sentences[max(0, k - 1) : k + 2] if q.section == p.section]
            if " ".join(q.text for q in near) != p.context:
                continue
            section = p.section or ""
            if section not in sections:
                sections[section] = set(tokens(section))
            out[p.id] = sections[section].union(*(words[q.id] for q in near))
    for p in passages:
        if p.id not in out:
            out[p.id] = set(tokens(f"{p.context} {p.section or ''}"))
    return out


class Ranker:
    """Corpus-level knowledge for answering: term weights, proper words, known persons."""

    def __init__(self, passages: list[Passage], content_share: float = 0.0) -> None:
        sentences = [p for p in passages if p.kind == "sentence"]
        self.passages = passages
        self.at = {(p.source, p.position): p for p in passages}  # a passage's neighbours
        self.content_share = content_share
        words = {p.id: tokens(p.text) for p in passages}
        df: Counter[str] = Counter()
        for p in passages:
            df.update(set(words[p.id]))
        n = max(1, len(passages))
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}
        # Names in many passages are the document's topic, not a detail to insist on.
        self.topic_tokens = {t for t, c in df.items() if c / n > 0.1}
        self.default_idf = math.log(1 + n)
        # Words capitalised after a lower-case word mid-sentence ("... of Acme"): proper nouns.
        self.proper_words = frozenset(
            m.group(1)
            for p in sentences
            for m in re.finditer(r"\b[a-z0-9][\w'’]*[,;)]? ([A-Z][\w'’]*)", p.text)
        )
        self.persons = frozenset(
            s.text
            for p in sentences
            for s in phrases.names(p.text, self.proper_words)
            if s.kind == "person"
        )
        self.corpus_tokens = set(df)
        self.sentence_tokens = {p.id: set(words[p.id]) for p in passages}
        self.context_tokens = context_tokens(passages, words)
        # A paragraph's tokens: its section's and its sentences' (known, not re-tokenised).
        self.paragraph_tokens: dict[tuple[str, int], set[str]] = {}
        for p in passages:
            key = (p.source, p.paragraph)
            if key not in self.paragraph_tokens:
                self.paragraph_tokens[key] = set(tokens(p.section or ""))
            self.paragraph_tokens[key].update(words[p.id])
        # Who speaks a sentence that is wholly a quotation: the persons of the sentence before
        # it in the paragraph ('Jane Doe said so. "It is worth more."' -> {"jane", "doe"}).
        self.speakers: dict[str, set[str]] = {}
        for p in sentences:
            before = self.at.get((p.source, p.position - 1))
            if (
                before is not None
                and before.kind == "sentence"
                and before.paragraph == p.paragraph
                and _QUOTED.fullmatch(p.text.strip())
            ):
                said = [s.text for s in phrases.names(before.text, self.proper_words)]
                if who := {t for n in said if n in self.persons for t in tokens(n)}:
                    self.speakers[p.id] = who
        # The years a sentence speaks about: its own, else the last ones mentioned before it
        # ("In that year, ..." after "In August 2024, ...").
        self.years: dict[str, set[str]] = {}
        last: dict[str, set[str]] = {}
        for p in passages:
            own = set(_YEAR.findall(p.text))
            self.years[p.id] = own or last.get(p.source, set())
            if own:
                last[p.source] = own

    # --- spans -------------------------------------------------------------------------

    def spans(self, text: str, kind: str, question: str) -> list[extract.Span]:
        """Candidate answer spans of ``kind`` in ``text``, minus what the question names."""
        if kind == "quantity":
            found = extract.amounts(text) + extract.percents(text)
            if _asks_change(question):
                found += extract.multiples(text)  # "By how much did it rise?" -> "tripled"
            if re.search(r"\bhow many\b", question, re.I):
                found += extract.word_counts(text) + extract.elliptic_counts(text)
            elif not found:
                found = extract.word_counts(text)  # "a volume of a few thousand units"
        elif kind == "percent":
            found = extract.percents(text)
        elif kind == "date":
            found = extract.dates(text)
            if _PERIOD.search(question):  # "Over what period ...?" may be a span of time
                found += extract.durations(text)
        elif kind == "duration":
            found = extract.durations(text) or extract.dates(text)
        elif kind == "list":
            found = phrases.enumerations(text) + phrases.name_pairs(
                text, phrases.names(text, self.proper_words)
            )
            if not found and (_count_in(question) == 2 or _PAIR_ASK.search(question)):
                found = phrases.word_pairs(text, STOPWORDS)
        elif kind == "place":
            found = phrases.places(text, self.proper_words)
        elif kind in ("person", "name"):
            found = [
                s if s.kind == "person" or s.text not in self.persons else _as_person(s)
                for s in phrases.names(text, self.proper_words)
            ]
            if kind == "name" or QUOTE_ASK.search(question):
                found = phrases.quotes(text) + found
        else:
            found = phrases.quotes(text) if QUOTE_ASK.search(question) else []
        if kind == "quantity" and not _asks_change(question) and extract.amounts(text):
            found = [s for s in found if s.kind != "percent"]
        elif kind == "quantity" and not _asks_change(question):
            found = [s for s in found if s.kind != "percent" or "%" in question]
        if kind == "quantity" and not _RANGE.search(question):
            found = [s for s in found if not s.attributive]  # "500,000-yuan price range"
        if kind == "quantity" and re.search(r"\bhow many\b", question, re.I):
            found = [s for s in found if not _CURRENCY.search(s.text)]
            unit = _unit(question)
            if unit:  # "How many models ...?" is not answered by "five brands"
                found = [
                    s
                    for s in found
                    if not (_is_count(s) and s.text[-1:].isalpha())
                    or set(tokens(f"{unit} unit")) & set(tokens(s.text))  # "units" fit any
                ]
        elif kind == "quantity" and _MONEY_ASK.search(question) and not _asks_change(question):
            found = [s for s in found if not _is_count(s)]  # a price is not "50,000 bookings"
        if kind == "person" and any(s.kind == "person" for s in found):
            found = [s for s in found if s.kind == "person"]  # "Who led ...?" wants a person
        elif kind == "name":
            found = [s for s in found if s.kind != "person"]  # "Which brand ...?" is no person
            if head_noun(question) in _ORG_HEADS and not re.search(
                r"\b(?:call|calls|called|name|named|term|termed|dubbed)\b", question, re.I
            ):
                # "Which automaker ...?": a quoted name is a brand or a phrase, not a company.
                found = [
                    s
                    for s in found
                    if s.kind != "quote"
                    and not re.search(r"[\"“]\s*$", text[: s.start])
                    and not _NOT_ORG_AFTER.match(text[s.end :])  # "the X model" is no company
                ]
        # "money"/"cash" say that a figure is money, not which measure ("money put into X").
        measure_words = set(tokens(re.sub(r"\b(?:money|cash)\b", " ", question, flags=re.I)))
        asked_measures = {
            m for family in _MEASURE_FAMILIES if family & measure_words for m in family
        }
        if kind == "quantity" and asked_measures:
            found = [
                s
                for s in found
                if not _CURRENCY.search(s.text)
                or _measure_before(text, s) in asked_measures | {None}
            ]
        q = question.lower()
        q_tokens = set(tokens(question))
        kept = [
            s
            for s in found
            if s.text.lower() not in q
            and not (set(tokens(s.text)) and set(tokens(s.text)) <= q_tokens and kind != "list")
        ]
        noun = head_noun(question)
        if not kept and kind == "name" and not (noun and not noun.endswith("s")):
            # "For what will the brands compete?" names nothing new: a list may be the answer.
            kept = phrases.enumerations(text)
        return kept

    def _pick_span(
        self, p: Passage, query: Query, kind: str, question: str
    ) -> tuple[extract.Span | None, float]:
        """The best span of ``kind`` in the passage and how close it sits to the question's terms."""
        spans = self.spans(p.text, kind, question)
        if not spans:
            return None, 0.0
        keys = extract.respectively_keys(p.text)
        if keys and query.years:
            same = [s for s in spans if s.kind == spans[0].kind]
            for year in query.years:
                if year in keys and len(same) == len(keys):
                    return same[keys.index(year)], 0.7
        weights = self._weights(query, primary=query.followup)
        total = sum(weights.values()) or 1.0
        positions: dict[str, list[int]] = {}
        for m in re.finditer(r"[\w'’.,%-]+", p.text):
            for t in tokens(m.group(0)):
                if t in weights:
                    positions.setdefault(t, []).append(m.start())

        wanted_items = _count_in(question)
        cuts = [0, *(m.end() for m in _CLAUSE.finditer(p.text)), len(p.text) + 1]
        looks_back = bool(_EARLIER.search(question))
        # A question ending in a stranded preposition ("... compete with?") names the words
        # that come right before the answer in the text.
        stranded = re.search(r"(\w+)\s+(\w+)\s*\?*\s*$", question)
        question_end = (
            set(tokens(stranded.group(1)))
            if stranded and stranded.group(2).lower() in _PREPOSITIONS
            else set()
        )
        # "What had it climbed to?": the answer follows that same preposition in the text.
        stranded_prep = (
            stranded.group(2).lower()
            if stranded and stranded.group(2).lower() in ("to", "from")
            else None
        )
        # "... developed to compete with which rival?": the same words lead to the answer.
        fronted = re.search(r"(\w+)\s+(\w+)\s+(?:which|what|whom)\b", question, re.I)
        if fronted and fronted.group(2).lower() in _PREPOSITIONS:
            question_end |= set(tokens(fronted.group(1)))
        # "... partner with for Luxeed?": a preposition followed by another one is stranded.
        for verb, prep, nxt in re.findall(r"(\w+)\s+(\w+)\s+(\w+)", question):
            if prep.lower() in _PREPOSITIONS and nxt.lower() in _PREPOSITIONS:
                question_end |= set(tokens(verb))

        noun = head_noun(question)
        head = set(tokens(noun)) if noun else set()
        # The word the question puts before its head noun ("the joint brand").
        before_head = re.search(rf"\b([a-z][\w-]*)\s+{noun}\b", question.lower()) if noun else None
        modifier = (
            before_head.group(1)
            if before_head
            and before_head.group(1) not in STOPWORDS
            and tokens(before_head.group(1))
            else ""
        )

        def clause(at: int) -> int:
            return next(i for i, c in enumerate(cuts) if c > at)

        def score(s: extract.Span) -> float:
            value = 0.0
            same_clause = 0.0
            for t, places in positions.items():
                outside = [f for f in places if not s.start <= f < s.end]
                if outside:
                    # Answers tend to follow what they are about ("X rose by N"): a term after
                    # the span counts as twice as far away.
                    d = min(s.start - f if f < s.start else 2 * (f - s.end) for f in outside)
                    value += weights[t] / (1.0 + d / 12.0)
                    if any(clause(f) == clause(s.start) for f in outside):
                        same_clause += weights[t]
            if kind in ("quantity", "percent", "date", "duration"):
                # The question's own words inside the span ("50,000 bookings") match too.
                same_clause += sum(
                    weights[t]
                    for t, places in positions.items()
                    if any(s.start <= f < s.end for f in places)
                )
            value = (value + 0.8 * same_clause) / total
            lead_in = p.text[max(0, s.start - 10) : s.start]
            before = set(tokens(p.text[max(0, s.start - 40) : s.start])[-3:])
            if before & question_end:
                value += 0.4  # "... compete with?" -> "... compete with the <answer>"
            if stranded_prep and re.search(rf"\b{stranded_prep}\s+(?:the\s+)?$", lead_in):
                value += 0.5  # "climbed to?" -> "risen from A to B": B
            if re.search(r"\bto\s+(?:the\s+)?$", lead_in):
                value += -0.2 if looks_back else 0.3  # "rose from A to B": B is where it got to
            elif re.search(r"\bfrom\s+(?:the\s+)?$", lead_in):
                value += 0.3 if looks_back else -0.2
            if kind == "quantity":
                value += 0.3 * s.has_unit + 0.2 * s.has_scale
                if s.kind == "percent":
                    value += 0.8 if _asks_change(question) else -0.3
                if query.unit and set(tokens(query.unit)) & set(tokens(s.text)):
                    value += 0.9
                if _RANGE.search(question) and re.search(
                    r"\bbetween\b|\d\s+(?:to|and|-)\s+\S*\d", s.text
                ):
                    value += 0.6  # "Within what range ...?" -> "between 10 and 20 units"
                value -= 0.3 * s.attributive
            if s.kind in ("quantity", "percent") and _BOUND_ASK.search(question):
                value += 0.4 * bool(
                    _BOUND.match(s.text)
                )  # "the maximum stake" -> "no more than 40%"
            if kind == "person":
                value += 0.6 * (s.kind == "person")
            if kind == "place" and _BASED.search(question):
                # "Where is it based?" -> "this Lyon-based firm", "headquartered in Lyon"
                near = p.text[max(0, s.start - 20) : s.end + 10]
                value += 0.8 * bool(re.search(r"-\s*based|based in|headquartered in", near))
            if head and kind in ("name", "list", "place"):
                left = re.findall(r"[\w'’-]+", p.text[max(0, s.start - 40) : s.start])
                left = [w for w in left if w.lower() not in ("the", "a", "an", "its", "their")]
                right = re.findall(r"[\w'’-]+", p.text[s.end : s.end + 20])
                if head & set(tokens(" ".join(left[-1:] + right[:1]))):
                    value += 0.5  # "Which brand ...?" -> "the joint brand, Acme"
                    if modifier and tokens(" ".join(left[-2:-1])) == tokens(modifier):
                        value += 0.3  # "the joint brand" asked -> "the joint brand, Acme"
            if kind == "name" and s.kind == "quote":
                value += 0.2
            if kind == "list" and wanted_items == len(phrases.list_items(s.text)):
                value += 0.5
            return value

        best = max(spans, key=score)
        return best, score(best)

    # --- sentences ---------------------------------------------------------------------

    def _weights(self, query: Query, primary: bool = False) -> dict[str, float]:
        terms = query.primary if primary and query.primary else query.focus
        return {t: self.idf.get(t, self.default_idf) for t in dict.fromkeys(terms)}

    def _constraints(self, p: Passage, query: Query, dense: float = 0.0) -> tuple[bool, float]:
        """(all the question's years and names are in reach, share found in the sentence)."""
        sentence = self.sentence_tokens[p.id]
        reach = sentence | self.paragraph_tokens[(p.source, p.paragraph)]
        keys = extract.respectively_keys(p.text)
        years = self.years.get(p.id, set())
        ok, inside, wanted = True, 0, 0
        for year in query.years:
            wanted += 1
            if year in keys or year in years:
                inside += 1
            elif year not in reach:
                ok = False
        for name in query.names if not query.followup else []:
            parts = set(tokens(name))
            if not parts:
                continue
            wanted += 1
            if parts & sentence:
                inside += 1
            elif not parts & reach and not parts <= self.topic_tokens:
                ok = False
        # "Who is the CEO of Acme?": a sentence naming the CEO of something else is about
        # another post ("the CEO of the car unit"), unless it also names the one asked about.
        asked = set(tokens(query.text))
        roles = asked & _ROLE_TOKENS if _WHO_IS.search(query.text) else set()
        if roles and not query.followup and not roles & sentence:
            ok = False  # "Who is the CEO of X?" needs a sentence that names a CEO
        for role, _ in _ROLE_OF.findall(query.text if not query.followup else ""):
            posts = [
                set(tokens(o)) for r, o in _ROLE_OF.findall(p.text) if r.lower() == role.lower()
            ]
            if posts and not any(o & asked for o in posts):
                ok = False
        # "At what share price ...?": a sentence with no price in reach tells another measure.
        measures = set(query.primary) & _MEASURES
        if measures and not query.followup and not measures & (reach | self.context_tokens[p.id]):
            ok = False
        # The question's own content words (not names, years or answer-type nouns): enough of
        # their weight must be in reach, or the passage is about something else.
        content = (
            set(query.primary)
            - {t for n in query.names for t in tokens(n)}
            - set(query.years)
            - _TYPE_WORDS
        )
        if content and not query.followup:
            weight = sum(self.idf.get(t, self.default_idf) for t in content)
            found = sum(self.idf.get(t, self.default_idf) for t in content & reach)
            # A reworded question may share none of them ("designed to take on" for
            # "developed to compete with"): a very close meaning stands in for them.
            # (only when the sentence itself names everything the question names).
            close = dense >= _CLOSE_MEANING and all(set(tokens(n)) & sentence for n in query.names)
            if (found == 0 and not close) or found < self.content_share * weight:
                ok = False
        return ok, inside / wanted if wanted else 1.0

    def rerank(self, query: Query, question: str, hits: list[Hit], kind: str) -> list[Scored]:
        """Score the best retrieved sentences for the expected answer type, best first."""
        weights = self._weights(query)
        # Headings answer only questions about them ("In the headline, ...").
        kinds = {"sentence", "heading"} if _ABOUT_HEADINGS.search(question) else {"sentence"}
        if "heading" in kinds:
            # "What is the headline?": the word names the kind of answer, as "year" does in
            # "In which year ...?"; a sentence saying "headlines" is no evidence.
            weights = {t: w for t, w in weights.items() if t not in _HEADING_WORDS}
        total = sum(weights.values()) or 1.0
        pool = [h for h in hits if h.passage.kind in kinds]
        # Beyond the fused top 15, a sentence holding nearly all of the question's weighted
        # terms is still a candidate (fusion can bury it under semantically close ones).
        top = pool[:15] + [
            h
            for h in pool[15:]
            if sum(w for t, w in weights.items() if t in self.sentence_tokens[h.passage.id])
            >= 0.75 * total
            # Places are few and seldom share words with "where" questions.
            or (kind == "place" and phrases.places(h.passage.text, self.proper_words))
            # "How many straight years ...?": a sentence counting that very noun.
            or (
                kind == "quantity"
                and query.unit is not None
                and not query.followup  # a follow-up's subject is in its history, not here
                and any(
                    set(tokens(query.unit)) & set(tokens(sp.text))
                    for sp in extract.word_counts(h.passage.text) + extract.amounts(h.passage.text)
                )
            )
        ]
        if "heading" in kinds:
            # "What is the title?" shares no word with a title and little meaning: every
            # heading is a candidate, retrieved or not.
            seen = {h.passage.id for h in top}
            top += [
                Hit(passage=p, score=0.0, dense=0.0, dense_context=0.0, lexical=0.0)
                for p in self.passages
                if p.kind == "heading" and p.id not in seen
            ]
        best_fused = max((h.score for h in top), default=1.0)
        scored = []
        for rank, h in enumerate(top):
            p = h.passage
            # Years a sentence covers through "From A to B ... respectively" or "In that year",
            # and the speaker of a quotation.
            covered = (
                set(extract.respectively_keys(p.text))
                | self.years.get(p.id, set())
                | self.speakers.get(p.id, set())
            )
            sent = self.sentence_tokens[p.id] | covered
            reach = sent | self.context_tokens[p.id] | self.topic_tokens
            in_sentence = sum(w for t, w in weights.items() if t in sent) / total
            support = sum(w for t, w in weights.items() if t in reach) / total
            ok, inside = self._constraints(p, query, h.dense)
            span, closeness = (
                self._pick_span(p, query, kind, question) if kind in SPAN_TYPES else (None, 0.0)
            )
            score = (
                0.9 * in_sentence
                + 0.3 * support
                + 0.6 * h.dense
                + 0.3 * h.score / best_fused
                + 0.3 * inside
                - 0.05 * rank / len(top)
            )
            if kind in SPAN_TYPES:
                score += 0.45 + 0.8 * min(closeness, 1.0) if span else 0.0
            if (
                span
                and query.years
                and not extract.respectively_keys(p.text)
                and set(_YEAR.findall(p.text)) == set(query.years)
            ):
                score += 0.5  # a sentence about just the asked year beats a list over years
            if span and query.previous_answer and span.text == query.previous_answer:
                score -= 0.5  # "And how much did X say it is worth?" asks for a new figure
            if span and kind == "person":
                # "Jane Doe, the chairman of Acme" answers "Who chairs Acme?"
                score += 0.4 * _defines_role(p.text, span, query.text, query.subject)
            if span and kind == "date" and _RELATIVE_DATE.search(span.text):
                score -= 0.6  # "last year" only helps when nothing absolute is said
            if p.kind == "heading":
                # a document's title is its first heading; a news story's is its headline
                score += 0.8 + 0.4 * (p.position == 0 and _ASKS_TITLE.search(question) is not None)
            if kind == "reason" and _CAUSE.search(p.text):
                score += 0.3
            if kind == "reason" and _CHANGE_ASK.search(question) and _TRANSFORM.search(p.text):
                score += 0.3  # "How did X change Y's role?" -> "Y transformed from A to B"
            if (
                kind in ("quantity", "percent")
                and query.years
                and _PARTIAL.search(p.text)
                and not _PARTIAL.search(question)
            ):
                ok = False  # a first-half or monthly figure does not answer for a whole year
            if kind in ("quantity", "percent") and _other_measure(question, p.text):
                ok = False  # "the starting price" is not "the stock price"
            if not ok:
                score -= 0.6
            scored.append(Scored(h, score, support, ok, span))
        return sorted(scored, key=lambda s: -s.score)

    # --- the answer --------------------------------------------------------------------


# Dense similarity at which a sentence means what the question asks in other words.
_CLOSE_MEANING = 0.68

_COUNTS = {
    w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())
}


def _asks_change(question: str) -> bool:
    """ "How much did it rise?" asks for a change; "What did it rise to?" asks for a level."""
    m = _CHANGE.search(question)
    return m is not None and not re.match(r"\w*\s+to\b", question[m.end() :])


def _count_in(question: str) -> int | None:
    """How many items a question asks for. Example: "Which five brands ...?" -> 5"""
    for w in re.findall(r"\b\w+\b", question.lower()):
        if w in _COUNTS and _COUNTS[w] > 1:
            return _COUNTS[w]
        if w.isdigit() and 1 < int(w) < 20:
            return int(w)
    return None


def _defines_role(text: str, span: extract.Span, question: str, subject: str = "") -> float:
    """The span is followed by an apposition naming the question's role of its organisation.

    Example: "Zhang Wei, the chairman of Acme, said" for "Who is the chairman of Acme?"
    """
    after = _APPOSITION.match(text[span.end :])
    if not after:
        return 0.0
    for role, owner in _ROLE_OF.findall(question):
        if role.lower() == after.group(1).lower() and set(tokens(owner)) & set(
            tokens(after.group(2))
        ):
            return 1.0
    # A reworded role ("Who heads the board of ...?") with an owner described, not named,
    # or named by the answer a follow-up's pronoun stands for ("Who chairs it?").
    if not _ROLE_OF.search(question) and set(tokens(after.group(1))) <= set(tokens(question)):
        return 1.0 if subject and set(tokens(subject)) & set(tokens(after.group(2))) else 0.6
    return 0.0


_MEASURES = frozenset(tokens("price cost value loss profit revenue"))
_MEASURE = re.compile(r"\b([a-z]+)(?:['’]s?)?\s+(price|value|loss|profit|revenue|margin)s?\b")
_SAME_MODIFIER = [{"stock", "share", "equity"}, {"net", "overall"}]


def _other_measure(question: str, text: str) -> bool:
    """The question's "<modifier> <measure>" ("starting price") meets only other kinds of
    that measure in the sentence ("stock price")."""
    for modifier, measure in _MEASURE.findall(question.lower()):
        if modifier in STOPWORDS:
            continue
        same = next((g for g in _SAME_MODIFIER if modifier in g), {modifier})
        seen = [m for m, n in _MEASURE.findall(text.lower()) if n == measure and m not in STOPWORDS]
        if (
            seen
            and not any(m in same for m in seen)
            and not re.search(
                rf"\b{measure}s?\b(?!\s+(?:range|bracket|war|cuts?))",
                re.sub(_MEASURE, "", text.lower()),
            )
        ):
            return True
    return False


_NOT_ORG_AFTER = re.compile(
    r"[\"”]?\s+(?:model|models|brand|brands|system|platform|concept|edition|strategy|report|"
    r"index|cockpit|series|approach|mode)\b"
)
_ORG_HEADS = frozenset(
    "company companies firm firms automaker automakers carmaker carmakers maker bank banks "
    "manufacturer partner partners supplier shareholder group organisation organization "
    "institution".split()
)
_MEASURE_FAMILIES = [
    frozenset(tokens(words))
    for words in ("price cost", "value", "loss", "profit", "revenue sale", "fund raised", "invest")
]
_MEASURE_WORDS = frozenset().union(*_MEASURE_FAMILIES)


def _measure_before(text: str, s: extract.Span) -> str | None:
    """The measure a number is given for: the last measure word before it in its clause.

    Example: "its market value increased to 279.8 billion yuan" -> "value"
    """
    start = max((m.end() for m in _CLAUSE.finditer(text, 0, s.start)), default=0)
    words = [t for t in tokens(text[start : s.start]) if t in _MEASURE_WORDS]
    return words[-1] if words else None


def _is_count(s: extract.Span) -> bool:
    """ "50,000 bookings", "two consecutive years": a number of things, not money."""
    return s.kind == "quantity" and s.has_unit and not _CURRENCY.search(s.text)


def _as_person(s: extract.Span) -> extract.Span:
    return extract.Span(s.start, s.end, s.text, "person")


def _strip_possessive(name: str) -> str:
    return re.sub(r"['’]s?$", "", name)
