"""The segment writer of a rebuild's parts: Whoosh's files, written a block at a time.

The twin of `whoosh.codec` and of SegmentWriter.add_document / _finalize_segment. Whoosh's
add_document and posting pool cost several Python calls and a tuple per posting; here postings
are gathered by term as documents are added (in order, so each term's postings stay sorted),
then written a block at a time through Whoosh's own field and block writers. The result is the
index Whoosh's own writer makes (tests/engine/test_whoosh_equivalence.py reads both back).
"""

from __future__ import annotations

from array import array
from collections import Counter

from whoosh.codec.whoosh3 import W3Codec

from kb.engine.analysis import terms_in
from kb.engine.schema import FREQUENCIES, FastText, frequency_value
from kb.engine.whoosh_internals import add_postings, finish_segment, posting_writer

Terms = dict[str, dict]  # field -> term -> postings: [doc, frequency, ...] or (docs, weights, values)


def add_document(writer, terms: Terms, fields: dict, words: set[str]) -> None:
    """Add a document's stored values, lengths and columns to `writer`, its postings to
    `terms`, the words of its text fields to `words`."""
    schema, perdoc, docnum = writer.schema, writer.perdocwriter, writer.docnum
    perdoc.start_doc(docnum)
    for name in sorted(fields):
        value = fields[name]
        if value is None:
            continue
        field, length, postings = schema[name], 0, terms.setdefault(name, {})
        if isinstance(field, FastText):  # the bulk of the postings: a list of docnum, n, docnum, n...
            found_terms = terms_in(field.lang, value, words)
            length = len(found_terms)
            get = postings.get
            for term, n in Counter(found_terms).items():
                found = get(term)
                if found is None:
                    postings[term] = [docnum, n]
                else:
                    found.append(docnum)
                    found.append(n)
        elif field.indexed:
            for text, freq, weight, vbytes in field.index(value):
                found = postings.get(text)
                if found is None:
                    found = postings[text] = (array("I"), array("f"), [])
                found[0].append(docnum)
                found[1].append(weight)
                if vbytes:
                    found[2].append(vbytes)
                length += freq
        perdoc.add_field(name, field, value if field.stored else None, length if field.scorable else 0)
        if field.column_type:
            perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
    perdoc.finish_doc()
    writer.docnum += 1


def write_segment(writer, terms: Terms):
    """Write the gathered postings and close the segment; return it."""
    writer.perdocwriter.close()
    out = writer.fieldwriter
    for name in sorted(terms):
        field = writer.schema[name]
        postings = terms[name]
        if not postings:
            continue
        out.start_field(name, field)
        # terms in the order of their UTF-8 bytes, which is the order of their code points
        for term in sorted(postings):
            found = postings[term]
            if isinstance(field, FastText):
                docs, freqs, boost = array("I", found[::2]), found[1::2], field.format.field_boost
                weights = array("f", freqs if boost == 1 else [n * boost for n in freqs])
                values = list(map(FREQUENCIES.__getitem__ if max(freqs) < 256 else frequency_value, freqs))
                out.start_term(term.encode())
            else:
                docs, weights, values = found
                out.start_term(term)
            add_postings(posting_writer(out), docs, weights, values)
            out.finish_term()
        out.finish_field()
    return finish_segment(writer)


def codec() -> W3Codec:
    """Whoosh's codec, set for speed of writing and reading: no compression of posting blocks,
    and no per-block length statistics, which only Whoosh's own top-k skipping uses (we rank
    with our own scores) and which cost a read of the document's length for every posting.

    Writers also pass compound=False: Whoosh copies each file of a compound segment onto the
    heap when a searcher opens it, so server memory would grow with the index."""
    codec = W3Codec(compression=0)
    codec.length_stats = False
    return codec
