"""HTML -> the main text of a page, as paragraphs with markdown ``#`` headings.

Scope: the text a reader sees in the page's ``<main>`` (else ``<article>``, else
``<body>``), in document order; headings as ``#`` lines, table rows as cells joined by
" | ". Scripts, styles, navigation, page headers and footers, forms and hidden elements
are dropped, never run. Non-goals: rendering CSS, readability scoring, JavaScript pages.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from assistant.errors import CorpusError, short_reason
from assistant.layout import squash

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag


_DROPPED = frozenset(
    "script style noscript template svg iframe nav aside form button select".split()
)
_LANDMARKS = ["article", "aside", "main", "nav", "section"]  # header/footer inside are content
_BLOCKS = frozenset(
    """p div section li dt dd blockquote pre figcaption caption tr table ul ol br hr td th
    article main figure address dl details summary fieldset legend body center thead tbody
    tfoot h1 h2 h3 h4 h5 h6""".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def html_paragraphs(data: bytes, name: str) -> list[str]:
    """The page's main text as paragraphs. Example: b"<main><h1>Hi</h1><p>Yes.</p></main>"
    -> ["# Hi", "Yes."]"""
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(data, "html.parser")  # bytes: it honours <meta charset>
        _drop_hidden(soup)
        title_tag = soup.find("title")
        title = ""
        if title_tag is not None:
            title = squash(title_tag.get_text())
            title_tag.decompose()  # a page without <body> is read whole; its title goes first
        paragraphs: list[str] = []
        body = soup.body if soup.body is not None else soup
        for root in (soup.find("main"), soup.find("article"), body):
            if root is not None:
                paragraphs = _html_blocks(root)
                if paragraphs:
                    break
    except Exception as exc:  # html.parser rejects some malformed markup
        raise CorpusError(
            f"{name} can't be read as HTML ({short_reason(exc)}); save it again as .html"
        ) from None
    if paragraphs and title and not paragraphs[0].startswith("#"):
        paragraphs.insert(0, "# " + title)
    return paragraphs


def _drop_hidden(soup: BeautifulSoup) -> None:
    """Remove page furniture and hidden elements (nav, footers, scripts, aria-hidden)."""

    def dropped(tag: Tag) -> bool:
        if tag.name in _DROPPED or tag.has_attr("hidden"):
            return True
        if str(tag.get("aria-hidden", "")).strip().lower() == "true":
            return True
        if _HIDDEN_STYLE.search(str(tag.get("style", ""))):
            return True
        return tag.name in ("header", "footer") and tag.find_parent(_LANDMARKS) is None

    for tag in soup.find_all(dropped):
        if not tag.decomposed:  # already gone with an ancestor
            tag.decompose()


def _html_blocks(root: Tag) -> list[str]:
    """Paragraphs under ``root`` in document order. Example: <h2>Costs</h2><p>Low.</p> -> ["## Costs", "Low."]"""
    from bs4 import Tag

    paragraphs: list[str] = []
    words: list[str] = []

    def flush() -> None:
        text = squash("".join(words))
        if text:
            paragraphs.append(text)
        words.clear()

    # An explicit stack, not recursion: a page may nest elements thousands deep.
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is None:  # the end of a block element
            flush()
        elif not isinstance(node, Tag):
            if _is_text(node):
                words.append(str(node))
        elif re.fullmatch(r"h[1-6]", node.name):
            flush()
            text = _inline_text(node)
            if text:
                paragraphs.append("#" * int(node.name[1]) + " " + text)
        elif node.name == "tr":
            flush()
            cells = [_inline_text(c) for c in node.find_all(["td", "th"], recursive=False)]
            paragraphs.append(" | ".join(c for c in cells if c))
        else:
            if node.name in _BLOCKS:
                flush()
                stack.append(None)
            stack.extend(reversed(node.contents))
    flush()
    return [p for p in paragraphs if p]


def _is_text(node: object) -> bool:
    """Visible text, not a comment, doctype, CDATA or the inside of script/style/template."""
    from bs4.element import NavigableString

    return isinstance(node, NavigableString) and not isinstance(node, _hidden_strings())


@cache
def _hidden_strings() -> tuple[type, ...]:
    from bs4.element import (
        PreformattedString,  # comments, doctypes, CDATA, processing instructions
        RubyParenthesisString,
        Script,
        Stylesheet,
        TemplateString,
    )

    return (PreformattedString, RubyParenthesisString, Script, Stylesheet, TemplateString)


def _inline_text(tag: Tag) -> str:
    """A heading's or a cell's text on one line. Example: <th>Net <b>sales</b></th> -> "Net sales"."""
    from bs4 import Tag

    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag) and node.name in _BLOCKS:
            parts.append(" ")  # <td><p>a</p><p>b</p></td> -> "a b"; inline tags join as they are
        elif _is_text(node):
            parts.append(str(node))
    return squash("".join(parts))
