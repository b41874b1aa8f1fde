"""The JSON API through the Flask test client: whole response shapes and every error case."""

from __future__ import annotations

import pytest
from conftest import BASE, write_practice

from kb.app import create_app
from kb.engine import update_index


def test_search_response_has_the_documented_shape(client):
    data = client.get("/api/search?q=relocation&per_page=5").get_json()
    assert list(data) == ["query", "total", "page", "per_page", "pages", "hits", "facets", "suggestion",
                          "expansion", "links"]
    assert (data["query"], data["total"], data["page"], data["per_page"], data["pages"]) == (
        "relocation", 1, 1, 5, 1)
    assert data["links"] == {"self": "/api/search?q=relocation&per_page=5", "next": None, "prev": None}
    assert list(data["facets"]) == ["country", "region", "policy_type", "status", "language", "evidence_level",
                                    "impact_evaluation", "outcome", "geographic_scale", "conditionality", "benefits",
                                    "targeting", "decade"]
    assert data["facets"]["country"] == {"label": "Country", "mode": "disjunctive", "values": [
        {"value": "CHN", "label": "China", "count": 1, "selected": False}]}
    assert [h["slug"] for h in data["hits"]] == ["chn-relocation"]


def test_practice_has_every_front_matter_field_and_body_html(client):
    data = client.get("/api/practices/bra-cadastro-unico").get_json()
    assert {k: data[k] for k in ("slug", "title", "countries", "related", "regions", "last_reviewed",
                                 "sources", "edit_url")} == {
        "slug": "bra-cadastro-unico", "title": "Cadastro Único", "countries": ["BRA"],
        "related": ["bra-bolsa-familia"], "regions": ["south-america"], "last_reviewed": "2026-11-01",
        "sources": BASE["sources"],
        "edit_url": "https://github.com/celac-china-kb/knowledge-base/edit/main/practices/brazil/bra-cadastro-unico.md",
    }
    assert data["body_html"] == ("<h2>Context</h2>\n<p>Families in poverty receive integrated support.</p>\n"
                                 "<h2>Results</h2>\n<p>School attendance rose.</p>")
    assert data["related_practices"][0] == {"slug": "bra-bolsa-familia", "title": "Bolsa Família",
                                            "countries": ["BRA"], "year_start": 2003,
                                            "url": "/practices/bra-bolsa-familia", "declared": True}


def test_facets_endpoint_lists_vocabularies_in_four_languages(client):
    data = client.get("/api/facets").get_json()
    assert len(data["country"]["values"]) == 34 and len(data["policy_type"]["values"]) == 18
    assert data["country"]["values"][0] == {"value": "CHN", "labels": {"en": "China", "es": "China",
                                                                       "pt": "China", "zh": "中国"}}


def test_healthz_reports_the_index(client):
    data = client.get("/healthz").get_json()
    assert (data["status"], data["practices"], data["last_good_versions"]) == ("ok", 9, 0)
    assert data["generation"].startswith("gen-") and 0 <= data["age_seconds"] < 60


def test_openapi_describes_every_parameter(client):
    doc = client.get("/api/openapi.json").get_json()
    params = [p["name"] for p in doc["paths"]["/api/search"]["get"]["parameters"]]
    assert params == ["q", "year_from", "year_to", "sort", "page", "per_page", "exact", "lang", "country",
                      "region", "policy_type", "status", "language", "evidence_level", "impact_evaluation",
                      "outcome", "geographic_scale", "conditionality", "benefits", "targeting", "decade", "exclude"]
    assert set(doc["paths"]) == {"/api/search", "/api/practices/{slug}", "/api/facets", "/healthz",
                                 "/api/export.csv", "/api/export.json", "/feed.atom", "/practices/{slug}/cite.{format}",
                                 "/api/export/indicators.csv", "/api/export/evidence-map.csv",
                                 "/api/export.bib", "/api/export.biblatex.bib", "/api/export.ris",
                                 "/api/export.csl.json"}
    assert "slug, url, title, local_name, countries" in doc["paths"]["/api/export.csv"]["get"]["description"]


@pytest.mark.parametrize("url, status, parameter, message", [
    ("/api/search?contry=BRA", 400, "contry", "contry: unknown parameter; expected one of q, year_from, year_to, "
     "sort, page, per_page, exact, lang, country, region, policy_type, status, language, evidence_level, "
     "impact_evaluation, outcome, geographic_scale, conditionality, benefits, targeting, decade, exclude"),
    ("/api/search?page=abc", 400, "page", "page: expected a whole number, found 'abc'"),
    ("/api/search?year_from=1800", 400, "year_from", "year_from: expected a number from 1900 to 2100, found 1800"),
    ("/api/search?page=1001", 400, "page", "page: expected a number from 1 to 1000, found 1001"),
    ("/api/search?" + "status=pilot&" * 7, 400, "status", "status: given more than 6 times"),
    ("/api/search?country=XXX", 400, "country", "country: 'XXX' is not a known value"),
    ("/api/practices/no-such-practice", 404, None, "slug: no practice 'no-such-practice'"),
    ("/api/nothing-here", 404, None, "No page at this address."),
    ("/api/search?q=" + "x" * 17000, 400, "query string", "query string: is longer than 16384 bytes"),
])
def test_errors_are_json_naming_the_parameter(client, url, status, parameter, message):
    response = client.get(url)
    expected = {"status": status, "message": message, **({"parameter": parameter} if parameter else {})}
    assert (response.status_code, response.get_json()) == (status, {"error": expected})


@pytest.mark.parametrize("q", ['"unbalanced', "AND", "*", "x" * 500, "a\x01b\x7f", "OR NOT AND", "(((", "title:x"])
def test_unreadable_queries_are_answered_not_500(client, q):
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200 and "total" in response.get_json()


def test_no_index_yet_is_a_503_telling_the_admin_what_to_run(settings):
    client = create_app(settings, TESTING=True).test_client()
    response = client.get("/api/search")
    assert (response.status_code, response.get_json()) == (503, {"error": {
        "status": 503, "message": "The search index has not been built yet. An administrator must run `kb index`."}})
    assert client.get("/").status_code == 503


def test_contributor_html_is_rendered_inert(built):
    body = ("## Context\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
            "[click](javascript:alert(3)) <a href=\"https://ok.org\" onclick=\"alert(4)\">ok</a>\n\n"
            "&lt;script&gt;alert(5)&lt;/script&gt; searchable\n")
    write_practice(built.practices_dir, "xss-test", body=body, title="XSS <b>test</b>")
    update_index(built)
    client = create_app(built, TESTING=True).test_client()
    html = client.get("/api/practices/xss-test").get_json()["body_html"]
    assert html == ('<h2>Context</h2>\n\n\n<p></p>\n<p><a rel="noopener noreferrer nofollow">'
                    'click</a> <a href="https://ok.org" rel="noopener noreferrer nofollow">ok</a></p>\n'
                    '<p>&lt;script&gt;alert(5)&lt;/script&gt; searchable</p>')
    page = client.get("/practices/xss-test").get_data(as_text=True)
    assert "<script>alert" not in page and "onerror" not in page and "javascript:" not in page
    assert "XSS &lt;b&gt;test&lt;/b&gt;" in page
    results = client.get("/search?q=searchable").get_data(as_text=True)
    assert "&lt;script&gt;alert(5)" in results and "<script>alert(5)" not in results


def test_security_headers_are_set_on_every_response(client):
    for url in ("/", "/api/search", "/nope"):
        headers = client.get(url).headers
        assert headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
        assert (headers["X-Content-Type-Options"], headers["Referrer-Policy"]) == (
            "nosniff", "strict-origin-when-cross-origin")
