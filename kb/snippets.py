"""Search-result snippets: the densest window of matched words, HTML-escaped, matches in <mark>."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

MAX_SPANS = 40  # enough to find the densest window; scanning stops there


def match_spans(text: str, prefixes: set[str], matches: Callable[[str], bool],
                literal: set[str]) -> list[tuple[int, int]]:
    """(start, end) of each word starting with one of `prefixes` that `matches`, and of each literal.

    The prefix regex finds candidates at C speed; only those pay for the Python `matches` test.
    """
    spans = []
    if prefixes:
        # lowercase text and a lookahead on first letters: twice as fast as re.IGNORECASE
        lowered, flags = text.lower(), 0
        if len(lowered) != len(text):  # a few characters change length when lowercased
            lowered, flags = text, re.IGNORECASE
        alternatives = "|".join(sorted(map(re.escape, prefixes), key=len, reverse=True))
        first = re.escape("".join(sorted({p[0] for p in prefixes})))
        candidates = re.finditer(rf"\b(?=[{first}])(?:{alternatives})\w*(?:['’.]\w+)*", lowered, flags)
        for m in candidates:
            if matches(m.group()):
                spans.append((m.start(), m.end()))
                if len(spans) == MAX_SPANS:
                    break
    for needle in literal:
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(needle), text)][:MAX_SPANS]
    return sorted(set(spans))


def make_snippet(text: str, spans: list[tuple[int, int]], chars: int = 240) -> str | None:
    """The window of about `chars` characters with the most distinct matches, as safe HTML."""
    if not spans:
        return None
    best, best_score = 0, -1
    for start, _ in spans:
        window_start = max(0, start - chars // 4)
        inside = {text[s:e].lower() for s, e in spans if window_start <= s and e <= window_start + chars}
        if len(inside) > best_score:
            best, best_score = window_start, len(inside)
    start = _word_boundary(text, best)
    end = min(len(text), start + chars)
    end = _word_boundary(text, end) if end < len(text) else end
    out, cursor = [], start
    for s, e in spans:
        if s >= cursor and e <= end:
            out += [html.escape(text[cursor:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
            cursor = e
    out.append(html.escape(text[cursor:end]))
    return ("… " if start > 0 else "") + "".join(out).strip() + (" …" if end < len(text) else "")


def _word_boundary(text: str, pos: int) -> int:
    """Move `pos` back to the start of the word it falls in."""
    while 0 < pos < len(text) and text[pos - 1].isalnum() and text[pos].isalnum():
        pos -= 1
    return pos
