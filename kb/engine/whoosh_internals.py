"""Every use of a private Whoosh name, in one place, each reproducing a public behaviour faster.

The engine reads and writes Whoosh's own segment files (see docs/engine.md for why). Where that
needs a name Whoosh does not publish (`reader._terms`, a posting block's `_ids`, ...), the access
is here and nowhere else, with the public behaviour it reproduces; tests/engine/ compare the two
(same postings, same lengths, same scores within 1e-6, same order). These names are those of
whoosh-reloaded 2.7.5, checked at import: another version must be checked again before use.
"""

from __future__ import annotations

import mmap
import os
from array import array
from itertools import accumulate

import whoosh
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from kb.errors import KbError

PINNED_WHOOSH = (2, 7, 5)

if tuple(whoosh.__version__[:3]) != PINNED_WHOOSH:
    raise KbError(f"kb.engine reads Whoosh's private structures of whoosh-reloaded "
                  f"{'.'.join(map(str, PINNED_WHOOSH))}, but {whoosh.versionstring()} is installed; "
                  "install the version pinned in setup.cfg (or re-check kb/engine/whoosh_internals.py)")


# ---- reading -----------------------------------------------------------------------------------

def segment_matcher(reader, field_name: str, tbytes: bytes, field_format):
    """A segment's matcher for one term, or None if the segment lacks it.

    Reproduces `reader.postings(field, text)` without its checks and its deletion filter
    (deleted documents are dropped later by the snapshot's bitsets)."""
    terms = getattr(reader, "_terms", None)  # SegmentReader._terms: the segment's term table
    try:
        if terms is None:  # an empty index's reader has no segment: the public path
            return reader.postings(field_name, tbytes)
        return terms.matcher(field_name, tbytes, field_format)
    except TermNotFound:
        return None


def read_postings(matcher, offset: int, docs: array, weights: array) -> None:
    """Append a segment's postings for one term (numbered from `offset`) to `docs` and `weights`.

    Reproduces iterating `matcher.id()` / `matcher.weight()` / `matcher.next()`, a block at a
    time: the block's ids and weights decoded in C rather than a posting per Python call."""
    while hasattr(matcher, "child"):  # wrappers (deletion filters): their leaf has the postings
        matcher = matcher.child
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):  # W3LeafMatcher
        while matcher.is_active():
            matcher._read_data()  # the block's ids (delta-encoded unless stored as bytes)
            ids = matcher._data[0] if matcher._byteids else accumulate(matcher._data[0])
            docs.extend(map(offset.__add__, ids) if offset else ids)
            matcher._read_weights()
            weights.extend(matcher._weights)
            matcher._next_block()
        return
    while matcher.is_active():  # any other matcher: the public, slower way
        docs.append(matcher.id() + offset)
        weights.append(matcher.weight())
        matcher.next()


_LENGTHS = [byte_to_length(b) or 1 for b in range(256)]  # Whoosh keeps lengths as one byte


def field_lengths(reader, field_name: str) -> list[int]:
    """The length of a field in every document of a segment (1 where it is empty).

    Reproduces `reader.doc_field_length(d, field, 1) or 1` for every d, reading the lengths
    column whole: one call for a 10,000-document segment instead of 10,000."""
    count = reader.doc_count_all()
    try:
        column = reader._perdoc._cached_reader(f"_{field_name}_len", LENGTHS_COLUMN)  # W3PerDocReader
        raw = column._dbfile.get(column._basepos, column._count) if column is not None else b""
    except AttributeError:  # an empty index's reader
        return [reader.doc_field_length(d, field_name, 1) or 1 for d in range(count)]
    return [_LENGTHS[b] for b in raw[:count]] + [1] * (count - len(raw))


class MappedStorage(FileStorage):
    """A generation's files memory-mapped for reading: Whoosh reads a few bytes at a time (a
    term's hash slots, a posting block's header), and a slice of a mapping costs no seek and
    no system call, where its own files cost both on every read.

    Reproduces `FileStorage.open_file` (the same bytes, through a mapping)."""

    def open_file(self, name, **kwargs):
        """The file `name`, mapped (empty files, which cannot be mapped, opened normally)."""
        with open(self._fpath(name), "rb") as f:  # FileStorage._fpath: the file's full path
            if not os.fstat(f.fileno()).st_size:
                return super().open_file(name, **kwargs)
            return MappedFile(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name=name, **kwargs)


class MappedFile(StructFile):
    """A read-only StructFile over a memory mapping (which has read, seek and tell of its own)."""

    def get(self, position, length):
        """`length` bytes at `position`."""
        return self.file[position:position + length]


# ---- writing -----------------------------------------------------------------------------------
# A rebuild's parts bypass SegmentWriter.add_document and its posting pool, which cost several
# Python calls and a tuple per posting (kb.engine.codec). These reproduce the end of
# SegmentWriter._finalize_segment and MpWriter's commit of its sub-writers' segments.

def new_segment_writer(ix, codec):
    """A writer of one new segment, taking no Whoosh lock.

    Reproduces `ix.writer(codec=codec, compound=False)` (`_lk=False`: ours is held, the
    generation is new, and each part writes its own segment)."""
    return SegmentWriter(ix, _lk=False, codec=codec, compound=False)


def close_empty_segment(writer) -> None:
    """Close a writer that added no document, keeping its temporary folder for the others.

    Reproduces `writer.cancel()` without removing the folder the other parts still use."""
    writer._close_segment()


def posting_writer(fieldwriter):
    """The block writer of a segment's field writer (W3FieldWriter._postwriter)."""
    return fieldwriter._postwriter


def add_postings(block, docs: array, weights: array, values: list) -> None:
    """A term's postings into Whoosh's posting block writer.

    Reproduces `block.add_posting(id, weight, vbytes)` for each posting: blocks filled to the
    same limit and written at the same points, with the same maximum weight."""
    limit = block._blocklimit
    for start in range(0, len(docs), limit):
        if len(block._ids) >= limit:
            block._write_block()
        end = start + limit
        block._ids.extend(docs[start:end])
        block._weights.extend(weights[start:end])
        block._values.extend(values[start:end])
        block._maxweight = max(block._maxweight, max(weights[start:end]))


def finish_segment(writer):
    """Close and assemble a segment written through `posting_writer`; return it.

    Reproduces the last steps of `SegmentWriter._finalize_segment` (whose pool we bypassed)."""
    writer._close_segment()
    writer._assemble_segment()
    return writer.get_segment()


def commit_segments(ix, segments: list) -> None:
    """Make `segments`, written by separate writers, the index's segments.

    Reproduces MpWriter's commit: a TOC listing its sub-writers' segments, none merged."""
    writer = ix.writer()
    writer._close_segment()  # the writer's own segment is empty
    writer._commit_toc(segments)
    writer._finish()
