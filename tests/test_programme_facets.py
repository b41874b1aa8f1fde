"""The facets of the comparable-data blocks on a real index: conditionality, benefits, targeting,
impact evaluation, evaluated outcome and scale, with disjunctive counts; leaving multi-country
projects out of the search, the map and the gap matrix."""

from __future__ import annotations

import pytest

from kb import charts, choropleth
from kb.engine import open_store
from kb.search import BadRequest, SearchRequest, run_search

NEW_FACETS = ("conditionality", "benefits", "targeting", "impact_evaluation", "outcome", "geographic_scale")


def counts(result, facets=NEW_FACETS) -> dict:
    return {f: {v["value"]: v["count"] for v in result.facets[f]["values"]} for f in facets}


def search(store, *args) -> tuple:
    result = run_search(store, SearchRequest.from_args(list(args)))
    return result, sorted(h["slug"] for h in result.hits)


@pytest.fixture
def store(programmes):
    return open_store(programmes)


def test_counts_of_the_new_facets_over_the_whole_collection(store):
    result, _ = search(store)
    assert result.total == 6
    assert counts(result) == {
        "conditionality": {"conditional": 3, "unconditional": 1},
        "benefits": {"cash": 4, "services": 1},
        "targeting": {"geographic": 3, "means-test": 2, "proxy-means-test": 1},
        "impact_evaluation": {"yes": 3},
        "outcome": {"school-enrolment": 2, "child-health": 1, "child-labour": 1, "health-services": 1, "poverty": 1},
        "geographic_scale": {"national": 4, "multi-country": 1},
    }


def test_filters_combine_and_each_facet_counts_without_its_own_filter(store):
    result, slugs = search(store, ("targeting", "means-test"), ("conditionality", "unconditional"))
    assert slugs == ["chn-dibao"]
    assert counts(result, ("conditionality", "targeting", "benefits")) == {
        "conditionality": {"conditional": 1, "unconditional": 1},  # of the means-tested practices
        "targeting": {"means-test": 1},  # of the unconditional ones
        "benefits": {"cash": 1},
    }


def test_has_an_impact_evaluation_means_an_rct_or_quasi_experimental_evaluation(store):
    _, slugs = search(store, ("impact_evaluation", "yes"))
    assert slugs == ["bra-bolsa-familia", "mex-prospera", "per-juntos"]  # not PATH: no coded evaluation
    _, slugs = search(store, ("outcome", "school-enrolment"), ("outcome", "poverty"))
    assert slugs == ["bra-bolsa-familia", "chn-dibao", "mex-prospera"]


def test_multi_country_projects_can_be_left_out_of_search_map_and_gap_matrix(store):
    without = SearchRequest.from_args([("exclude", "geographic_scale:multi-country")])
    result, slugs = search(store, ("exclude", "geographic_scale:multi-country"))
    assert slugs == ["bra-bolsa-familia", "chn-dibao", "jam-path", "mex-prospera", "per-juntos"]
    assert counts(result, ("country", "geographic_scale")) == {
        "country": {"BRA": 1, "CHN": 1, "JAM": 1, "MEX": 1, "PER": 1}, "geographic_scale": {"national": 4}}
    assert without.url() == "/search?exclude=geographic_scale%3Amulti-country"
    assert without.toggle_exclusion("geographic_scale", "multi-country") == "/search"

    def map_counts(request):
        return {c["alpha3"]: c["count"] for c in choropleth.country_map(store, request)["countries"] if c["count"]}

    assert map_counts(SearchRequest()) == {"BRA": 2, "CHN": 2, "JAM": 1, "MEX": 1, "PER": 1}
    assert map_counts(without) == {"BRA": 1, "CHN": 1, "JAM": 1, "MEX": 1, "PER": 1}

    def gap_cells(request):
        matrix = charts.gap_matrix(store, request)
        return {(row["code"], cell["type"]): cell["count"] for row in matrix["rows"] for cell in row["cells"]
                if cell["count"]}

    assert gap_cells(SearchRequest())[("CHN", "south-south-cooperation")] == 1
    assert gap_cells(without) == {("BRA", "cash-transfers"): 1, ("CHN", "cash-transfers"): 1,
                                  ("JAM", "cash-transfers"): 1, ("MEX", "cash-transfers"): 1,
                                  ("MEX", "education"): 1, ("MEX", "health"): 1, ("PER", "cash-transfers"): 1}


@pytest.mark.parametrize("args, message", [
    ([("exclude", "multi-country")],
     "exclude: expected facet:value such as 'geographic_scale:multi-country', found 'multi-country'"),
    ([("exclude", "scale:national")],
     "exclude: expected facet:value such as 'geographic_scale:multi-country', found 'scale:national'"),
    ([("exclude", "geographic_scale:multicountry")],
     "exclude: geographic_scale: 'multicountry' is not a known value; did you mean 'multi-country'?"),
    ([("conditionality", "conditionnal")], "conditionality: 'conditionnal' is not a known value; did you mean "
                                           "'conditional'?"),
    ([("impact_evaluation", "no")], "impact_evaluation: 'no' is not a known value"),
])
def test_bad_new_parameters_are_named(args, message):
    with pytest.raises(BadRequest) as err:
        SearchRequest.from_args(args)
    assert str(err.value) == message


def test_the_map_page_offers_to_leave_out_multi_country_projects(programme_client):
    page = programme_client.get("/map").get_data(as_text=True)
    assert ('<a href="/map?exclude=geographic_scale%3Amulti-country" id="multi-country-toggle">'
            "Leave out multi-country cooperation projects</a>") in page
    page = programme_client.get("/gaps?exclude=geographic_scale:multi-country").get_data(as_text=True)
    assert '<a href="/gaps" id="multi-country-toggle">Include multi-country cooperation projects</a>' in page
    api = programme_client.get("/api/search?impact_evaluation=yes&exclude=geographic_scale:multi-country").get_json()
    assert (api["total"], api["facets"]["impact_evaluation"]["values"]) == (
        3, [{"value": "yes", "label": "Has an impact evaluation", "count": 3, "selected": True}])
