"""The learned answerer (the default): a trained decision over the reader's spans and the rules' reply.

The reader (``reader.py``) reads the paragraphs of the best retrieved passages and
proposes spans; the rule-based answerer (``answer.py``) proposes its reply; the
abstainer (``abstain.py``) scores every candidate with the retrieval evidence and picks
the answer, or abstains when none is likely enough. A reader span is cited by the
sentence holding it, with exact offsets; the rules' reply is returned as the rules
wrote it. Same interface as ``answer.Answerer`` (``ASSISTANT_ANSWERER=rules``).
Non-goals: generating text; everything in ``text`` but connecting words is quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.abstain import Abstainer, Evidence, agreement, features
from assistant.answer import Answerer, abstention, cite
from assistant.config import Settings
from assistant.context import paragraphs_of, ranked_paragraphs
from assistant.question import Query
from assistant.respectively import align
from assistant.types import Answer, Hit, Passage, Span

if TYPE_CHECKING:
    from assistant.reader import Reader

CANDIDATES = 10  # reader spans scored by the abstainer
# The rules' reply that no reader span backs (``_agrees``) is scored this far below the best span.
NO_SPAN_PENALTY = 10.0


@dataclass(frozen=True)
class Candidate:
    """A span of the document proposed by the reader, and how likely it answers."""

    text: str
    source: str
    start: int
    end: int
    sentence: Passage
    probability: float
    evidence: Evidence | None = (
        None  # what the abstainer scored (None for a language model's quote)
    )
    reply: Answer | None = None  # the rules' whole reply, when this candidate is it


class LearnedAnswerer:
    """Answers questions over one opened corpus with the reader, the rules and the abstainer."""

    def __init__(self, passages: list[Passage], reader: Reader, abstainer: Abstainer) -> None:
        self.passages = passages
        self.paragraphs = paragraphs_of(passages)
        self.by_id = {p.id: p for p in passages}
        self.reader = reader
        self.abstainer = abstainer
        self.rules = Answerer(passages)

    def cited(self, ruled: Answer) -> Passage | None:
        """The passage of the rules' first citation."""
        first = ruled.citations[0] if ruled.citations else None
        return self.by_id.get(f"{first.source}#{first.start}-{first.end}") if first else None

    def candidates(
        self, query: Query, hits: list[Hit], settings: Settings, ruled: Answer
    ) -> list[Candidate]:
        """Reader spans and ``ruled`` (the rules' reply to the question), most probable first."""
        if not hits:
            return []
        order, fused = ranked_paragraphs(hits)
        chosen = [self.paragraphs[k] for k in order[: settings.reader_passages]]
        spans = self.reader.read(query.text, [p.text for p in chosen])[:CANDIDATES]
        if not spans:
            return []
        by_id = {h.passage.id: h for h in hits}
        top_lexical = max((h.lexical for h in hits), default=0.0) or 1.0
        rules_answer = "" if ruled.abstained else ruled.answer
        out = []
        for rank, s in enumerate(spans):
            para = chosen[s.context]
            start, end = para.start + s.start, para.start + s.end
            sentence = para.sentence_at(start)
            hit = by_id.get(sentence.id)
            evidence = Evidence(
                question=query.text,
                span=para.text[s.start : s.end],
                sentence=sentence.text,
                window=sentence.context,
                paragraph=para.text,
                score=s.score,
                best_score=spans[0].score,
                null=s.null,
                rank=rank,
                paragraph_rank=s.context,
                fused=fused[(para.source, para.paragraph)],
                dense=hit.dense if hit else 0.0,
                dense_context=hit.dense_context if hit else 0.0,
                lexical=hit.lexical / top_lexical if hit else 0.0,
                rules_answer=rules_answer,
            )
            out.append(
                Candidate(
                    text=evidence.span,
                    source=para.source,
                    start=start,
                    end=end,
                    sentence=sentence,
                    probability=self.abstainer.probability(features(evidence)),
                    evidence=evidence,
                )
            )
        out = _best_read(out)
        replied = self.cited(ruled)
        if rules_answer and replied:
            out.append(
                self._rules_candidate(
                    query.text, ruled, replied, out, order, fused, by_id, top_lexical
                )
            )
        return sorted(out, key=lambda c: -c.probability)

    def _rules_candidate(
        self,
        question: str,
        ruled: Answer,
        sentence: Passage,
        spans: list[Candidate],
        order: list[tuple[str, int]],
        fused: dict[tuple[str, int], float],
        by_id: dict[str, Hit],
        top_lexical: float,
    ) -> Candidate:
        """The rules' reply as a candidate, scored by the reader span that backs it, if any."""
        key = (sentence.source, sentence.paragraph)
        para = self.paragraphs[key]
        best = spans[0].evidence
        assert best is not None  # reader spans always carry theirs
        agreeing = next(
            (c for c in spans if _agrees(c, ruled.answer, sentence)), None
        )  # spans are still in the reader's order here
        hit = by_id.get(sentence.id)
        evidence = Evidence(
            question=question,
            span=ruled.answer,
            sentence=sentence.text,
            window=sentence.context,
            paragraph=para.text,
            score=agreeing.evidence.score
            if agreeing and agreeing.evidence
            else best.score - NO_SPAN_PENALTY,
            best_score=best.score,
            null=best.null,
            rank=agreeing.evidence.rank if agreeing and agreeing.evidence else CANDIDATES,
            paragraph_rank=order.index(key) if key in order else len(order),
            fused=fused.get(key, 0.0),
            dense=hit.dense if hit else 0.0,
            dense_context=hit.dense_context if hit else 0.0,
            lexical=hit.lexical / top_lexical if hit else 0.0,
            rules_answer=ruled.answer,
            from_rules=True,
            rules_sentence=sentence.text in ruled.answer,
        )
        return Candidate(
            text=ruled.answer,
            source=sentence.source,
            start=sentence.start,
            end=sentence.end,
            sentence=sentence,
            probability=self.abstainer.probability(features(evidence)),
            evidence=evidence,
            reply=ruled,
        )

    def propose(self, question: str, query: Query, hits: list[Hit], settings: Settings) -> Proposal:
        """The rules' reply and every candidate, most probable first."""
        ruled = self.rules.answer(question, query, hits, settings)
        source = self.cited(ruled)
        if not ruled.abstained and source is not None and source.kind == "heading":
            # The rules cite a heading only for a question about the title or a heading:
            # the reader, trained on paragraphs, never reads them, nor has the abstainer.
            return Proposal(ruled, [], heading=True)
        return Proposal(ruled, self.candidates(query, hits, settings, ruled))

    def answer(self, question: str, query: Query, hits: list[Hit], settings: Settings) -> Answer:
        """The best candidate as an ``Answer``, or an abstention showing the closest passages."""
        proposal = self.propose(question, query, hits, settings)
        if proposal.heading:
            return proposal.ruled
        if proposal.confidence < self.abstainer.threshold:
            return self.abstain(question, query, hits, settings, proposal.ruled)
        return self.reply(proposal.ranked[0], question, query, hits, settings)

    def abstain(
        self,
        question: str,
        query: Query,
        hits: list[Hit],
        settings: Settings,
        ruled: Answer,
        reason: str = "",
    ) -> Answer:
        """An abstention showing the closest passages, with the rules' reason when they had one."""
        if ruled.abstained and not reason:  # the rules' reason is the more telling one
            return ruled
        if not reason:
            reason = (
                "nothing in the document matches the question"
                if not hits
                else "no passage answers it clearly enough"
            )
        return abstention(
            question, query, [h.passage for h in hits], [h.score for h in hits], settings, reason
        )

    def reply(
        self, candidate: Candidate, question: str, query: Query, hits: list[Hit], settings: Settings
    ) -> Answer:
        """``candidate`` as the answer, cited by the sentence holding it, then the other hits."""
        if candidate.reply is not None:
            return candidate.reply
        best = _aligned(candidate, query.years)
        others = [h for h in hits if h.passage.id != best.sentence.id]
        top = hits[0].score if hits else 1.0
        cited = cite(
            [best.sentence, *(h.passage for h in others)],
            [1.0, *(h.score / top for h in others)],
            settings,
        )
        return Answer(
            question=question,
            answer=best.text,
            text=f"**{best.text}**\n\n> {cited[0].text} [1]",
            abstained=False,
            citations=cited,
            answer_type=query.answer_type,
            query=query.text,
            span=Span(best.source, best.start, best.end),
        )


def _agrees(span: Candidate, answer: str, sentence: Passage) -> bool:
    """Whether the reader's ``span`` backs the rules' ``answer`` (from ``sentence``): most
    of its words in that very sentence, or the same words anywhere.

    Example: "5 billion euros" elsewhere does not back "under 5 million euros"; the
    reader's "Jane Doe" in another sentence backs the rules' "Jane Doe".
    """
    overlap = agreement(span.text, answer)
    return overlap == 1.0 or (overlap >= 0.5 and span.sentence.id == sentence.id)


@dataclass(frozen=True)
class Proposal:
    """What the fast answerer found: the rules' reply and the scored candidates."""

    ruled: Answer
    ranked: list[Candidate]
    heading: bool = False  # the rules answered a question about a heading: their reply stands

    @property
    def confidence(self) -> float:
        """The best candidate's probability (0 with no candidate)."""
        return self.ranked[0].probability if self.ranked else 0.0


def _aligned(c: Candidate, years: list[str]) -> Candidate:
    """``c`` moved to the value its sentence assigns to the asked year ("A, B and C respectively")."""
    sentence = c.sentence
    if not sentence.start <= c.start < c.end <= sentence.end:
        return c
    a, b = align(sentence.text, c.start - sentence.start, c.end - sentence.start, years)
    start, end = sentence.start + a, sentence.start + b
    return replace(c, text=sentence.text[a:b], start=start, end=end)


def _best_read(spans: list[Candidate]) -> list[Candidate]:
    """The reader's spans without those overlapping a span it read better (``spans`` are in
    the reader's order): the reader sets an answer's boundaries, the abstainer picks among
    answers. Example: ["Ivo Marsh", "Ivo Marsh, keeps the seed budget"] -> ["Ivo Marsh"].
    """
    kept: list[Candidate] = []
    for c in spans:
        if not any(k.source == c.source and k.start < c.end and c.start < k.end for k in kept):
            kept.append(c)
    return kept
