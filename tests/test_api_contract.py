"""The API's contract checked by a client we did not write: Schemathesis generates requests from
/api/openapi.json and runs all its checks on the answers (status codes, content types, response
schemas, valid data accepted, invalid data refused, 405 with Allow for undeclared methods).
Seeded and bounded: the same cases on every run, in a few seconds."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from kb.app import create_app
from kb.config import Settings

# The contract is about content: Schemathesis' WSGI client does not undo a Content-Encoding
# (compression has tests of its own, against a real server)
IDENTITY = {"Accept-Encoding": "identity"}
# every check Schemathesis has, as `schemathesis run --checks all` runs them
CONFIG = {"checks": {"enabled": True}, "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                                                   "fuzzing": {"enabled": True}}}


@pytest.fixture
def api_schema(built):
    app = create_app(Settings(built.practices_dir, built.index_dir, "https://kb.example.org", ("localhost",)))
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_description(case):
    case.call_and_validate(headers=IDENTITY)


@pytest.mark.parametrize("path, slug, fmt", [
    ("/api/practices/{slug}", "jam-path", None),
    ("/practices/{slug}/cite.{format}", "jam-path", "bib"),
    ("/practices/{slug}/cite.{format}", "jam-path", "ris"),
    ("/practices/{slug}/cite.{format}", "jam-path", "json"),
])
def test_an_existing_practice_keeps_the_description_too(api_schema, path, slug, fmt):
    case = api_schema[path]["GET"].Case(path_parameters={"slug": slug, **({"format": fmt} if fmt else {})})
    response = case.call_and_validate(headers=IDENTITY)
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["TRACE", "POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/api/search", "/healthz", "/feed.atom", "/practices/jam-path/cite.bib"])
def test_an_undeclared_method_gets_405_in_json_with_allow(client, method, path):
    response = client.open(path, method=method)
    assert (response.status_code, response.headers["Allow"]) == (405, "GET, HEAD, OPTIONS")
    assert response.get_json() == {"error": {"status": 405, "message": "This method is not allowed here."}}


def test_a_page_405_is_html_with_allow(client):
    response = client.post("/search")
    assert (response.status_code, response.mimetype, response.headers["Allow"]) == (
        405, "text/html", "GET, HEAD, OPTIONS")


@pytest.mark.parametrize("path, status, message", [
    ("/feed.atom?year_to=1900&unknown=42", 400, "unknown: unknown parameter; expected one of q, year_from, "
     "year_to, sort, page, per_page, exact, lang, country, region, policy_type, status, language, "
     "evidence_level, impact_evaluation, outcome, geographic_scale, conditionality, benefits, targeting, "
     "decade, exclude"),
    ("/practices/nothing/cite.bib", 404, "slug: no practice 'nothing'"),
    ("/practices/jam-path/cite.doc", 404, "No page at this address."),
])
def test_the_downloads_for_programs_answer_errors_in_json(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    assert response.get_json()["error"]["message"] == message


def test_the_api_answers_a_page_beyond_the_last_empty_and_the_site_explains(client):
    data = client.get("/api/search?page=40").get_json()
    assert (data["total"], data["page"], data["pages"], data["hits"]) == (9, 40, 1, [])
    page = client.get("/search?page=40")
    assert page.status_code == 400
    assert "page: 40 is beyond the last page (1)" in page.get_data(as_text=True)
