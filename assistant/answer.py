"""From ranked passages to a short answer, a reply and citations.

Scope: picking the supporting sentence(s), abstaining when the document does not
support an answer, and the markdown reply. Non-goals: generating text; everything in
``text`` but connecting words is quoted from the document.
"""

from __future__ import annotations

import re

from assistant.config import Settings
from assistant.question import Query
from assistant.rank import _BOUND, _BOUND_ASK, QUOTE_ASK, SPAN_TYPES, Ranker, Scored
from assistant.text import tokens
from assistant.types import Answer, Citation, Hit, Passage


class Answerer(Ranker):
    """Answers questions over one opened corpus (``Ranker`` knows its words)."""

    def answer(self, question: str, query: Query, hits: list[Hit], settings: Settings) -> Answer:
        kind = query.answer_type
        if kind == "other" and QUOTE_ASK.search(question):
            kind = "name"
        # An elliptical follow-up ("What about Acme?") is read as the question it continues.
        asked = question if query.text.startswith(question) else query.text
        if kind == "reason" and _DESCRIBE_ASK.search(query.text):
            # "How did X describe Y?" is answered by the quoted phrase ("described it as
            # "..."") when the best sentence for a name-like answer holds one.
            quoted = next((s for s in self.rerank(query, asked, hits, "name") if s.span), None)
            if quoted and quoted.span and quoted.span.kind == "quote" and quoted.constraints_ok:
                kind = "name"
        ranked = self.rerank(query, asked, hits, kind)
        unknown = [n for n in query.names if not set(tokens(n)) <= self.corpus_tokens]
        best = next((s for s in ranked if s.span or kind not in SPAN_TYPES), None)
        reason = None
        if not ranked:
            reason = "nothing in the document matches the question"
        elif unknown:
            reason = f"the document does not mention {', '.join(unknown)}"
        elif best is None:
            reason = "no passage holds an answer of the kind asked for"
        elif not best.constraints_ok:
            reason = "no passage matches every detail the question names"
        elif best.hit.passage.kind != "heading" and (
            (max(best.hit.dense, best.hit.dense_context) < 0.2 and best.support < 0.9)
            or (
                best.support < settings.min_evidence
                # A reworded question shares few words with its sentence; a close meaning
                # (dense similarity) with some shared words is evidence enough.
                and not (best.hit.dense >= 0.5 and best.support >= 0.15)
                # "the maximum stake" answered by "no more than 40%": the bound asked and
                # the bound stated agree, which shared words alone cannot show.
                and not (
                    best.span is not None
                    and _BOUND_ASK.search(question)
                    and _BOUND.match(best.span.text)
                    and best.hit.dense >= 0.45
                    and best.support >= 0.2
                )
                # A typed answer whose sentence stands far above every other candidate.
                and not (
                    best.span is not None
                    and best.support >= 0.2
                    and best.score - max((s.score for s in ranked if s is not best), default=0.0)
                    >= _CLEAR_MARGIN
                )
            )
        ):
            reason = "the closest passages share too little with the question"
        if reason or best is None:
            return _abstain(question, query, ranked, hits, settings, reason or "")
        chosen = [best]
        if not best.span:
            # A sentence answer may need its neighbour ("... did not sit idle. It was raising").
            chosen += [
                s
                for s in ranked[1:5]
                if s.score >= 0.75 * best.score and _adjacent(s.hit.passage, best.hit.passage)
            ][:1]
            if kind == "reason":
                chosen = self._reason_first(question, best, ranked, chosen)
        order = chosen + [s for s in ranked if s not in chosen]
        citations = cite([s.hit.passage for s in order], [s.score for s in order], settings)
        if best.span:
            short = best.span.text
            text = f"**{short}**\n\n> {citations[0].text} [1]"
        else:
            in_reading_order = sorted(citations[: len(chosen)], key=lambda c: c.start)
            short = " ".join(c.text for c in in_reading_order)
            text = " ".join(f"**{c.text}** [{c.n}]" for c in in_reading_order)
        return Answer(
            question=question,
            answer=short,
            text=text,
            abstained=False,
            citations=citations,
            answer_type=kind,
            query=query.text,
        )

    def _reason_first(
        self, question: str, best: Scored, ranked: list[Scored], chosen: list[Scored]
    ) -> list[Scored]:
        """Why/how answers: the sentence giving the reason or the action comes first.

        When the best sentence only restates the question's premise ("after X", "when X")
        the answer is the next sentence; for "why", a neighbour saying "due to" / "because"
        holds the reason the best sentence lacks.
        """
        p = best.hit.passage
        by_id = {s.hit.passage.id: s for s in ranked}
        neighbours = [
            n
            for n in (self.at.get((p.source, p.position + d)) for d in (-1, 1))
            if n is not None and n.kind == "sentence" and n.paragraph == p.paragraph
        ]
        premise = _PREMISE.search(question)
        if premise:
            wanted = set(tokens(premise.group(1) or premise.group(2)))
            found = wanted & self.sentence_tokens[p.id]
            following = [n for n in neighbours if n.position == p.position + 1]
            if wanted and len(found) >= 0.6 * len(wanted) and following:
                return [_as_scored(following[0], best, by_id), best]
        if _WHY.search(question) and not _CAUSE.search(p.text):
            for n in sorted(neighbours, key=lambda n: -n.position):
                if _CAUSE.search(n.text) and not _EFFECT.match(n.text):
                    return [_as_scored(n, best, by_id), best]
        return chosen


# "How did X respond after Y?": Y is what the best sentence may only restate.
_PREMISE = re.compile(
    r"\b(?:after|when|following|once|upon)\s+([^?]+)"
    r"|\b(?:respond(?:ed|s)?|react(?:ed|s)?)\s+to\s+((?:[\w'’-]+\s+){0,2}[\w'’-]+)",
    re.I,
)
# Score lead of the best typed answer over the runner-up that counts as evidence.
_CLEAR_MARGIN = 1.0
_DESCRIBE_ASK = re.compile(
    r"^\s*how\s+(?:did|does|do|has|have|had|would|was|were|is)\b.*\b(?:describ|call|dub|label|term)\w*\b",
    re.I,
)
_WHY = re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat (?:caused|led to|drove|made)\b", re.I)
# Words saying a sentence holds the cause ("Due to X, Y"); "As a result" points backwards.
_CAUSE = re.compile(r"\b(?:because|due to|owing to|thanks to|as a result of|driven by)\b", re.I)
_EFFECT = re.compile(r"\s*(?:as a result|therefore|thus|hence|so|this)\b", re.I)


def _as_scored(p: Passage, best: Scored, by_id: dict[str, Scored]) -> Scored:
    if p.id in by_id:
        return by_id[p.id]
    hit = Hit(passage=p, score=best.hit.score, dense=best.hit.dense, dense_context=0.0, lexical=0.0)
    return Scored(hit, best.score, best.support, best.constraints_ok, None)


def _adjacent(a: Passage, b: Passage) -> bool:
    return a.source == b.source and a.paragraph == b.paragraph and abs(a.position - b.position) == 1


def cite(passages: list[Passage], scores: list[float], settings: Settings) -> list[Citation]:
    """The first ``settings.citations`` passages as numbered citations, scores scaled to 0-1."""
    top = max(scores, default=1.0) or 1.0
    out: list[Citation] = []
    for p, s in zip(passages[: settings.citations], scores, strict=False):
        out.append(
            Citation(
                n=len(out) + 1,
                text=p.text,
                source=p.source,
                start=p.start,
                end=p.end,
                section=p.section,
                score=round(max(0.0, s / top), 4),
                page=p.page,
            )
        )
    return out


def _abstain(
    question: str,
    query: Query,
    ranked: list[Scored],
    hits: list[Hit],
    settings: Settings,
    reason: str,
) -> Answer:
    passages = [s.hit.passage for s in ranked] or [h.passage for h in hits]
    scores = [s.score for s in ranked] or [h.score for h in hits]
    return abstention(question, query, passages, scores, settings, reason)


def abstention(
    question: str,
    query: Query,
    passages: list[Passage],
    scores: list[float],
    settings: Settings,
    reason: str,
) -> Answer:
    """An abstention: "The document doesn't say (reason)", the closest passages cited."""
    cited = cite(passages, scores, settings)
    lines = [f"The document doesn't say ({reason})."]
    if cited:
        lines.append("\nThe closest passages:")
        lines += [f"\n> {c.text} [{c.n}]" for c in cited]
    return Answer(
        question=question,
        answer="",
        text="\n".join(lines),
        abstained=True,
        citations=cited,
        answer_type=query.answer_type,
        query=query.text,
        reason=reason,
    )
