"""Bitsets: sets of documents as Python ints, bit d set for document d.

Filters, disjunctive facet counts and boolean queries become a few big-int operations. The
conversions go through a string of '0'/'1' characters so that every step runs in C: no
Python-level loop over the documents.
"""

from __future__ import annotations

from array import array
from collections import deque
from functools import reduce
from itertools import compress, repeat

_ZERO_ONE = bytes.maketrans(b"\x00\x01", b"01")
_ONE_ZERO = bytes.maketrans(b"01", b"\x00\x01")


def to_bits(docnums, size: int = 0) -> int:
    """A set of document numbers as a Python int bitset."""
    docnums = docnums if isinstance(docnums, (list, tuple, array)) else list(docnums)
    if len(docnums) < 32:  # a rare word's few documents: shifts cost less than the string
        return reduce(int.__or__, map((1).__lshift__, docnums), 0)
    flags = bytearray(max(size, max(docnums, default=-1) + 1))
    deque(map(flags.__setitem__, docnums, repeat(1)), maxlen=0)
    return int(flags[::-1].translate(_ZERO_ONE) or b"0", 2)


def from_bits(bits: int) -> list[int]:
    """The document numbers in a bitset, ascending."""
    flags = format(bits, "b").encode()[::-1].translate(_ONE_ZERO)
    return list(compress(range(len(flags)), flags))


def union(bitsets) -> int:
    """The documents in any of `bitsets`."""
    return reduce(int.__or__, bitsets, 0)


def intersection(bitsets, within: int) -> int:
    """The documents of `within` in every one of `bitsets`."""
    return reduce(int.__and__, bitsets, within)
