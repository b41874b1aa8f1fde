"""Faceted search semantics, checked against counts computed independently from the practice data."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import BASE, COLLECTION

from kb import vocab
from kb.search import BadRequest, SearchRequest, run_search

FACET_SOURCE = {"country": "countries", "policy_type": "policy_types", "status": "status",
                "language": "language", "evidence_level": "evidence_level"}


def values_of(fields: dict, facet: str) -> list[str]:
    """A practice's values for a facet, straight from the COLLECTION declaration."""
    data = {**BASE, **fields}
    if facet == "region":
        return sorted({vocab.region_of(c) for c in data["countries"]})
    if facet == "decade":
        return [f"{data['year_start'] // 10 * 10}s"]
    value = data[FACET_SOURCE[facet]]
    return value if isinstance(value, list) else [] if value in (None, ...) else [value]


def brute_force(filters: dict[str, list[str]]) -> tuple[set[str], dict[str, Counter]]:
    """Matching slugs and disjunctive counts computed the slow, obvious way."""
    def matches(fields, skip=None):
        return all(set(values_of(fields, f)) & set(v) for f, v in filters.items() if f != skip and v)

    hits = {slug for slug, fields in COLLECTION.items() if matches(fields)}
    counts = {}
    for facet in ("country", "region", "policy_type", "status", "language", "evidence_level", "decade"):
        counts[facet] = Counter(v for fields in COLLECTION.values() if matches(fields, skip=facet)
                                for v in values_of(fields, facet))
    return hits, counts


@pytest.mark.parametrize("filters", [
    {},
    {"country": ["BRA"]},
    {"country": ["BRA", "MEX"]},
    {"country": ["MEX"], "policy_type": ["cash-transfers"]},
    {"policy_type": ["cash-transfers", "relocation"], "region": ["eastern-asia"]},
    {"status": ["replaced"], "decade": ["1990s", "2000s"]},
    {"country": ["JAM"], "policy_type": ["relocation"]},
    {"evidence_level": ["monitoring"], "language": ["en"]},
])
def test_totals_hits_and_disjunctive_counts_match_a_brute_force_count(store, filters):
    result = run_search(store, SearchRequest.build("", filters, per_page=100))
    hits, counts = brute_force(filters)
    assert result.total == len(hits)
    assert {h["slug"] for h in result.hits} == hits
    for facet, expected in counts.items():
        shown = {v["value"]: v["count"] for v in result.facets[facet]["values"]}
        selected = set(filters.get(facet, []))
        assert shown == {**{v: 0 for v in selected}, **expected}, facet
        assert {v["value"] for v in result.facets[facet]["values"] if v["selected"]} == selected


def test_choosing_brazil_still_shows_how_many_mexico_has(store):
    result = run_search(store, SearchRequest.build("", {"country": ["BRA"]}))
    country = {v["value"]: (v["count"], v["selected"]) for v in result.facets["country"]["values"]}
    assert country["MEX"] == (3, False) and country["BRA"] == (3, True)


def test_a_facet_is_plain_data_with_labels(store):
    result = run_search(store, SearchRequest.build("", {"status": ["pilot"]}))
    assert result.facets["status"] == {"label": "Status", "mode": "disjunctive", "values": [
        {"value": "ongoing", "label": "Ongoing", "count": 6, "selected": False},
        {"value": "replaced", "label": "Replaced", "count": 2, "selected": False},
        {"value": "completed", "label": "Completed", "count": 1, "selected": False},
        {"value": "pilot", "label": "Pilot", "count": 0, "selected": True},
    ]}


@pytest.mark.parametrize("sort, first_three", [
    ("title", ["bra-bolsa-familia", "bra-cadastro-unico", "chn-celac-forum"]),
    ("year", ["mex-prospera", "bra-cadastro-unico", "jam-path"]),
    ("-year", ["chn-celac-forum", "mex-pension-bienestar", "chn-relocation"]),
])
def test_sorting(store, sort, first_three):
    hits = run_search(store, SearchRequest.build("", {}, sort=sort)).hits
    assert [h["slug"] for h in hits[:3]] == first_three


def test_pagination_covers_every_hit_once(store):
    pages = [run_search(store, SearchRequest.build("", {}, per_page=4, page=n, sort="title")) for n in (1, 2, 3)]
    slugs = [h["slug"] for p in pages for h in p.hits]
    assert sorted(slugs) == sorted(COLLECTION) and pages[0].pages == 3
    assert pages[1].links("/api/search") == {"self": "/api/search?sort=title&page=2&per_page=4",
                                            "next": "/api/search?sort=title&page=3&per_page=4",
                                            "prev": "/api/search?sort=title&per_page=4"}


def test_year_range_filters_on_start_year(store):
    result = run_search(store, SearchRequest.build("", {}, year_from=2001, year_to=2003, per_page=50))
    assert {h["slug"] for h in result.hits} == {"bra-bolsa-familia", "bra-cadastro-unico", "jam-path",
                                                "chl-chile-solidario"}


def test_hits_have_the_api_shape_with_a_highlighted_snippet(store):
    hit = run_search(store, SearchRequest.build("relocation", {})).hits[0]
    assert hit == {
        "slug": "chn-relocation", "url": "/practices/chn-relocation", "title": "Poverty Alleviation Relocation",
        "countries": ["CHN"], "policy_types": ["relocation", "housing"], "year_start": 2016, "year_end": 2020,
        "status": "completed", "language": "en", "summary": BASE["summary"], "snippet": None,
        "design": {"target_group": None, "benefits": [], "conditionality": None, "targeting": []},
        "indicators": [], "evaluations": [],
        "score": hit["score"], "translated": None, "matched_language": "en",
    }
    assert hit["score"] > 0
    hit = run_search(store, SearchRequest.build("attendance", {"country": ["JAM"]})).hits[0]
    assert hit["snippet"] == "… Families in poverty receive integrated support. Results. School <mark>attendance</mark> rose."


def test_a_misspelt_query_gets_a_suggestion_that_finds_something(store):
    result = run_search(store, SearchRequest.build("atendance", {}))
    assert (result.total, result.suggestion) == (0, "attendance")


@pytest.mark.parametrize("q, total", [
    ('"unbalanced', 0), ("AND", 0), ("OR OR", 0), ("*", 0), ("title:", 0), ("(", 0), ("a" * 500, 0), ("NOT", 0),
    ("\x00\x07 x", 0), ("((((((((((x", 0), ("🙂", 0), ("~2", 0), ('"a" "b"', 0), ('""', 0),
    ("pension^", 2),  # a stray operator is left out: the word is still searched
    ('"cash transfer"', 6), ('"低保"', 5),  # the phrase, or the policy type whose names contain it
])
def test_any_query_text_is_answered(store, q, total):
    result = run_search(store, SearchRequest.build(q, {}, per_page=100))
    assert (result.total, len(result.hits)) == (total, total)
    assert sum(v["count"] for v in result.facets["language"]["values"]) == total  # one language each


@pytest.mark.parametrize("args, message", [
    ([("contry", "BRA")], "contry: unknown parameter; expected one of q, year_from, year_to, sort, page, per_page, exact, lang, "
                          "country, region, policy_type, status, language, evidence_level, impact_evaluation, outcome, "
                              "geographic_scale, conditionality, benefits, targeting, decade, exclude"),
    ([("country", "BR")], "country: 'BR' is not a known value; did you mean 'BRA'?"),
    ([("page", "0")], "page: expected a number from 1 to 1000, found 0"),
    ([("page", "x")], "page: expected a whole number, found 'x'"),
    ([("per_page", "101")], "per_page: expected a number from 1 to 100, found 101"),
    ([("sort", "date")], "sort: 'date' is unknown; expected one of relevance, -year, year, title"),
    ([("q", "x" * 501)], "q: is 501 characters; at most 500 allowed"),
    ([("decade", "1995")], "decade: '1995' is not a decade like '2000s'"),
])
def test_bad_parameters_are_named(args, message):
    with pytest.raises(BadRequest) as err:
        SearchRequest.from_args(args)
    assert str(err.value) == message


def test_a_page_beyond_the_last_is_empty_and_a_reader_is_told(store):
    result = run_search(store, SearchRequest.build("", {}, page=5))
    assert (result.total, result.pages, result.hits) == (9, 1, [])
    with pytest.raises(BadRequest, match=r"^page: 5 is beyond the last page \(1\)$"):
        result.check_page()


def test_a_reversed_year_range_selects_nothing(store):
    result = run_search(store, SearchRequest.build("", {}, year_from=2020, year_to=2010))
    assert (result.total, result.hits, result.request.year_from, result.request.year_to) == (0, [], 2020, 2010)
