"""Snapshots: one open generation of the index, with what searches need precomputed.

The twin of `whoosh.searching.Searcher`. A snapshot is opened once per generation and shared
by every request of a process. Facet values and start years become bitsets once, so filters
and disjunctive facet counts cost a few big-int operations per request; records and texts are
read from uncompressed columns through memory maps; query matches and term postings are
remembered. Callers ask it questions (`count_by`, `docs_by_year`, `doc_for_slug`, ...) and
never combine its bitsets themselves.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections import OrderedDict
from pathlib import Path

from kb.engine import query as queries
from kb.engine.bitsets import from_bits, intersection, to_bits, union
from kb.engine.highlight import snippet
from kb.engine.lastgood import read_last_good
from kb.engine.postings import PostingsCache
from kb.engine.scoring import BM25, score_parts
from kb.engine.spelling import Speller
from kb.engine.whoosh_internals import MappedStorage
from kb.fields import FACETS

MATCH_CACHE = 512  # query texts whose matches each snapshot remembers


class Snapshot:
    """One open generation of the index: its documents' facets, years, records and postings."""

    def __init__(self, gen_dir: Path, generation: str):
        self.generation = generation
        self.path = gen_dir
        self.opened = time.time()
        self._ix = MappedStorage(str(gen_dir)).open_index()
        self.schema = self._ix.schema  # Index.schema re-reads the TOC from disk on every access
        self._searcher = self._ix.searcher()  # a fresh searcher per generation, never refresh()
        self._lock = threading.Lock()
        self._matches: OrderedDict[tuple, tuple] = OrderedDict()
        reader = self._searcher.reader()
        self.size = reader.doc_count_all()
        self.all_bits = to_bits(reader.all_doc_ids(), self.size)
        self.count = self.all_bits.bit_count()
        self.facet_bits = {f.name: self._value_bits(reader, f.name) for f in FACETS}
        years, titles, slug_column, reviewed, self._records, self._bodies, self._texts, self._versions = (
            reader.column_reader(name) if self.size else []  # an index of no practices has no columns
            for name in ("year_start", "title_sort", "slug", "last_reviewed", "record", "body", "text", "versions"))
        self._slug_to_doc = {slug_column[d]: d for d in reader.all_doc_ids()}
        self._reviewed = [(reviewed[d], slug_column[d]) for d in range(self.size)]
        self.year = [years[d] for d in range(self.size)]
        self.title_key = [titles[d] for d in range(self.size)]
        self.year_bits = self._year_bits()
        self._parsers = {expand: queries.make_parser(self.schema, expand) for expand in (True, False)}
        self.postings = PostingsCache(self._searcher, self.schema, self.size, self.facet_bits)
        self._bm25 = BM25(self._searcher, self.size)
        self._speller = Speller(gen_dir)
        self.sizes: dict[str, int] | None = None  # of its files, re-checked while it is served
        self.last_good = len(read_last_good(gen_dir))  # practices served from a last good version

    def _value_bits(self, reader, name: str) -> dict[str, int]:
        out = {}
        for raw in reader.lexicon(name):
            value = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            out[value] = to_bits(reader.postings(name, raw).all_ids(), self.size) & self.all_bits
        return out

    def _year_bits(self) -> dict[int, int]:
        by_year: dict[int, list[int]] = {}
        for d in from_bits(self.all_bits):
            by_year.setdefault(self.year[d], []).append(d)
        return {year: to_bits(docs, self.size) for year, docs in by_year.items()}

    def close(self) -> None:
        """Release the searcher's files."""
        self._searcher.close()

    def segment_count(self) -> int:
        """How many segments the generation has (1 after a rebuild, more after updates)."""
        return len(self._searcher.subsearchers or [self._searcher])

    # ---- facets, years and slugs ----------------------------------------------------------------

    def with_values(self, facet: str, values) -> int:
        """The documents with any of `values` in `facet` (OR within a facet)."""
        found = self.facet_bits[facet]
        return union(found.get(v, 0) for v in values)

    def count_by(self, facet: str, bits: int) -> dict[str, int]:
        """How many documents of `bits` have each value of `facet` (values of no document left out)."""
        return {value: (bits & value_bits).bit_count() for value, value_bits in self.facet_bits[facet].items()}

    def count_with(self, bits: int, **values: str) -> int:
        """How many documents of `bits` have every one of the given facet values."""
        return intersection((self.facet_bits[f].get(v, 0) for f, v in values.items()), bits).bit_count()

    def in_years(self, low: int | None, high: int | None) -> int:
        """The documents whose start year is within [low, high] (either end open)."""
        if low is None and high is None:
            return self.all_bits
        low, high = low or 0, high or 9999
        return union(bits for year, bits in self.year_bits.items() if low <= year <= high)

    def docs_by_year(self, bits: int) -> dict[int, int]:
        """How many documents of `bits` started in each year (years of none left out)."""
        counts = {year: (bits & year_bits).bit_count() for year, year_bits in self.year_bits.items()}
        return {year: n for year, n in counts.items() if n}

    def doc_for_slug(self, slug: str) -> int | None:
        """The document number of a practice's slug, or None."""
        return self._slug_to_doc.get(slug)

    # ---- ordering -------------------------------------------------------------------------------

    def sorted_docs(self, bits: int, sort: str) -> list[int]:
        """Documents of a bitset ordered by title, or by start year (ties by title)."""
        docs = from_bits(bits)
        if sort == "title":
            return sorted(docs, key=lambda d: self.title_key[d])
        if sort == "year":
            return sorted(docs, key=lambda d: (self.year[d], self.title_key[d]))
        return sorted(docs, key=lambda d: (-self.year[d], self.title_key[d]))

    def latest(self, bits: int, limit: int) -> list[int]:
        """The `limit` documents of a bitset reviewed last, newest first (ties by slug, descending)."""
        return heapq.nlargest(limit, from_bits(bits), key=self._reviewed.__getitem__)

    def ranked(self, parsed, bits: int, limit: int | None) -> list[tuple[int, float]]:
        """Documents of `bits` in relevance order for a parsed query, with scores, up to `limit`.

        Scored by the words typed only, not the names and synonyms that widened the match:
        documents found only through those come last."""
        parts = score_parts(parsed) if parsed is not None else []
        with self._lock:
            scored = [(self._bm25.impacts(self.postings, p.field, p.text) if p.field is not None else None,
                       queries.bits_of(self, p.node) if p.field is None else 0,
                       intersection((queries.bits_of(self, g) for g in p.gates), self.all_bits) if p.gates else None)
                      for p in parts]
        return self._bm25.ranked(scored, bits, limit)

    # ---- queries --------------------------------------------------------------------------------

    def parse(self, text: str, expand: bool = True):
        """Parse a free-text query; None for a query with no searchable terms. Never raises."""
        return queries.parse(self._parsers[expand], self.schema, text, expand)

    def text_match(self, text: str, expand: bool = True) -> tuple:
        """(parsed query or None, bitset of matches) for query text; remembered per generation,
        because toggling facets and paging repeat the same text."""
        if not text:
            return None, self.all_bits
        key = (text, expand)
        found = self._matches.get(key)
        if found is None:
            parsed = self.parse(text, expand)
            # only operators or punctuation: nothing can match
            found = (parsed, self.match_bits(parsed) if parsed is not None else 0)
            with self._lock:
                self._matches[key] = found
                while len(self._matches) > MATCH_CACHE:
                    self._matches.popitem(last=False)
        return found

    def match_bits(self, parsed) -> int:
        """The documents matching a parsed query, as a bitset: AND, OR and NOT evaluated on the
        bitsets of the query's terms, each read from the index once per generation."""
        with self._lock:
            return queries.bits_of(self, parsed) & self.all_bits

    def reader(self):
        """Whoosh's reader of the generation (for a range's terms)."""
        return self._searcher.reader()

    def docs_for_query(self, q) -> list[int]:
        """Whoosh's own matching, for the query types the bitsets do not evaluate (ranges)."""
        return list(self._searcher.docs_for_query(q))

    def stored_text(self, docnum: int) -> tuple[dict, dict[str, str]]:
        """A document's record and the plain text of its body in each language it is written or
        translated in (callers hold the lock)."""
        record = json.loads(self._records[docnum])
        return record, {record["language"]: self._texts[docnum].decode(), **self._translated_texts(docnum)}

    def _translated_texts(self, docnum: int) -> dict[str, str]:
        raw = self._versions[docnum]
        return {lang: version["text"] for lang, version in json.loads(raw).items()} if raw else {}

    def suggest(self, text: str) -> str | None:
        """A spelling correction of a free-text query, or None."""
        return self._speller.suggest(text)

    # ---- documents ------------------------------------------------------------------------------

    def record(self, docnum: int) -> dict:
        """The stored practice record of a document, with its Markdown body."""
        with self._lock:
            record, body = self._records[docnum], self._bodies[docnum]
        return {**json.loads(record), "body": body.decode()}

    def body_in(self, docnum: int, lang: str) -> str | None:
        """The Markdown of a document's body translated into `lang`, or None if it has none."""
        with self._lock:
            raw = self._versions[docnum]
        return (json.loads(raw).get(lang) or {}).get("body") if raw else None

    def hit(self, docnum: int, terms: dict[str, frozenset[str]],
            prefer: str | None = None) -> tuple[dict, str | None, str | None]:
        """A document's record without its body, its snippet for a query's `snippet_terms` and the
        language of the version of its text that matched (the snippet's), None without query text.

        Of a body with translations, the version with the most query terms matched gives the
        snippet; ties go to `prefer` (the reader's language), then to the original."""
        with self._lock:
            raw, text, versions = self._records[docnum], self._texts[docnum], self._versions[docnum]
        record = json.loads(raw)  # parsed outside the lock, which other threads' reads wait on
        lang = record["language"]
        if not any(terms.values()):
            return record, None, None
        texts = {lang: text}
        if versions:
            texts.update((other, v["text"]) for other, v in json.loads(versions).items())
            lang = self._matched_language(docnum, list(texts), terms, prefer) or lang
        found = texts[lang]
        return record, snippet(found.decode() if isinstance(found, bytes) else found, lang, terms.get(lang)), lang

    def _matched_language(self, docnum: int, langs: list[str], terms: dict, prefer: str | None) -> str | None:
        """Of a document's language versions, the one whose fields hold the most query terms."""
        counts = {}
        with self._lock:
            for lang in langs:
                fields = (f"title_{lang}", f"body_{lang}")
                counts[lang] = sum(1 for term in terms.get(lang, ())
                                   if any(self.postings.term(name, term).bits >> docnum & 1 for name in fields))
        if not max(counts.values()):
            return None
        return max(langs, key=lambda lang: (counts[lang], lang == prefer, lang == langs[0]))

    def more_like(self, docnum: int, record: dict, limit: int) -> list[int]:
        """Documents similar to one document, by the key terms of its body."""
        field_name = f"body_{record['language']}"
        with self._lock:
            text = f"{record['title']} {record['summary']} {self._texts[docnum].decode()}"
            results = self._searcher.more_like(docnum, field_name, text=text, top=limit, numterms=12)
            return [hit.docnum for hit in results]
