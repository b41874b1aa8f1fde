"""Researcher tools: citations, exports, the feed, comparison, map, timeline and gap matrix,
each checked against the practices they come from."""

from __future__ import annotations

import csv
import io
import json
import re
from xml.etree import ElementTree as ET

import pytest
from conftest import BASE, COLLECTION

from kb.export import CSV_COLUMNS

ATOM = "{http://www.w3.org/2005/Atom}"


def parse_bibtex(text: str) -> list[dict]:
    entries = []
    for kind, key, body in re.findall(r"@(\w+)\{([^,]+),\n(.*?)\n\}", text, re.S):
        fields = dict(re.findall(r"^\s+(\w+) = \{(.*)\},?$", body, re.M))
        entries.append({"kind": kind, "key": key, **{k: v.strip("{}") for k, v in fields.items()}})
    return entries


def parse_ris(text: str) -> list[dict]:
    records = []
    for chunk in text.split("ER  - "):
        tags = dict(re.findall(r"^([A-Z][A-Z0-9])  - (.*?)\r?$", chunk, re.M))
        if tags:
            records.append(tags)
    return records


def test_bibtex_cites_the_entry_and_each_source(client):
    response = client.get("/practices/jam-path/cite.bib")
    assert response.headers["Content-Disposition"] == 'attachment; filename="jam-path.bib"'
    entries = parse_bibtex(response.get_data(as_text=True))
    assert entries[0].pop("note").startswith("Case study in English, last reviewed 2026-11-01. Accessed ")
    assert entries == [
        {"kind": "misc", "key": "kb-jam-path", "title": "PATH",
         "author": "CELAC–China Poverty Reduction Knowledge Base",
         "howpublished": "\\url{http://localhost/practices/jam-path",
         "publisher": "CELAC–China Poverty Reduction Knowledge Base", "year": "2026",
         "url": "http://localhost/practices/jam-path", "langid": "en"},
        {"kind": "misc", "key": "jam-path-source-1", "title": "A study", "author": "World Bank",
         "howpublished": "\\url{https://example.org/a", "publisher": "World Bank", "year": "2020",
         "url": "https://example.org/a", "note": "Source 1 of PATH"},
    ]


def test_ris_and_csl_json_carry_the_same_citation(client):
    ris = parse_ris(client.get("/practices/jam-path/cite.ris").get_data(as_text=True))
    assert [(r["TY"], r["TI"], r["UR"], r.get("PY")) for r in ris] == [
        ("ELEC", "PATH", "http://localhost/practices/jam-path", "2026"),
        ("GEN", "A study", "https://example.org/a", "2020")]
    items = client.get("/practices/jam-path/cite.json").get_json(force=True)
    assert [(i["id"], i["type"], i["title"], i["URL"], i["issued"]) for i in items] == [
        ("kb-jam-path", "webpage", "PATH", "http://localhost/practices/jam-path", {"date-parts": [[2026, 11, 1]]}),
        ("jam-path-source-1", "document", "A study", "https://example.org/a", {"date-parts": [[2020]]})]
    assert client.get("/practices/jam-path/cite.doc").status_code == 404


def test_the_practice_page_offers_a_citation_box_and_json_ld(client):
    html = client.get("/practices/jam-path").get_data(as_text=True)
    assert '<textarea id="bibtex" readonly rows="8" lang="en">@misc{kb-jam-path,' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert (data["@type"], data["headline"], data["url"], data["spatialCoverage"]) == (
        "Article", "PATH", "http://localhost/practices/jam-path",
        [{"@type": "Country", "name": "Jamaica", "identifier": "JAM"}])


def test_csv_export_holds_the_whole_filtered_result_set(client):
    response = client.get("/api/export.csv?country=BRA&country=MEX&per_page=1&sort=title")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    expected = sorted(s for s, f in COLLECTION.items() if {"BRA", "MEX"} & set(f["countries"]))
    assert sorted(r["slug"] for r in rows) == expected
    row = next(r for r in rows if r["slug"] == "chn-celac-forum")
    assert (row["countries"], row["primary_policy_type"], row["source_urls"], row["year_end"]) == (
        "CHN; BRA; MEX; JAM", "south-south-cooperation", BASE["sources"][0]["url"], "")
    assert set(row["regions"].split("; ")) == {"caribbean", "eastern-asia", "south-america", "central-america"}


def test_json_export_matches_the_search_total(client):
    data = json.loads(client.get("/api/export.json?q=families").get_data(as_text=True))
    total = client.get("/api/search?q=families").get_json()["total"]
    assert data["query"] == {"q": "families"} and len(data["practices"]) == total
    assert set(data["practices"][0]) >= {"slug", "title", "countries", "sources", "url", "last_reviewed"}


def test_atom_feed_follows_the_rules(client):
    root = ET.fromstring(client.get("/feed.atom?country=CHN").get_data())
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}").text
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/feed.atom?country=CHN"
    entries = root.findall(f"{ATOM}entry")
    assert sorted(e.find(f"{ATOM}id").text for e in entries) == [
        "http://localhost/practices/chn-celac-forum", "http://localhost/practices/chn-dibao",
        "http://localhost/practices/chn-relocation"]
    for entry in entries:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.find(f"{ATOM}updated").text)
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == entry.find(f"{ATOM}id").text
        assert entry.find(f"{ATOM}title").text and entry.find(f"{ATOM}summary").text


@pytest.mark.parametrize("slugs", [["jam-path", "mex-prospera"],
                                   ["jam-path", "mex-prospera", "chn-dibao", "chl-chile-solidario"]])
def test_comparison_of_two_and_four_practices(client, slugs):
    html = client.get("/compare?" + "&".join(f"slug={s}" for s in slugs)).get_data(as_text=True)
    headers = re.findall(r'<th scope="col"><a href="/practices/([^"]+)">', html)
    assert headers == slugs
    rows = {label.strip(): kind for kind, label in re.findall(r'<tr class="(differs|same)"><th scope="row">([^<]+)', html)}
    assert rows == {"Countries": "differs", "Policy types": "differs", "Years": "differs", "Status": "differs",
                    "Target groups and keywords": "same", "Scale": "same",
                    "Evidence": "differs", "Results": "differs", "Sources": "same"}


@pytest.mark.parametrize("query, message", [
    ("slug=jam-path", "slug: choose 2 to 4 practices to compare, got 1"),
    ("slug=a&slug=b&slug=c&slug=d&slug=e", "slug: choose 2 to 4 practices to compare, got 5"),
    ("slugs=jam-path", "slugs: unknown parameter; expected slug (repeat it for each practice)"),
])
def test_comparison_needs_two_to_four_practices(client, query, message):
    response = client.get(f"/compare?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_map_counts_are_the_country_facet_counts(client):
    html = client.get("/map?q=families&country=BRA").get_data(as_text=True)
    shown = dict(re.findall(r'data-country="([A-Z]{3})" aria-label="[^:]+: (\d+) practices?"', html))
    facets = client.get("/api/search?q=families&country=BRA").get_json()["facets"]["country"]["values"]
    expected = {v["value"]: str(v["count"]) for v in facets}
    assert len(shown) == 34
    assert {k: v for k, v in shown.items() if v != "0"} == {k: v for k, v in expected.items() if v != "0"}
    assert 'href="/search?q=families&amp;country=BRA&amp;country=MEX" class="country' in html


def test_timeline_bars_add_up_to_the_search_total(client):
    html = client.get("/timeline?policy_type=cash-transfers").get_data(as_text=True)
    counts = [int(n) for n in re.findall(r'<tr><td><a href="[^"]+">\d{4}</a></td><td class="num">(\d+)</td></tr>', html)]
    assert sum(counts) == client.get("/api/search?policy_type=cash-transfers").get_json()["total"]


def test_gap_matrix_cells_link_to_their_search(client):
    html = client.get("/gaps").get_data(as_text=True)
    cell = re.search(r'<a href="(/search\?country=BRA&amp;policy_type=targeting-registries)"[^>]*>(\d+)</a>', html)
    assert cell.group(2) == "2"
    total = client.get(cell.group(1).replace("&amp;", "&").replace("/search", "/api/search")).get_json()["total"]
    assert total == 2
