"""Markdown from content → safe HTML. Raw HTML in content is never passed through."""

from __future__ import annotations

import html
from functools import cache, lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_BLOCK_TAGS = {"p", "ul", "ol", "li", "strong", "em", "br", "a", "code", "blockquote"}
_INLINE_TAGS = {"strong", "em", "a", "code", "br"}
# The same few hundred content fields are converted for hundreds of documents; a bounded cache
# (the functions are pure) halves a location page's render time and keeps a worker's memory flat.
_MEMO = lru_cache(maxsize=8192)


@cache
def _parser() -> MarkdownIt:
    # "html": False makes markdown-it escape any raw HTML an editor or a CMS put in the text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _clean(html: str, tags: set[str]) -> Markup:
    # nh3 is the second wall: even if the parser let something through, only these tags stay.
    cleaned = nh3.clean(
        html,
        tags=tags,
        attributes={"a": {"href"}},
        url_schemes={"https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned.strip())  # noqa: S704 - sanitised by nh3 just above


@_MEMO
def markdown_block(text: str) -> Markup:
    """Paragraphs and lists."""
    return _clean(_parser().render(text), _BLOCK_TAGS)


@_MEMO
def markdown_inline(text: str) -> Markup:
    """One line of text: emphasis and links, no paragraphs."""
    return _clean(_parser().renderInline(text.strip()), _INLINE_TAGS)


@_MEMO
def plain_text(text: str) -> str:
    """The words only, for meta descriptions, JSON-LD and hashing."""
    return html.unescape(" ".join(nh3.clean(_parser().render(text), tags=set()).split()))
