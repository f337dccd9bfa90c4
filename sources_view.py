"""The web chat's sources panel and document view, as escaped HTML (no gradio here).

Each cited passage with its number, section and score, the answer span highlighted
and a little surrounding context; the whole document with the cited spans marked in
place. Everything from the document or the user is escaped before it becomes HTML.
"""

from __future__ import annotations

import html
import logging
import re
from functools import lru_cache
from pathlib import Path

from assistant import Answer, Citation, Settings

log = logging.getLogger("app")

CONTEXT_CHARS = 180  # document text shown on each side of a cited passage

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


# ---- escaping -------------------------------------------------------------------------


def user_markdown(text: str) -> str:
    """User text as Markdown that renders literally.

    Example: '<b>*hi*</b>' -> '&lt;b&gt;\\*hi\\*&lt;/b&gt;'
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def reply_markdown(text: str) -> str:
    """The library's Markdown reply with every HTML tag and entity neutralised.

    Only '&' and '<' are escaped: no tag can open without '<', and '>' must stay
    for the blockquotes. Example: '> a <img src=x> [1]' -> '> a &lt;img src=x> [1]'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;")


def verification_note(answer: Answer) -> str:
    """One Markdown line on a generated reply's check; "" when no LLM wrote anything.

    Example: a verified reply with one sentence dropped ->
    "✅ *Generated, and every sentence checked against the passages it cites (1 dropped).*"
    """
    if answer.mode == "generated":
        dropped = f" ({len(answer.dropped)} dropped)" if answer.dropped else ""
        return f"✅ *Generated, and every sentence checked against the passages it cites{dropped}.*"
    if answer.generated:
        why = answer.dropped[0].reason if answer.dropped else "nothing to check"
        return (
            f"⚠️ *The generated reply failed the check ({user_markdown(why)}); "
            "showing the answer quoted from the document instead.*"
        )
    return ""


def esc(text: str) -> str:
    return html.escape(text, quote=True)


# ---- the document ---------------------------------------------------------------------


@lru_cache(maxsize=16)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def document_text(settings: Settings, source: str) -> str:
    """The text of corpus file ``source`` (offsets in citations index into it)."""
    return _read((settings.corpus_dir / source).resolve())


def document_title(settings: Settings) -> tuple[str, str]:
    """(title, file name): the first non-empty line of the first corpus file."""
    files = sorted(
        p for p in settings.corpus_dir.glob("*") if p.suffix in {".txt", ".md"} and p.is_file()
    )
    if not files:
        return "the documents", ""
    for line in _read(files[0].resolve()).splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip(), files[0].name
    return files[0].stem, files[0].name


# ---- the sources panel ----------------------------------------------------------------


def highlight(text: str, span: str, *, css: str = "answer-span") -> str:
    """Escaped ``text`` with the first case-insensitive occurrence of ``span`` in <mark>.

    Example: ('Acme lost <3.8 bn', '3.8 bn') -> 'Acme lost &lt;<mark ...>3.8 bn</mark>'
    """
    i = text.lower().find(span.lower()) if span else -1
    if i < 0:
        return esc(text)
    j = i + len(span)
    return f'{esc(text[:i])}<mark class="{css}">{esc(text[i:j])}</mark>{esc(text[j:])}'


def surrounding(doc: str, start: int, end: int, width: int = CONTEXT_CHARS) -> tuple[str, str]:
    """Up to ``width`` characters of the same paragraph before and after ``doc[start:end]``.

    Cut at a word boundary and marked with '…' where the paragraph goes on.
    """
    para_start = doc.rfind("\n", 0, start) + 1
    para_end = doc.find("\n", end)
    para_end = len(doc) if para_end < 0 else para_end
    lo, hi = max(para_start, start - width), min(para_end, end + width)
    before, after = doc[lo:start], doc[end:hi]
    if lo > para_start:
        before = "…" + before.split(" ", 1)[-1]
    if hi < para_end:
        after = after.rsplit(" ", 1)[0] + "…"
    return before, after


def _anchor(c: Citation) -> str:
    return f"ask-doc-{c.n}"


def render_source(c: Citation, answer: Answer, doc: str | None) -> str:
    """One cited passage: number, section, score, the answer marked, some context."""
    span = "" if answer.abstained else answer.answer
    body = f'<span class="source-cited">{highlight(c.text, span)}</span>'
    if doc is not None and doc[c.start : c.end] == c.text:
        before, after = surrounding(doc, c.start, c.end)
        body = (
            f'<span class="source-context">{esc(before)}</span>{body}'
            f'<span class="source-context">{esc(after)}</span>'
        )
        link = (
            f'<a class="show-in-doc" href="#{_anchor(c)}" data-target="{_anchor(c)}">'
            "Show in the document ↓</a>"
        )
    else:
        link = ""
    return (
        '<div class="source-card">'
        f'<div class="source-head"><span class="source-n">[{c.n}]</span> '
        f'<span class="source-section">{esc(c.section or "(no section)")}</span></div>'
        f'<div class="source-meta"><span class="source-file">{esc(c.source)}</span>'
        f'<span class="source-score" title="support score, 0 to 1">score {c.score:.2f}</span>'
        "</div>"
        f'<div class="source-body">{body}</div>{link}</div>'
    )


def render_document(source: str, doc: str, citations: list[Citation], answer: Answer) -> str:
    """The whole document, escaped, with each cited span marked in place (by offset)."""
    span = "" if answer.abstained else answer.answer
    parts: list[str] = []
    pos = 0
    for c in sorted(citations, key=lambda c: c.start):
        if c.start < pos or doc[c.start : c.end] != c.text:
            continue  # overlapping or stale span: leave the text unmarked
        parts.append(esc(doc[pos : c.start]))
        parts.append(
            f'<mark class="doc-cite" id="{_anchor(c)}"><sup>[{c.n}]</sup> '
            f"{highlight(c.text, span)}</mark>"
        )
        pos = c.end
    parts.append(esc(doc[pos:]))
    return (
        '<details class="doc-view">'
        f"<summary>The whole document: {esc(source)} (cited passages highlighted)</summary>"
        f'<div class="doc-text">{"".join(parts)}</div></details>'
    )


def render_sources(answer: Answer, settings: Settings) -> str:
    """The sources panel for one reply (all text escaped)."""
    if not answer.citations:
        return '<div class="sources-empty">No passages to show for this question.</div>'
    docs: dict[str, str | None] = {}
    for c in answer.citations:
        if c.source not in docs:
            try:
                docs[c.source] = document_text(settings, c.source)
            except (OSError, UnicodeDecodeError):
                log.warning("can't read %s for the document view", c.source)
                docs[c.source] = None
    if answer.abstained:
        title = (
            '<p class="sources-title abstained">The document doesn\'t answer this. '
            "The closest passages:</p>"
        )
    else:
        title = '<p class="sources-title">Sources</p>'
    cards = "".join(render_source(c, answer, docs[c.source]) for c in answer.citations)
    views = "".join(
        render_document(source, doc, [c for c in answer.citations if c.source == source], answer)
        for source, doc in docs.items()
        if doc is not None
    )
    return f"{title}{cards}{views}"


# ---- events ---------------------------------------------------------------------------
