"""What a reader reads: stretches of the document around the best retrieved passages.

A ``Piece`` is contiguous text of one document rebuilt from its passages at exact
offsets (``text[i]`` is document character ``start + i``): a whole paragraph, or a
sentence window (the hit and ``width`` sentences either side). The MiniLM reader reads
paragraphs; the language model reads what ``Settings.llm_read`` names, since its
prompt's length is nearly all of its time.
Non-goals: retrieval (``retrieve``), reading (``reader``, ``llm_reader``).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.types import Hit, Passage


@dataclass(frozen=True)
class Piece:
    """Contiguous text of ``source``: ``text[i]`` is document character ``start + i``."""

    source: str
    paragraph: int
    start: int
    text: str
    passages: tuple[Passage, ...]

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def sentence_at(self, offset: int) -> Passage:
        """The passage holding document offset ``offset`` (the first one if none does)."""
        return next((p for p in self.passages if p.start <= offset < p.end), self.passages[0])


def join(members: list[Passage]) -> Piece:
    """Passages of one paragraph, in order, as one piece; the gaps become spaces.

    Example: passages "A b." (0-4) and "C d." (5-9) -> Piece(text="A b. C d.", start=0)
    """
    members = sorted(members, key=lambda p: p.start)
    start = members[0].start
    chars = [" "] * (members[-1].end - start)
    for p in members:
        chars[p.start - start : p.end - start] = p.text
    return Piece(members[0].source, members[0].paragraph, start, "".join(chars), tuple(members))


def paragraphs_of(passages: list[Passage]) -> dict[tuple[str, int], Piece]:
    """Every paragraph of the corpus as a piece, by (source, paragraph number)."""
    grouped: dict[tuple[str, int], list[Passage]] = {}
    for p in passages:
        grouped.setdefault((p.source, p.paragraph), []).append(p)
    return {key: join(members) for key, members in grouped.items()}


def ranked_paragraphs(
    hits: list[Hit],
) -> tuple[list[tuple[str, int]], dict[tuple[str, int], float]]:
    """Paragraph keys in the order of their best hit, and that hit's score / the top score."""
    order: list[tuple[str, int]] = []
    fused: dict[tuple[str, int], float] = {}
    for h in hits:
        key = (h.passage.source, h.passage.paragraph)
        if key not in fused:
            order.append(key)
            fused[key] = h.score / (hits[0].score or 1.0)
    return order, fused


def windows(
    anchors: list[Passage],
    paragraphs: dict[tuple[str, int], Piece],
    count: int,
    width: int = 1,
    min_chars: int = 0,
) -> list[Piece]:
    """Up to ``count`` sentence windows around the ``anchors`` (sentences, best first),
    best first; overlapping or touching windows of one paragraph merge into one. While the
    windows hold fewer than ``min_chars`` characters (a heading's window: "Annual
    Results"), the next anchor's window is taken too.

    Example: anchors sentences 3 and 4 of a paragraph, width 1 -> one piece, sentences 2-5
    """
    spans: list[tuple[tuple[str, int], int, int]] = []  # (paragraph key, first, last member)

    def chars() -> int:
        return sum(
            paragraphs[k].passages[b].end - paragraphs[k].passages[a].start for k, a, b in spans
        )

    for anchor in anchors:
        key = (anchor.source, anchor.paragraph)
        members = paragraphs[key].passages
        at = next((i for i, p in enumerate(members) if p.id == anchor.id), None)
        if at is None:
            continue
        lo, hi = max(0, at - width), min(len(members) - 1, at + width)
        touching = [
            n for n, (k, a, b) in enumerate(spans) if k == key and lo <= b + 1 and a <= hi + 1
        ]
        if touching:  # one window for all it touches, where the best of them was
            first = touching[0]
            lo = min(lo, *(spans[n][1] for n in touching))
            hi = max(hi, *(spans[n][2] for n in touching))
            spans[first] = (key, lo, hi)
            spans = [s for n, s in enumerate(spans) if n not in touching[1:]]
        elif len(spans) < count or chars() < min_chars:
            spans.append((key, lo, hi))
    return [join(list(paragraphs[k].passages[a : b + 1])) for k, a, b in spans]


def within(pieces: list[Piece], max_chars: int) -> list[Piece]:
    """The pieces that fit in ``max_chars`` (best first); the first is cut if it alone is longer."""
    out: list[Piece] = []
    used = 0
    for piece in pieces:
        if used + len(piece.text) <= max_chars:
            out.append(piece)
            used += len(piece.text)
        elif not out:
            keep = [p for p in piece.passages if p.end - piece.start <= max_chars] or [
                piece.passages[0]
            ]
            cut = join(keep)
            out.append(
                Piece(cut.source, cut.paragraph, cut.start, cut.text[:max_chars], cut.passages)
            )
            break
    return out
