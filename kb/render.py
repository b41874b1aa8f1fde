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


# A heading ends where its line ends: it gets a full stop so it does not run into the text after it
# ("Context. The programme..." rather than "Context The programme...").
HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
MARKUP_RES = (  # each with a character its matches need: a text without it skips the pattern
    ("[", re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images keep their text
    ("<", re.compile(r"<[^>]+>"), " "),                      # raw HTML tags
    ("", re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)]|>)\s+", re.MULTILINE), ""),  # bullets, quotes
    ("-", re.compile(r"^[ \t|:-]*-{3,}[ \t|:-]*$", re.MULTILINE), ""),  # table rules, horizontal rules
    ("|", re.compile(r"\|+"), " "),                         # table pipes
    ("_", re.compile(r"_+"), lambda m: m.group() if _inside_word(m) else ""),  # _emphasis_, snake_case kept
    ("", re.compile(r"[*`~]+"), ""),                       # emphasis and code marks
)
# Removing markup leaves a space before punctuation ("**Bolsa Família**, the" -> "Bolsa Família , the").
SPACE_BEFORE_PUNCTUATION_RE = re.compile(r" (?=[,.;:!?)\]}»”’%，。；：！？、）])")  # on single-spaced text
CJK_END_RE = re.compile(r"[\u3000-\u9fff\uff00-\uffef]$")


def _inside_word(match: re.Match) -> bool:
    text, start, end = match.string, match.start(), match.end()
    return 0 < start and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()


def _heading(match: re.Match) -> str:
    text = match.group(1).strip()
    if not text or text[-1] in ".:;!?。：；！？":
        return text
    return text + ("。" if CJK_END_RE.search(text) else ".")


@lru_cache(maxsize=2048)
def plain_text(text: str) -> str:
    """The readable text of Markdown without markup, for indexing and snippets.

    A few regular expressions rather than a full render: indexing runs this on every file,
    and a Markdown render costs more than the rest of the document's preparation.
    """
    if "#" in text:
        text = HEADING_RE.sub(_heading, text)
    for needed, pattern, replacement in MARKUP_RES:
        if needed in text:
            text = pattern.sub(replacement, text)
    text = " ".join((html.unescape(text) if "&" in text else text).split())
    return SPACE_BEFORE_PUNCTUATION_RE.sub("", text)
