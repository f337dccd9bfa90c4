"""The default answerer: fast where it is sure, the language model where it is not.

``auto``: the fast answerer (``learned.py``: the MiniLM reader's spans, the rules' reply,
the abstainer) proposes first; ``decide.Decider.route`` keeps its answer when it is sure,
abstains when the documents do not cover the question, and otherwise the language model
reads the window around the fast reader's best sentence (``context``) and quotes
(``llm_reader``), unless the question cannot reach the documents' words (``reach``:
another script, too few of its words in them). A located quote becomes a candidate
scored by the decider; the best of it, the fast answer and abstaining is returned. A
reading that runs past the question's deadline (``Settings.deadline``, counted from the
fast answerer's start) is stopped and the fast answerer decides, as ``fast`` would.
``llm``: the model always reads. Without the model (not installed, damaged, llama-cpp
missing) ``auto`` answers with the fast path and says why in ``Answer.note``; ``llm``
raises the ``ModelError``.
Non-goals: retrieval, prompts (``prompts``), fitting (``train/decider.py``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.context import Piece, paragraphs_of, windows, within
from assistant.decide import Decider, Signals, features
from assistant.errors import ModelError, Overtime
from assistant.learned import Candidate, LearnedAnswerer, Proposal
from assistant.question import Query
from assistant.reach import Reach
from assistant.types import Answer, Hit, Passage, Step

if TYPE_CHECKING:
    from assistant.llm_reader import LLMReader, Reading

# Fewer characters than this is no window to read alone: a heading, a caption. About
# one sentence and a half; a window of one sentence either side is 300 to 600.
MIN_READ_CHARS = 200


@dataclass(frozen=True)
class Quoted:
    """The language model's reading of a question, and its quote as a candidate."""

    reading: Reading
    signals: Signals
    candidate: Candidate | None  # None when it declined or its quote was not found
    probability: float


class CascadeAnswerer:
    """Answers with the fast answerer and, where the decider says so, the language model."""

    def __init__(self, fast: LearnedAnswerer, decider: Decider, settings: Settings) -> None:
        self.fast, self.decider, self.mode = fast, decider, settings.answerer
        self.paragraphs = paragraphs_of(fast.passages)
        self.reach = Reach(p.text for p in fast.passages)
        self._reader: LLMReader | None = None
        self._broken: str = ""  # why the model can't be used, once that is known
        self._lock = threading.Lock()

    def reader(self, settings: Settings) -> LLMReader:
        """The language-model reader, loaded on first use; ``ModelError`` when it can't be."""
        with self._lock:
            if self._broken:
                raise ModelError(self._broken)
            if self._reader is None:
                from assistant.llm_reader import reader_for

                try:
                    self._reader = reader_for(settings)
                except ModelError as exc:
                    self._broken = str(exc)
                    raise
            return self._reader

    def pieces(
        self, hits: list[Hit], settings: Settings, lead: Passage | None = None
    ) -> list[Piece]:
        """What the model reads for ``hits``: sentence windows or whole paragraphs, the one
        around ``lead`` (the fast reader's best sentence) first.

        Leading with the reader's sentence rather than the best hit puts the answer in one
        window more often (76.2% against 71.5% of the dev articles' answerable questions).
        """
        anchors = [h.passage for h in hits]
        if lead is not None:
            anchors = [lead] + [p for p in anchors if p.id != lead.id]
        if settings.llm_read == "paragraphs":
            order = dict.fromkeys((p.source, p.paragraph) for p in anchors)
            chosen = [self.paragraphs[k] for k in list(order)[: settings.llm_pieces]]
        else:
            width = 0 if settings.llm_read == "sentences" else 1
            chosen = windows(
                anchors, self.paragraphs, settings.llm_pieces, width, min_chars=MIN_READ_CHARS
            )
        return within(chosen, settings.llm_read_chars)

    def quote(
        self,
        query: Query,
        hits: list[Hit],
        settings: Settings,
        proposal: Proposal,
        deadline: float = math.inf,
    ) -> Quoted:
        """Let the model read the best pieces for ``query`` and score its quote.

        Raises ``Overtime`` when the reading is not done by ``deadline`` (perf_counter).
        """
        lead = proposal.ranked[0].sentence if proposal.ranked else None
        pieces = self.pieces(hits, settings, lead)
        reading = self.reader(settings).read(query.text, [p.text for p in pieces], deadline)
        located = reading.located
        candidate = None
        quote = ""
        if located is not None:
            piece = pieces[located.passage]
            quote = piece.text[located.start : located.end]
            start, end = piece.start + located.start, piece.start + located.end
            sentence = piece.sentence_at(start)
            candidate = Candidate(
                text=quote,
                source=piece.source,
                start=start,
                end=end,
                sentence=sentence,
                probability=0.0,
            )
        best = proposal.ranked[0] if proposal.ranked else None
        signals = Signals(
            question=query.text,
            quote=quote,
            declined=reading.declined,
            similarity=located.similarity if located else 0.0,
            p_decline=reading.p_decline,
            p_stated=reading.p_stated,
            token_probs=reading.token_probs,
            piece_rank=located.passage if located else 0,
            read="\n".join(p.text for p in pieces),
            fast_confidence=proposal.confidence,
            fast_answer=best.text if best else "",
            rules_answer="" if proposal.ruled.abstained else proposal.ruled.answer,
            top_dense=hits[0].dense if hits else 0.0,
            sentence=candidate.sentence.text if candidate else "",
        )
        probability = self.decider.probability(features(signals)) if candidate else 0.0
        if candidate is not None:
            candidate = replace(candidate, probability=probability)
        return Quoted(reading, signals, candidate, probability)

    def answer(self, question: str, query: Query, hits: list[Hit], settings: Settings) -> Answer:
        """The cascade's answer; ``path`` and ``timings`` say how it was reached."""
        steps = self.steps(question, query, hits, settings)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    def steps(
        self, question: str, query: Query, hits: list[Hit], settings: Settings
    ) -> Generator[Step, None, Answer]:
        """Like ``answer``, yielding ``Step("reading")`` before the model reads."""
        began = time.perf_counter()
        proposal = self.fast.propose(question, query, hits, settings)
        timings = {"fast": time.perf_counter() - began}
        if proposal.heading:
            return replace(proposal.ruled, answered_by="rules", timings=timings)
        route = "llm" if self.mode == "llm" else self.decider.route(proposal.confidence)
        unreached = ""
        if route == "llm" and self.mode == "auto":
            # as typed too: a spelling fix is a guess ("TABLE" -> "Stable"), not the question
            unreached = self.reach.why_not(query.text) or self.reach.why_not(question)
        if unreached:
            out = self._fast(question, query, hits, settings, proposal)
            return replace(
                out, note=f"not read by the language model: {unreached}", timings=timings
            )
        if route == "llm":
            yield Step("reading")
            reading_began = time.perf_counter()
            try:
                quoted = self.quote(query, hits, settings, proposal, began + settings.deadline)
            except Overtime:
                out = self._fast(question, query, hits, settings, proposal)
                timings["read"] = time.perf_counter() - reading_began
                stands = "an abstention" if out.abstained else "the fast answer"
                note = (
                    f"the language model did not finish reading within the {settings.deadline:g} s "
                    f"deadline; {stands} stands"
                )
                return replace(out, note=note, timings=timings)
            except ModelError as exc:
                if self.mode == "llm":
                    raise
                out = self._fast(question, query, hits, settings, proposal)
                return replace(out, note=str(exc), timings=timings)
            timings.update(quoted.reading.timings)
            chosen = self._after_reading(question, query, hits, settings, proposal, quoted)
            return replace(chosen, timings=timings)
        if route == "abstain":
            out = self.fast.abstain(question, query, hits, settings, proposal.ruled)
        else:
            out = self._fast(question, query, hits, settings, proposal)
        return replace(out, timings=timings)

    def _fast(
        self, question: str, query: Query, hits: list[Hit], settings: Settings, proposal: Proposal
    ) -> Answer:
        """The fast answerer's own decision, as ``ASSISTANT_ANSWERER=fast`` gives it."""
        if proposal.confidence < self.fast.abstainer.threshold:
            return self.fast.abstain(question, query, hits, settings, proposal.ruled)
        return self.fast.reply(proposal.ranked[0], question, query, hits, settings)

    def _after_reading(
        self,
        question: str,
        query: Query,
        hits: list[Hit],
        settings: Settings,
        proposal: Proposal,
        quoted: Quoted,
    ) -> Answer:
        if quoted.candidate is not None and quoted.probability >= self.decider.threshold:
            out = self.fast.reply(quoted.candidate, question, query, hits, settings)
            return replace(out, answered_by="llm")
        if proposal.ranked and proposal.confidence >= self.decider.fast_fallback:
            return self.fast.reply(proposal.ranked[0], question, query, hits, settings)
        reason = (
            "the passages found do not state it"
            if quoted.reading.declined or quoted.candidate is None
            else "no passage answers it clearly enough"
        )
        return replace(
            self.fast.abstain(question, query, hits, settings, proposal.ruled, reason),
            answered_by="llm",
        )
