"""Faceted search: a request's parameters in, plain data out, shared by the site, the API and the CLI.

Facet semantics follow Algolia and Elasticsearch: values of one facet combine with OR, facets
with AND, and each facet's counts apply every other filter but not its own (disjunctive).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import reduce
from urllib.parse import urlencode

from kb.engine import expansions, snippet_terms
from kb.errors import KbError, QueryTooBroad
from kb.fields import FACETS, FACETS_BY_NAME, facet_label
from kb.vocab import LANGUAGES

MAX_QUERY_CHARS = 500
MAX_PAGE = 1000
MAX_DECADES = 20  # 1900s to 2090s
LONG_WORD_RE = re.compile(r"\w{41}")  # no word to correct is this long
SORTS = {"relevance": "Relevance", "-year": "Newest first", "year": "Oldest first", "title": "Title A-Z"}
SCALAR_PARAMS = ("q", "year_from", "year_to", "sort", "page", "per_page", "exact", "lang")
COMPARABLE = (("design", {}), ("indicators", []), ("evaluations", []))  # in every hit, for comparisons
EXCLUDE = "exclude"  # repeatable 'facet:value': leave out the practices having that value
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")


class BadRequest(KbError):
    """A search parameter that cannot be honoured; the message names the parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param


@dataclass(frozen=True)
class SearchRequest:
    """A validated search: query text, selected facet values, year range, sort and page."""

    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    exact: bool = False  # search only the words typed, without names, labels and synonyms
    lang: str | None = None  # language of labels in the API (pages use the interface language)
    excludes: tuple[tuple[str, str], ...] = ()  # (facet, value) pairs whose practices are left out

    @classmethod
    def build(cls, q: str = "", filters: Mapping[str, list[str]] | None = None, **kwargs) -> SearchRequest:
        """A request from Python values, validated like one from a URL."""
        args = [("q", q)] + [(k, v) for k, values in (filters or {}).items() for v in values]
        args += [(k, str(v)) for k, v in kwargs.items() if v is not None]
        return cls.from_args(args)

    @classmethod
    def from_args(cls, args) -> SearchRequest:
        """Parse URL arguments (a list of pairs or a MultiDict); raise `BadRequest` on bad input."""
        pairs = list(args.items(multi=True)) if hasattr(args, "items") and hasattr(args, "getlist") else list(args)
        filters: dict[str, list[str]] = {}
        scalars: dict[str, str] = {}
        excludes: list[tuple[str, str]] = []
        given: dict[str, int] = {}
        for key, value in pairs:
            if key in FACETS_BY_NAME:
                _check_value(key, value)
                given[key] = given.get(key, 0) + 1
                if given[key] > max_values(key):
                    raise BadRequest(key, f"given more than {max_values(key)} times")
                if value not in filters.setdefault(key, []):
                    filters[key].append(value)
            elif key == EXCLUDE:
                pair = _exclusion(value)
                excludes += [] if pair in excludes else [pair]
            elif key in SCALAR_PARAMS:
                if key in scalars and scalars[key] != value:
                    raise BadRequest(key, "given more than once")
                scalars[key] = value
            else:
                raise BadRequest(key, f"unknown parameter; expected one of {', '.join(known_params())}")
        raw_q = scalars.get("q", "")
        if len(raw_q) > MAX_QUERY_CHARS:  # counted as sent, as the API documents it (maxLength)
            raise BadRequest("q", f"is {len(raw_q)} characters; at most {MAX_QUERY_CHARS} allowed")
        q = CONTROL_RE.sub(" ", raw_q).strip()
        sort = scalars.get("sort") or "relevance"
        if sort not in SORTS:
            raise BadRequest("sort", f"{sort!r} is unknown; expected one of {', '.join(SORTS)}")
        year_from, year_to = _int(scalars, "year_from", 1900, 2100), _int(scalars, "year_to", 1900, 2100)
        exact = scalars.get("exact", "0")
        if exact not in ("0", "1"):
            raise BadRequest("exact", f"expected 1 or 0, found {exact[:20]!r}")
        lang = scalars.get("lang") or None
        if lang is not None and lang not in LANGUAGES:
            raise BadRequest("lang", f"{lang[:20]!r} is unknown; expected one of {', '.join(LANGUAGES)}")
        return cls(q=q, filters={k: tuple(v) for k, v in filters.items()}, year_from=year_from,
                   year_to=year_to, sort=sort, page=_int(scalars, "page", 1, MAX_PAGE) or 1,
                   per_page=_int(scalars, "per_page", 1, 100) or 10, exact=exact == "1", lang=lang,
                   excludes=tuple(excludes))

    def params(self, **changes) -> list[tuple[str, str]]:
        """The request as URL parameters, with `changes` applied (None removes a key)."""
        data = {"q": self.q, "year_from": self.year_from, "year_to": self.year_to,
                "sort": None if self.sort == "relevance" else self.sort,
                "page": None if self.page == 1 else self.page,
                "per_page": None if self.per_page == 10 else self.per_page,
                "exact": 1 if self.exact else None}
        filters = {k: list(v) for k, v in self.filters.items()}
        excludes = list(self.excludes)
        for key, value in changes.items():
            if key in FACETS_BY_NAME:
                filters[key] = list(value)
            elif key == EXCLUDE:
                excludes = list(value)
            else:
                data[key] = value
        pairs = [(k, str(v)) for k, v in data.items() if k == "q" and v or k != "q" and v is not None]
        return pairs + [(f.name, v) for f in FACETS for v in filters.get(f.name, [])] + [
            (EXCLUDE, f"{f}:{v}") for f, v in excludes]

    def url(self, base: str = "/search", **changes) -> str:
        """A URL for this request with `changes` applied."""
        query = urlencode(self.params(**changes))
        return f"{base}?{query}" if query else base

    def toggle(self, facet: str, value: str, base: str = "/search") -> str:
        """URL that adds or removes one facet value (and returns to page 1)."""
        current = list(self.filters.get(facet, ()))
        new = [v for v in current if v != value] if value in current else current + [value]
        return self.url(base, **{facet: new, "page": None})

    def toggle_exclusion(self, facet: str, value: str, base: str = "/search") -> str:
        """URL that leaves out, or lets back in, the practices having one facet value."""
        pair = (facet, value)
        excludes = [e for e in self.excludes if e != pair] if pair in self.excludes else [*self.excludes, pair]
        return self.url(base, **{EXCLUDE: excludes, "page": None})
def max_values(facet: str) -> int:
    """How many values of a facet one request may give: each of its values once (20 decades)."""
    spec = FACETS_BY_NAME[facet]
    return len(spec.vocabulary()) if spec.vocabulary is not None else MAX_DECADES


def known_params() -> list[str]:
    """Every parameter the search accepts."""
    return [*SCALAR_PARAMS, *FACETS_BY_NAME, EXCLUDE]


def _exclusion(raw: str) -> tuple[str, str]:
    facet, sep, value = raw.partition(":")
    if not sep or facet not in FACETS_BY_NAME:
        raise BadRequest(EXCLUDE, f"expected facet:value such as 'geographic_scale:multi-country', found {raw[:40]!r}")
    try:
        _check_value(facet, value)
    except BadRequest as exc:
        raise BadRequest(EXCLUDE, str(exc)) from None
    return facet, value


def _check_value(facet: str, value: str) -> None:
    spec = FACETS_BY_NAME[facet]
    if spec.vocabulary is None:
        if not re.fullmatch(r"(19|20)\d0s", value):
            raise BadRequest(facet, f"{value!r} is not a decade like '2000s'")
    elif value not in spec.vocabulary():
        guess = spec.vocabulary().suggest(value)
        hint = f"; did you mean {guess!r}?" if guess else ""
        raise BadRequest(facet, f"{value!r} is not a known value{hint}")


def _int(scalars: dict, key: str, low: int, high: int) -> int | None:
    raw = scalars.get(key)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"\d{1,6}", raw.strip()):
        raise BadRequest(key, f"expected a whole number, found {raw[:20]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BadRequest(key, f"expected a number from {low} to {high}, found {value}")
    return value


@dataclass
class SearchResult:
    """Everything a results page or the API shows, as plain data."""

    request: SearchRequest
    total: int
    hits: list[dict]
    facets: dict[str, dict]
    suggestion: str | None
    expansion: list[dict] = dataclasses.field(default_factory=list)

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.request.per_page))

    def check_page(self) -> None:
        """Raise `BadRequest` for a page beyond the last (the API answers it empty, as documented)."""
        if self.request.page > self.pages:
            raise BadRequest("page", f"{self.request.page} is beyond the last page ({self.pages})")

    def links(self, base: str) -> dict:
        """self/next/prev URLs for `base` ('/api/search' or '/search')."""
        r = self.request
        return {"self": r.url(base),
                "next": r.url(base, page=r.page + 1) if r.page < self.pages else None,
                "prev": r.url(base, page=r.page - 1 if r.page > 2 else None) if r.page > 1 else None}

    def to_dict(self, base: str = "/api/search") -> dict:
        """The API response."""
        r = self.request
        return {"query": r.q, "total": self.total, "page": r.page, "per_page": r.per_page,
                "pages": self.pages, "hits": self.hits, "facets": self.facets,
                "suggestion": self.suggestion, "expansion": self.expansion, "links": self.links(base)}


@dataclass
class Selection:
    """The documents a request selects, before paging: the basis of results, exports and charts."""

    snap: object
    parsed: object
    text_bits: int  # matches of the query text alone
    base: int  # text and year range
    selected: dict[str, int]  # per filtered facet, the OR of its chosen values
    final: int  # everything applied

    def ordered(self, request: SearchRequest, limit: int | None) -> list[tuple[int, float | None]]:
        """The selected documents in the request's order, with scores when ranked by relevance."""
        if request.sort == "relevance" and self.parsed is not None:
            return self.snap.ranked(self.parsed, self.final, limit)
        return [(d, None) for d in self.snap.sorted_docs(self.final, request.sort)[:limit]]

    def counts(self, facet: str) -> dict[str, int]:
        """Disjunctive counts of one facet's values: every filter applies but the facet's own."""
        return self.snap.count_by(facet, self.bits_without(facet))

    def bits_without(self, facet: str) -> int:
        """The selection with every filter but `facet`'s: the basis of disjunctive counts."""
        return reduce(lambda a, b: a & b, (b for n, b in self.selected.items() if n != facet), self.base)


def select(store, request: SearchRequest) -> Selection:
    """Apply a request's query text, years and filters to the live index."""
    snap = store.snapshot()
    try:
        parsed, text_bits = snap.text_match(request.q, expand=not request.exact)
    except QueryTooBroad as exc:
        raise BadRequest("q", str(exc)) from None
    base = text_bits & snap.in_years(request.year_from, request.year_to)
    for facet, value in request.excludes:  # every count, the facet's own included, leaves them out
        base &= ~snap.with_values(facet, [value])
    selected = {name: snap.with_values(name, values) for name, values in request.filters.items() if values}
    final = reduce(lambda a, b: a & b, selected.values(), base)
    return Selection(snap, parsed, text_bits, base, selected, final)


def run_search(store, request: SearchRequest, lang: str = "en") -> SearchResult:
    """Run one search against the live index; facet labels in `lang`."""
    sel = select(store, request)
    snap, total = sel.snap, sel.final.bit_count()
    start = (request.page - 1) * request.per_page
    page = sel.ordered(request, start + request.per_page)[start:]
    terms = snippet_terms(sel.parsed)
    hits = [_hit(snap, terms, docnum, score, lang) for docnum, score in page]
    facets = {f.name: _facet(f, sel, request, lang) for f in FACETS}
    suggestion = _suggestion(snap, request) if request.q and total == 0 else None
    expansion = [{"facet": f, "value": v, "label": facet_label(FACETS_BY_NAME[f], v, lang)}
                 for f, v in expansions(sel.parsed)]
    return SearchResult(request, total, hits, facets, suggestion, expansion)


def all_records(store, request: SearchRequest) -> Iterator[dict]:
    """Every practice a request selects (not just one page), in its order, for exports. The search
    runs now, not at the first record: a bad query or a missing index fails before an export's
    first byte, as a proper error answer; only reading the records is left to the stream."""
    sel = select(store, request)
    docs = sel.ordered(request, None)
    return (sel.snap.record(docnum) for docnum, _ in docs)


def latest_records(store, request: SearchRequest, limit: int) -> list[dict]:
    """The `limit` practices a request selects that were reviewed last, newest first (feeds)."""
    sel = select(store, request)
    return [sel.snap.record(docnum) for docnum in sel.snap.latest(sel.final, limit)]


def _facet(facet, sel: Selection, request: SearchRequest, lang: str) -> dict:
    chosen = request.filters.get(facet.name, ())
    counts = sel.counts(facet.name)
    values = []
    for value, count in counts.items():
        if count or value in chosen:
            values.append({"value": value, "label": facet_label(facet, value, lang), "count": count,
                           "selected": value in chosen})
    values += [{"value": v, "label": facet_label(facet, v, lang), "count": 0, "selected": True}
               for v in chosen if v not in counts]
    if facet.name == "decade":
        values.sort(key=lambda v: v["value"], reverse=True)
    else:
        values.sort(key=lambda v: (-v["count"], v["label"]))
    return {"label": facet.label, "mode": "disjunctive", "values": values}


def _hit(snap, terms: dict, docnum: int, score: float | None, lang: str) -> dict:
    record, snippet, matched = snap.hit(docnum, terms, lang)
    keys = ("title", "countries", "policy_types", "year_start", "year_end", "status", "language", "summary")
    hit = {"slug": record["slug"], "url": f"/practices/{record['slug']}", **{k: record[k] for k in keys},
           **{k: record.get(k, default) for k, default in COMPARABLE},
           "snippet": snippet, "score": round(score, 4) if score is not None else None,
           "translated": None, "matched_language": matched}
    translation = record.get("translations", {}).get(lang) if lang != record["language"] else None
    if translation:  # title and summary in the reader's language; `translated` says how
        hit.update(title=translation["title"], summary=translation["summary"], translated=translation["kind"])
    return hit


def _suggestion(snap, request: SearchRequest) -> str | None:
    if LONG_WORD_RE.search(request.q):  # Whoosh's corrector took a second for one 500-letter word
        return None
    suggestion = snap.suggest(request.q)
    if not suggestion or suggestion == request.q:
        return None
    return suggestion if snap.text_match(suggestion)[1] else None
