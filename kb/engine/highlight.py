"""Highlighting: a result's snippet with the words of the query marked.

The twin of `whoosh.highlight`, without positions in the index: a body's words are matched to
the query's terms through the same analysis (kb.engine.analysis), its text folded in place so
that positions in the folded text are positions in the original (kb.snippets does the rest).
"""

from __future__ import annotations

from kb.engine.analysis import fold_in_place, term_of
from kb.snippets import make_snippet, match_spans


def snippet(text: str, lang: str, terms: frozenset[str] | None, chars: int = 240) -> str | None:
    """An HTML snippet of a body in language `lang`, its words analysing to one of `terms` in
    <mark> (the rest escaped), or None if none is there."""
    if not terms:
        return None
    if lang == "zh":
        return make_snippet(text, match_spans(text, text, set(), bool, terms), chars)
    # a stem keeps its folded word's letters but (at most) its last one: try -> tri, using -> use
    prefixes = {term[:-1] if len(term) > 3 else term[:2] if len(term) == 3 else term for term in terms}
    matcher = lambda word: term_of(lang, word) in terms  # noqa: E731
    return make_snippet(text, match_spans(text, fold_in_place(text), prefixes, matcher, set()), chars)
