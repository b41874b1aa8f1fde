"""The evidence gap map on a real index: cells counting evaluations and designs by policy type and
outcome, filtered like any search, linking to the practices, downloadable as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from kb import vocab
from kb.engine import open_store
from kb.evidence import evidence_map
from kb.search import SearchRequest


def filled(emap: dict) -> dict:
    return {(row["value"], cell["outcome"]): (cell["count"], cell["practices"],
                                             {d["code"]: d["count"] for d in cell["designs"]})
            for row in emap["rows"] for cell in row["cells"] if cell["count"]}


def test_cells_count_evaluations_and_designs_by_policy_type_and_outcome(programmes):
    emap = evidence_map(open_store(programmes), SearchRequest())
    assert filled(emap) == {
        ("cash-transfers", "poverty"): (1, 1, {"MO": 1}),
        ("cash-transfers", "school-enrolment"): (2, 2, {"RCT": 1, "QE": 1}),
        ("cash-transfers", "child-labour"): (1, 1, {"QE": 1}),
        ("cash-transfers", "child-health"): (1, 1, {"RCT": 1}),
        ("cash-transfers", "health-services"): (1, 1, {"QE": 1}),
        ("education", "school-enrolment"): (1, 1, {"RCT": 1}),
        ("education", "child-labour"): (1, 1, {"QE": 1}),
        ("education", "child-health"): (1, 1, {"RCT": 1}),
        ("health", "school-enrolment"): (1, 1, {"RCT": 1}),
        ("health", "child-labour"): (1, 1, {"QE": 1}),
        ("health", "child-health"): (1, 1, {"RCT": 1}),
    }
    assert [len(r["cells"]) for r in emap["rows"]] == [len(vocab.outcomes())] * len(vocab.policy_types())
    assert (emap["total"], [c["total"] for c in emap["columns"]][:5]) == (12, [0, 1, 0, 4, 0])
    cell = next(c for c in emap["rows"][0]["cells"] if c["outcome"] == "school-enrolment")
    assert cell["url"] == "/search?policy_type=cash-transfers&outcome=school-enrolment"


def test_the_map_is_filtered_like_any_search(programmes):
    request = SearchRequest.from_args([("country", "PER"), ("country", "CHN"), ("q", "")])
    emap = evidence_map(open_store(programmes), request)
    assert filled(emap) == {("cash-transfers", "poverty"): (1, 1, {"MO": 1}),
                            ("cash-transfers", "health-services"): (1, 1, {"QE": 1})}
    cell = next(c for c in emap["rows"][0]["cells"] if c["outcome"] == "poverty")
    assert cell["url"] == "/search?country=PER&country=CHN&policy_type=cash-transfers&outcome=poverty"
    assert emap["csv_url"] == "/api/export/evidence-map.csv?country=PER&country=CHN"


def test_the_page_links_each_cell_to_its_practices(programme_client):
    html = programme_client.get("/evidence?conditionality=conditional&lang=pt").get_data(as_text=True)
    cells = re.findall(r'<tr data-type="([a-z-]+)">.*?</tr>', html, re.S)
    assert len(cells) == len(vocab.policy_types())
    link = re.search(r'<td class="shade-\d" data-outcome="school-enrolment"><a href="([^"]+)" aria-label="([^"]+)">'
                     r'(\d+)<span class="designs">(.*?)</span>', html)
    assert link.groups() == (
        "/search?policy_type=cash-transfers&amp;outcome=school-enrolment&amp;conditionality=conditional",
        "Transferências de renda (condicionadas e não condicionadas) e renda mínima, Matrícula escolar: 2 avaliações",
        "2", "RCT 1 · QE 1")
    search = programme_client.get("/api/search?conditionality=conditional&policy_type=cash-transfers"
                                  "&outcome=school-enrolment").get_json()
    assert sorted(h["slug"] for h in search["hits"]) == ["bra-bolsa-familia", "mex-prospera"]
    assert '<a href="/evidence?conditionality=conditional" aria-current="page">Mapa de lacunas de evidências</a>' in html


@pytest.mark.parametrize("query, rows", [
    ("country=MEX", {("cash-transfers", "school-enrolment"): ["1", "1", "1", "0", "0", "0", "0", "0"],
                     ("cash-transfers", "child-labour"): ["1", "1", "0", "1", "0", "0", "0", "0"],
                     ("cash-transfers", "child-health"): ["1", "1", "1", "0", "0", "0", "0", "0"],
                     ("education", "school-enrolment"): ["1", "1", "1", "0", "0", "0", "0", "0"],
                     ("education", "child-labour"): ["1", "1", "0", "1", "0", "0", "0", "0"],
                     ("education", "child-health"): ["1", "1", "1", "0", "0", "0", "0", "0"],
                     ("health", "school-enrolment"): ["1", "1", "1", "0", "0", "0", "0", "0"],
                     ("health", "child-labour"): ["1", "1", "0", "1", "0", "0", "0", "0"],
                     ("health", "child-health"): ["1", "1", "1", "0", "0", "0", "0", "0"]}),
    ("impact_evaluation=yes&policy_type=cash-transfers",
     {("cash-transfers", "school-enrolment"): ["2", "2", "1", "1", "0", "0", "0", "0"],
      ("cash-transfers", "child-labour"): ["1", "1", "0", "1", "0", "0", "0", "0"],
      ("cash-transfers", "child-health"): ["1", "1", "1", "0", "0", "0", "0", "0"],
      ("cash-transfers", "health-services"): ["1", "1", "0", "1", "0", "0", "0", "0"],
      ("education", "school-enrolment"): ["1", "1", "1", "0", "0", "0", "0", "0"],
      ("education", "child-labour"): ["1", "1", "0", "1", "0", "0", "0", "0"],
      ("education", "child-health"): ["1", "1", "1", "0", "0", "0", "0", "0"],
      ("health", "school-enrolment"): ["1", "1", "1", "0", "0", "0", "0", "0"],
      ("health", "child-labour"): ["1", "1", "0", "1", "0", "0", "0", "0"],
      ("health", "child-health"): ["1", "1", "1", "0", "0", "0", "0", "0"]}),
])
def test_the_map_downloads_as_csv_with_every_cell(programme_client, query, rows):
    text = programme_client.get(f"/api/export/evidence-map.csv?{query}").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0] == ["policy_type", "outcome", "evaluations", "practices", "rct", "quasi_experimental",
                        "mixed_methods", "qualitative", "monitoring", "descriptive"]
    assert len(table) == 1 + len(vocab.policy_types()) * len(vocab.outcomes())
    assert {(r[0], r[1]): r[2:] for r in table[1:] if r[2] != "0"} == rows


@pytest.mark.parametrize("lang", ["es", "pt", "zh"])
def test_pages_with_comparable_data_show_no_english_interface_strings(programme_client, lang):
    from test_i18n import english_strings

    leftovers = {}
    for url in ("/practices/bra-bolsa-familia", "/compare?slug=bra-bolsa-familia&slug=mex-prospera&slug=chn-dibao",
                "/evidence", "/map?exclude=geographic_scale:multi-country", "/search?impact_evaluation=yes"):
        html = programme_client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}").get_data(as_text=True)
        found = [s for s in english_strings() if s in html]
        if found:
            leftovers[url] = found
    assert leftovers == {}
