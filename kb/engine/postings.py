"""Postings: each query term's documents and weights, read once per generation and cached.

The twin of `whoosh.matching` and `reader.postings()`: a term's postings are read from every
segment a block at a time (kb.engine.whoosh_internals.read_postings) into flat arrays, with a
bitset of its documents; the most recently used terms are kept, within a bound on postings.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass

from kb.engine.analysis import vocabulary_terms
from kb.engine.bitsets import to_bits, union
from kb.engine.whoosh_internals import read_postings, segment_matcher

TERM_CACHE = 20000  # terms whose postings each snapshot remembers
POSTINGS_CACHE = 4_000_000  # and at most this many postings among them (8 bytes each, 12 once scored)


@dataclass
class Postings:
    """One term's documents (index numbering) and weights, or BM25 scores once `scored`."""

    docs: array
    weights: array
    bits: int
    scored: bool = False


class PostingsCache:
    """The postings of the terms a snapshot's searches asked for, least recently used dropped.

    Not thread-safe: the snapshot holds its lock around every call."""

    def __init__(self, searcher, schema, size: int, facet_bits: dict[str, dict[str, int]]):
        self._searcher, self._schema, self._size, self._facet_bits = searcher, schema, size, facet_bits
        self._terms: OrderedDict[tuple, Postings] = OrderedDict()
        self._cached = 0

    def term(self, field_name: str, text) -> Postings:
        """A term's postings, from the cache or read once from the index."""
        key = (field_name, text)
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = self._read(field_name, text)
            self._cached += len(found.docs)
            while len(self._terms) > 1 and (self._cached > POSTINGS_CACHE or len(self._terms) > TERM_CACHE):
                self._cached -= len(self._terms.popitem(last=False)[1].docs)
        else:
            self._terms.move_to_end(key)
        return found

    def _read(self, field_name: str, text) -> Postings:
        if field_name == "meta":
            # names of countries and policy types: the documents of the facet values they name
            word = text.decode() if isinstance(text, bytes) else text
            named = vocabulary_terms().get(word, ())
            return Postings(array("I"), array("f"), union(self._facet_bits[f].get(v, 0) for f, v in named))
        docs, weights = array("I"), array("f")
        tbytes, field_format = text.encode() if isinstance(text, str) else text, self._schema[field_name].format
        for leaf, offset in self._searcher.leaf_searchers():
            matcher = segment_matcher(leaf.reader(), field_name, tbytes, field_format)
            if matcher is not None:  # deleted documents are dropped by the bitsets
                read_postings(matcher, offset, docs, weights)
        return Postings(docs, weights, to_bits(docs, self._size))
