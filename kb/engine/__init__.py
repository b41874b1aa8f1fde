"""The search engine: Whoosh's index format, read and written by our own faster code.

One module per stage, named after its twin in Whoosh (see docs/engine.md):

    analysis          analysers, accent folding, the word pattern, vocabulary names
    schema            the index schema and the document of a practice
    writing           `kb index`: incremental updates and rebuilds
    multiproc         a rebuild's worker processes, one segment each
    codec             the segment writer of a rebuild's parts
    generations       the index folder: lock, CURRENT, atomic switch, cleanup
    manifest          each generation's file sizes and checksums: damage is found, never mapped
    lastgood          practices whose file broke, still served as they last were valid
    store             one snapshot per process, reopened when the index changes
    snapshot          an open generation: facets, years, records, the questions searches ask
    bitsets           sets of documents as Python ints
    postings          each term's postings, read once per generation
    query             parsing, bitset evaluation, phrases, expansions
    scoring           BM25F, as Whoosh computes it
    highlight         snippets with the query's words marked
    spelling          "did you mean"
    whoosh_internals  every use of a private Whoosh name, with the version check

The rest of the application imports from here.
"""

from kb.engine.generations import live_generation, writer_lock
from kb.engine.query import expansions, snippet_terms
from kb.engine.snapshot import Snapshot
from kb.engine.store import Store, open_store
from kb.engine.writing import UpdateReport, update_index

__all__ = ["Snapshot", "Store", "UpdateReport", "expansions", "live_generation", "open_store", "snippet_terms",
           "update_index", "writer_lock"]
