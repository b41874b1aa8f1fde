"""Markdown to safe HTML, and to plain text for indexing and snippets."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h2", "h3", "h4",
    "h5", "h6", "hr", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}


@lru_cache(maxsize=512)
def to_html(text: str) -> str:
    """Render contributor Markdown to HTML with scripts, handlers and unsafe URLs removed."""
    raw = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(raw, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


MARKUP_RES = (  # each with a character its matches need: a text without it skips the pattern
    ("[", re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images keep their text
    ("<", re.compile(r"<[^>]+>"), " "),                      # raw HTML tags
    ("", re.compile(r"^\s{0,3}(?:#{1,6}|[-*+]|\d+[.)]|>)\s+", re.MULTILINE), ""),  # headings, bullets, quotes
    ("", re.compile(r"[*_`~|]+"), " "),                     # emphasis, code, table pipes
)


@lru_cache(maxsize=2048)
def plain_text(text: str) -> str:
    """The readable text of Markdown without markup, for indexing and snippets.

    A few regular expressions rather than a full render: indexing runs this on every file,
    and a Markdown render costs more than the rest of the document's preparation.
    """
    for needed, pattern, replacement in MARKUP_RES:
        if needed in text:
            text = pattern.sub(replacement, text)
    return " ".join((html.unescape(text) if "&" in text else text).split())
