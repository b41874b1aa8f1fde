"""Search-result snippets: the densest window of matched words, HTML-escaped, matches in <mark>."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

MAX_SPANS = 16  # enough to find a dense window
# a word, to the analysers of English, Spanish and Portuguese (kb.engine.analysis); possessive, because
# nothing follows it that backtracking could help match, and a rebuild scans every text with it
WORD = r"\w++(?:['’.]\w++)*+"
WORD_RE = re.compile(WORD)


def match_spans(text: str, folded: str, prefixes: set[str], matches: Callable[[str], bool],
                literal: set[str]) -> list[tuple[int, int]]:
    """(start, end) of the words of `text` that begin with one of `prefixes` in `folded` (the
    text lowercased and accent-folded, of the same length) and that `matches`, and of each literal.

    str.find looks for the prefixes, far faster than a regex scan: only the words it finds
    pay for the Python `matches` test.
    """
    starts = set()
    for prefix in prefixes if len(folded) == len(text) else ():
        i = folded.find(prefix)
        while i != -1:
            if i == 0 or not (folded[i - 1].isalnum() or folded[i - 1] == "_"):
                starts.add(i)
            i = folded.find(prefix, i + 1)
    spans = []
    for start in sorted(starts):
        word = WORD_RE.match(folded, start)
        if word and matches(word.group()):
            spans.append(word.span())
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
