"""The schema and documents: which fields a practice becomes in the index, and their values.

The twin of `whoosh.fields`. Bump SCHEMA_VERSION when a field or an analyser changes: the next
`kb index` then rebuilds.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.system import pack_uint

from kb.engine.analysis import LANGS, terms_in, text_analyzer, vocabulary_analyzer
from kb.fields import FACETS
from kb.practice import Practice
from kb.render import plain_text

SCHEMA_VERSION = "16"  # bump when the schema or an analyser changes: the next `kb index` rebuilds


class FastText(TEXT):
    """A TEXT field (word frequencies, no positions) indexed by `terms_in` rather than by
    passing every word through Whoosh's filter chain: the same terms and weights as Whoosh's
    own path, at a fraction of a rebuild's cost.

    No positions: they were most of the index, and of the time to read it, and only quoted
    phrases need them; those are checked against the stored text instead (kb.engine.query).
    """

    def __init__(self, lang: str, **kwargs):
        super().__init__(analyzer=text_analyzer(lang), phrase=False, **kwargs)
        self.lang = lang

    def index(self, value, **kwargs):
        """(term bytes, frequency, weight, encoded frequency) of each distinct term of `value`."""
        boost = self.format.field_boost
        return [(term.encode(), n, n * boost, frequency_value(n))
                for term, n in Counter(terms_in(self.lang, value)).items()]

    def process_text(self, qstring, mode="", tokenize=True, removestops=True, **kwargs):
        """The terms of query text, as the analyser gives them (remembered per word)."""
        if tokenize and removestops and self.lang != "zh":
            return iter(terms_in(self.lang, qstring))
        return super().process_text(qstring, mode=mode, tokenize=tokenize, removestops=removestops, **kwargs)


FREQUENCIES = [pack_uint(n) for n in range(256)]


def frequency_value(n: int) -> bytes:
    """A posting's value in Whoosh's Frequency format (the common ones encoded once)."""
    return FREQUENCIES[n] if n < 256 else pack_uint(n)


def build_schema() -> Schema:
    """The index schema: text per language, facet keywords from `kb.fields.FACETS`, the record."""
    # Nothing is a Whoosh stored field, which is a pickled and compressed dict per document:
    # what is read back is in uncompressed columns, the record (JSON) apart from the body
    # (a result list needs no body), so a hit costs no unpickling and no zlib
    fields = {
        "path": ID(unique=True, sortable=True),
        "slug": ID(unique=True, sortable=True),
        "sha": ID(sortable=True),
        "related": ID(sortable=True),
        "record": COLUMN(),
        "body": COLUMN(),
        "text": COLUMN(),  # the body as plain text, for snippets
        # never filled: a query's words are analysed for it, and its terms match the practices of
        # the countries and policy types whose names contain them (see kb.engine.postings)
        "meta": TEXT(analyzer=vocabulary_analyzer(), phrase=False, multitoken_query="or"),
        "title_sort": ID(sortable=True),
        "last_reviewed": ID(sortable=True),
        "year_start": NUMERIC(sortable=True),
    }
    for lang in LANGS:
        fields[f"title_{lang}"] = FastText(lang, field_boost=3.0)
        fields[f"body_{lang}"] = FastText(lang)
    for facet in FACETS:
        fields[facet.name] = KEYWORD(commas=True, lowercase=False, scorable=False)
    return Schema(**fields)


def text_fields(expand: bool = True) -> list[str]:
    """The fields a free-text query searches; with `expand`, also the vocabulary names ('meta')."""
    fields = [f"{kind}_{lang}" for lang in LANGS for kind in ("title", "body")]
    return [*fields, "meta"] if expand else fields


# ---- documents -------------------------------------------------------------------------------

def document(practice: Practice, relpath: str, sha: str) -> dict:
    """The Whoosh document of a practice."""
    text = plain_text(practice.body)
    record = {**practice.metadata(), "path": relpath}
    doc = {
        "path": relpath, "slug": practice.slug, "sha": sha, "related": ",".join(practice.related),
        "record": json.dumps(record, ensure_ascii=False).encode(), "body": practice.body.encode(), "text": text.encode(),
        "title_sort": sort_key(practice.title), "year_start": practice.year_start,
        "last_reviewed": practice.last_reviewed.isoformat(),
        **searchable_texts(record, text),
    }
    for facet in FACETS:
        value = getattr(practice, facet.source)
        values = value if isinstance(value, list) else [value] if value else []
        doc[facet.name] = ",".join(values)
    return doc


def searchable_texts(record: dict, text: str) -> dict[str, str]:
    """The title and body fields of a practice record with its body as plain text: all of it
    in its own language, and its translated title and summary in the others."""
    lang = record["language"]
    fields = {f"title_{lang}": " ".join(filter(None, [record["title"], record.get("local_name")])),
              f"body_{lang}": " ".join([record["summary"], " ".join(record.get("tags") or []), text])}
    for other, entry in (record.get("translations") or {}).items():  # found in the other languages too
        fields[f"title_{other}"] = entry["title"]
        fields[f"body_{other}"] = entry["summary"]
    return fields


def sort_key(title: str) -> str:
    """Case- and accent-insensitive sort key for titles."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


