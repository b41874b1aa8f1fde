"""Queries: query text parsed into Whoosh's query objects, then evaluated as bitsets.

The twin of `whoosh.qparser` and of the matching half of `whoosh.searching`. Words without
syntax are built directly (the query Whoosh's parser would make, which a test checks); text
with quotes, groups, ranges or operators goes through Whoosh's parser, and any text it cannot
parse is searched as its plain words: parsing never fails. AND, OR and NOT are big-int
operations on the bitsets of the query's terms; a quoted phrase is checked on stored text.
"""

from __future__ import annotations

import re
from itertools import islice

from whoosh import qparser, query

from kb.engine.analysis import LANGS, terms_in, vocabulary_terms
from kb.engine.bitsets import from_bits, intersection, to_bits, union
from kb.engine.schema import searchable_texts, text_fields
from kb.errors import QueryTooBroad

MAX_QUERY_TERMS = 64
MAX_EXPANDED_TERMS = 1000  # words a range may cover

# What makes Whoosh's parser do more than split words on spaces (with our plugins): quotes,
# groups, ranges and operators. Most searches have none of it and are built directly.
SYNTAX = re.compile(r"""["'()\[\]{}<>*:^~]|(?<!\S)(?:AND|OR|NOT|ANDNOT|ANDMAYBE)(?!\S)""")
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})  # left out when text is searched as words


def make_parser(schema, expand: bool):
    """Whoosh's parser over the text fields (and 'meta' with `expand`), words joined by AND."""
    parser = qparser.MultifieldParser(text_fields(expand), schema, group=qparser.AndGroup)
    parser.remove_plugin_class(qparser.FieldsPlugin)  # 'title:x' is text, not a field
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.remove_plugin_class(qparser.BoostPlugin)
    return parser


def parse(parser, schema, text: str, expand: bool):
    """Parse query text; None for a query with no searchable terms. Never raises: text that
    Whoosh's parser rejects ('NOT NOT x') or that grows too big is searched as its words."""
    try:
        parsed = parser.parse(text) if SYNTAX.search(text) else plain_query(schema, text, expand)
    except Exception:  # Whoosh's parser raises IndexError, AssertionError... on odd input
        parsed = None
    if parsed is None or parsed is query.NullQuery or too_big(parsed):
        words = " ".join([w for w in re.findall(r"\w+", text) if w not in OPERATORS][:MAX_QUERY_TERMS])
        parsed = plain_query(schema, words, expand) if words else None
    if parsed is None or parsed is query.NullQuery:
        return None
    return parsed


def plain_query(schema, text: str, expand: bool):
    """The query Whoosh's parser makes of words without syntax, built without its machinery:
    each word in any text field (AND across words), as `make_parser` would (a test compares
    them), in the form normalize() gives it without paying for normalize() (nested ORs
    flattened, repeats dropped, groups of one replaced by their member)."""
    words = []
    for token in text.split():
        alternatives = []
        for name in text_fields(expand):
            field = schema[name]
            terms = list(field.process_text(token, mode="query"))
            if len(terms) == 1:
                alternatives.append(query.Term(name, terms[0]))
            elif terms and field.multitoken_query == "or":
                alternatives += [query.Term(name, t) for t in terms]
            elif terms:
                alternatives.append(query.And([query.Term(name, t) for t in terms]).normalize())
        if alternatives:
            words.append(_group(query.Or, alternatives))
    if not words:
        return None
    return _group(query.And, [part for word in words for part in (word if isinstance(word, query.And) else [word])])


def _group(kind, members: list):
    """`kind` (And or Or) of distinct members, or the one member."""
    members = list(dict.fromkeys(members))
    return members[0] if len(members) == 1 else kind(members)


def too_big(parsed) -> bool:
    """Whether a parsed query has more leaves than a search should evaluate."""
    return sum(1 for _ in parsed.leaves()) > MAX_QUERY_TERMS * len(text_fields())


# ---- evaluation ---------------------------------------------------------------------------------

def bits_of(snap, q) -> int:
    """The documents matching a parsed query (before deletions), as a bitset; the snapshot's
    lock is held, and each term's postings are read once per generation."""
    if isinstance(q, query.Term):
        return snap.postings.term(q.fieldname, q.text).bits
    if isinstance(q, query.And):
        return intersection((bits_of(snap, c) for c in q.subqueries), snap.all_bits)
    if isinstance(q, query.Or) and not q.minmatch:
        return union(bits_of(snap, c) for c in q.subqueries)
    if isinstance(q, query.AndNot):
        return bits_of(snap, q.a) & ~bits_of(snap, q.b)
    if isinstance(q, query.Not):
        return snap.all_bits & ~bits_of(snap, q.query)
    if isinstance(q, query.Phrase):
        return _phrase_bits(snap, q)
    if isinstance(q, query.AndMaybe):  # 'a ANDMAYBE b': b only adds to the score
        return bits_of(snap, q.a)
    if isinstance(q, query.Require):
        return bits_of(snap, q.a) & bits_of(snap, q.b)
    if isinstance(q, query.Every):
        return snap.all_bits
    if isinstance(q, query.MultiTerm):  # '[a TO c]': the documents of the terms it covers
        return union(snap.postings.term(f, t).bits for f, t in _expanded_terms(snap, q))
    return to_bits(snap.docs_for_query(q), snap.size)  # anything else: Whoosh's own matchers


def _expanded_terms(snap, q) -> list[tuple[str, object]]:
    """The terms a range covers in the index; `QueryTooBroad` beyond MAX_EXPANDED_TERMS, which
    would make one search read most of the index."""
    terms = list(islice(q.expanded_terms(snap.reader()), MAX_EXPANDED_TERMS + 1))
    if len(terms) > MAX_EXPANDED_TERMS:
        raise QueryTooBroad(f"{q} covers more than {MAX_EXPANDED_TERMS} words; narrow the range")
    return terms


def _phrase_bits(snap, q) -> int:
    """Documents with a quoted phrase's words next to each other (stop words aside): those
    with all its words, each checked against its stored text. Chinese, where the words of a
    phrase overlap, needs all its words only."""
    bits = intersection((snap.postings.term(q.fieldname, w).bits for w in q.words), snap.all_bits)
    lang = q.fieldname.partition("_")[2]
    if len(q.words) < 2 or lang not in ("en", "es", "pt") or not bits:
        return bits
    found = []
    for docnum in from_bits(bits):
        record, texts = snap.stored_text(docnum)
        text = searchable_texts(record, texts).get(q.fieldname, "")
        if has_sequence(terms_in(lang, text), list(q.words)):
            found.append(docnum)
    return to_bits(found, snap.size)


def has_sequence(terms: list[str], words: list[str]) -> bool:
    """Whether `words` occur one after the other in `terms`."""
    first, n = words[0], len(words)
    return any(terms[i:i + n] == words for i, term in enumerate(terms) if term == first)


# ---- what a parsed query shows ------------------------------------------------------------------

def snippet_terms(parsed) -> dict[str, frozenset[str]]:
    """Per language, the terms of a parsed query that snippets mark in that language's bodies."""
    found: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for field_name, text in (parsed.iter_all_terms() if parsed is not None else ()):
        kind, _, lang = field_name.partition("_")
        if kind in ("title", "body") and lang in found:
            found[lang].add(text.decode() if isinstance(text, bytes) else text)
    return {lang: frozenset(terms) for lang, terms in found.items()}


def expansions(parsed) -> list[tuple[str, str]]:
    """The countries and policy types a parsed query reached through their names in any language:
    those whose names cover the most query words (one stray word shared with a label is not shown)."""
    if parsed is None:
        return []
    table = vocabulary_terms()
    hits: dict[tuple[str, str], int] = {}
    for field_name, text in set(parsed.iter_all_terms()):
        if field_name == "meta":
            for entry in table.get(text.decode() if isinstance(text, bytes) else text, ()):
                hits[entry] = hits.get(entry, 0) + 1
    best = max(hits.values(), default=0)
    return sorted(entry for entry, n in hits.items() if n == best)
