"""Scoring: BM25F relevance, with Whoosh's formula and defaults, computed once per term.

The twin of `whoosh.scoring.BM25F`. Whoosh scores a document by walking matchers; here each
term's postings become BM25 scores once per generation (`impacts`), and a search sums them for
the selected documents and keeps the top of the page with a heap. tests/engine/ check the
documents, order and scores (within 1e-6) against Whoosh's own `searcher.search`.
"""

from __future__ import annotations

import heapq
from array import array
from dataclasses import dataclass

from whoosh import query

from kb.engine.bitsets import from_bits
from kb.engine.postings import Postings, PostingsCache
from kb.engine.whoosh_internals import field_lengths

BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's defaults


@dataclass(frozen=True)
class ScorePart:
    """What one leaf of a query adds to a document's score, as Whoosh's matchers add it.

    A term adds its BM25 score to the documents that have it; a NOT adds 1.0 to the documents
    it matches (Whoosh's InverseMatcher). Either counts only for documents that match every
    one of its `gates`: the ANDs, AND NOTs and phrases above it (Whoosh's intersection and
    difference matchers score a leaf only where the whole branch matches). Ranges add nothing.
    """

    field: str | None  # None for a NOT
    text: object
    node: object  # the NOT, for a NOT
    gates: tuple = ()


def score_parts(parsed, gates: tuple = (), root: bool = True) -> list[ScorePart]:
    """The parts of a parsed query's score: the words typed, not the names they matched ('meta')
    nor those under a NOT. The root gates nothing: every document ranked matches it."""
    inner = gates if root else (*gates, parsed)
    if isinstance(parsed, query.Term):
        return [ScorePart(parsed.fieldname, parsed.text, None, gates)] if parsed.fieldname != "meta" else []
    if isinstance(parsed, query.Phrase):
        return [ScorePart(parsed.fieldname, word, None, inner) for word in parsed.words]
    if isinstance(parsed, query.Not):
        return [ScorePart(None, None, parsed, gates)]
    if isinstance(parsed, (query.AndNot, query.Require)):  # only the first part is scored
        return score_parts(parsed.a, inner, False)
    if isinstance(parsed, (query.And, query.AndMaybe)):
        return [part for child in parsed.children() for part in score_parts(child, inner, False)]
    if isinstance(parsed, query.Or):
        return [part for child in parsed.children() for part in score_parts(child, gates, False)]
    return []


class BM25:
    """BM25F scores of one generation's documents, per term, as Whoosh computes them."""

    def __init__(self, searcher, size: int):
        self._searcher, self._size = searcher, size
        self._norms: dict[str, list[float]] = {}

    def impacts(self, postings: PostingsCache, field_name: str, text) -> Postings:
        """A term's postings with each document's BM25 score for it (callers hold the lock)."""
        entry = postings.term(field_name, text)
        if not entry.scored and entry.docs:
            norm = self._length_norms(field_name)
            idf = self._searcher.idf(field_name, text) * (BM25_K1 + 1)
            entry.weights = array("d", [idf * w / (w + norm[d])
                                        for d, w in zip(entry.docs, entry.weights, strict=True)])
            entry.scored = True
        return entry

    def _length_norms(self, field_name: str) -> list[float]:
        """BM25's length normalisation of every document for a field, once per generation."""
        norms = self._norms.get(field_name)
        if norms is None:
            avg = self._searcher.avg_field_length(field_name) or 1
            lengths = []
            for leaf, _ in self._searcher.leaf_searchers():
                lengths += field_lengths(leaf.reader(), field_name)
            norms = self._norms[field_name] = [BM25_K1 * (1 - BM25_B + BM25_B * n / avg) for n in lengths]
        return norms

    def ranked(self, parts: list[tuple[Postings | None, int, int | None]], bits: int,
               limit: int | None) -> list[tuple[int, float]]:
        """Documents of `bits` in order of the sum of their scores, up to `limit`. Each part is
        a term's scored postings, or None and the documents of a NOT (1.0 each); with the
        documents it may count for (its gates), or None for all of them."""
        docs = from_bits(bits)
        if not parts:
            return [(d, 0.0) for d in docs[:limit]]
        scores = [0.0] * self._size
        for entry, constant, gate in parts:
            if entry is None:
                for d in from_bits(constant & bits & (gate if gate is not None else bits)):
                    scores[d] += 1.0
            elif gate is None or gate & bits == bits:
                for d, s in zip(entry.docs, entry.weights, strict=True):
                    scores[d] += s
            else:
                allowed = set(from_bits(gate & bits))
                for d, s in zip(entry.docs, entry.weights, strict=True):
                    if d in allowed:
                        scores[d] += s
        if limit is None:
            docs.sort(key=scores.__getitem__, reverse=True)  # stable: ties stay in index order
        else:
            docs = heapq.nlargest(limit, docs, key=scores.__getitem__)
        return [(d, scores[d]) for d in docs]
