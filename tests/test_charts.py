"""The pictures of a search as data and over HTTP: map classes and legend, panels, the timeline's bars and
axes, the gap matrix's countries with none, captions, and the SVG and CSV downloads of every chart."""

from __future__ import annotations

import csv
import datetime
import io
import re
import xml.etree.ElementTree as ET

import pytest
from conftest import write_practice

from kb import vocab
from kb.app import create_app
from kb.charts import gap_matrix, timeline, year_ticks
from kb.choropleth import EASTERN_CARIBBEAN, NONE_COLOUR, classes, country_map
from kb.engine import update_index
from kb.search import SearchRequest

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = ("map", "timeline", "gaps", "evidence")


def test_quantile_classes_keep_a_skewed_count_from_flattening_the_others():
    counts = [27, 9, 8, 7, 7, 7, 6, 6, 5, 4, 4, 3, 3, 3, 0, 0]
    assert classes(counts) == [
        {"low": 3, "high": 3, "colour": "#c6dbef", "label": "3", "countries": 3},
        {"low": 4, "high": 5, "colour": "#9ecae1", "label": "4–5", "countries": 3},
        {"low": 6, "high": 7, "colour": "#6baed6", "label": "6–7", "countries": 5},
        {"low": 8, "high": 8, "colour": "#3182bd", "label": "8", "countries": 1},
        {"low": 9, "high": 27, "colour": "#08519c", "label": "9–27", "countries": 2}]


@pytest.mark.parametrize(("counts", "labels"), [([], []), ([0, 0], []), ([4, 4, 0], ["4"]),
                                                 ([1, 2, 3, 3, 3, 0], ["1–2", "3"])])
def test_classes_never_repeat_or_leave_a_class_empty(counts, labels):
    bins = classes(counts)
    assert [b["label"] for b in bins] == labels
    assert all(b["countries"] > 0 for b in bins)


def test_the_map_colours_each_country_by_its_class_and_draws_three_panels(store):
    data = country_map(store, SearchRequest())
    counts = {c["alpha3"]: c["count"] for c in data["countries"] if c["count"]}
    assert counts == {"BRA": 3, "MEX": 3, "CHN": 3, "JAM": 2, "CHL": 1}
    assert [(b["label"], b["colour"], b["countries"]) for b in data["legend"]] == [
        ("0", NONE_COLOUR, 29), ("1–2", "#9ecae1", 2), ("3", "#3182bd", 3)]
    legend = {(b["low"], b["high"]): b["colour"] for b in data["legend"]}
    for c in data["countries"]:
        assert c["colour"] == next(colour for (low, high), colour in legend.items() if low <= c["count"] <= high)
    panels = {p["name"]: p for p in data["panels"]}
    assert [c["alpha3"] for c in panels["china"]["countries"]] == ["CHN"]
    assert set(EASTERN_CARIBBEAN) <= {c["alpha3"] for c in panels["caribbean"]["countries"]}
    assert "CHN" not in {c["alpha3"] for c in panels["latam"]["countries"]}
    assert len(panels["latam"]["countries"]) == 33
    labels = panels["caribbean"]["labels"]
    assert sorted(label["code"] for label in labels) == sorted(EASTERN_CARIBBEAN)
    ys = [label["y"] for label in labels]
    assert all(b - a >= 6.5 - 1e-9 for a, b in zip(ys, ys[1:], strict=False))  # labels never overlap


def test_the_timeline_draws_every_practice_from_start_to_end_grouped_by_country(store):
    data = timeline(store, SearchRequest(), today=datetime.date(2026, 12, 3))
    groups = {g["key"]: [(b["slug"], b["start"], b["end"], b["ongoing"]) for b in g["bars"]] for g in data["groups"]}
    assert list(groups) == ["BRA", "CHL", "CHN", "JAM", "MEX", "several"]
    assert groups == {
        "BRA": [("bra-cadastro-unico", 2001, 2026, True), ("bra-bolsa-familia", 2003, 2026, True)],
        "CHL": [("chl-chile-solidario", 2002, 2017, False)],
        "CHN": [("chn-dibao", 2007, 2026, True), ("chn-relocation", 2016, 2020, False)],
        "JAM": [("jam-path", 2001, 2026, True)],
        "MEX": [("mex-prospera", 1997, 2019, False), ("mex-pension-bienestar", 2019, 2026, True)],
        "several": [("chn-celac-forum", 2021, 2026, True)]}
    assert [t["year"] for t in data["ticks"]] == [2000, 2005, 2010, 2015, 2020, 2025]
    assert (data["first"], data["last"], data["total"], data["shown"]) == (1997, 2026, 10 - 1, 9)
    prospera = data["groups"][4]["bars"][0]
    assert (prospera["x"], prospera["width"]) == (1.0, round(96 * 23 / 30, 2))  # 1997 to the end of 2019
    assert all(b["x"] + b["width"] <= 97.01 for g in data["groups"] for b in g["bars"])
    summary = data["summary"]
    assert [(b["year"], b["count"]) for b in summary["bars"]] == [
        (1997, 1), (2001, 2), (2002, 1), (2003, 1), (2007, 1), (2016, 1), (2019, 1), (2021, 1)]
    assert [t["value"] for t in summary["y_ticks"]] == [0, 1, 2]


def test_year_ticks_are_round_and_few():
    assert year_ticks(1962, 2026) == [1970, 1980, 1990, 2000, 2010, 2020]
    assert year_ticks(2019, 2021) == [2019, 2020, 2021]


def test_the_gap_matrix_lists_the_countries_with_none_of_each_type(store):
    data = gap_matrix(store, SearchRequest())
    columns = {c["value"]: c for c in data["columns"]}
    assert [c["code"] for c in columns["relocation"]["none"]] == [c for c in vocab.countries().values() if c != "CHN"]
    assert columns["cash-transfers"]["total"] == 5
    assert {c["code"] for c in columns["cash-transfers"]["none"]} == set(vocab.countries().values()) - {
        "BRA", "MEX", "CHL", "CHN", "JAM"}
    left_out = gap_matrix(store, SearchRequest.build(exclude="geographic_scale:multi-country"))
    south = next(c for c in left_out["columns"] if c["value"] == "south-south-cooperation")
    assert (south["total"], len(south["none"])) == (0, 34)


def test_the_gap_matrix_csv_has_a_row_per_country_and_a_column_per_type(client):
    response = client.get("/gaps.csv?exclude=geographic_scale:multi-country")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="gaps.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["country", "name", *vocab.policy_types().values(), "all"]
    assert len(rows) == 1 + 34
    brazil = dict(zip(rows[0], next(r for r in rows if r[0] == "BRA"), strict=True))
    assert {k: v for k, v in brazil.items() if v not in ("0",)} == {
        "country": "BRA", "name": "Brazil", "cash-transfers": "1", "targeting-registries": "2", "all": "2"}


def fills_and_legend(html: str) -> tuple[list[tuple[str, int]], dict[tuple[int, int], str]]:
    fills = [(fill, int(n)) for fill, n in re.findall(r'<(?:path|circle)[^>]* fill="([^"]+)" data-count="(\d+)"', html)]
    legend = {(int(lo), int(hi)): fill for fill, lo, hi in
              re.findall(r'<rect class="swatch"[^>]* fill="([^"]+)" data-low="(\d+)" data-high="(\d+)"', html)}
    return fills, legend


@pytest.mark.parametrize("query", ["", "?exclude=geographic_scale:multi-country", "?q=families&country=BRA"])
def test_the_map_page_legend_shows_the_colours_the_map_fills_with(client, query):
    html = client.get(f"/map{query}").get_data(as_text=True)
    fills, legend = fills_and_legend(html)
    assert len(fills) >= 34 + 8 + 8  # every outline, the small states' markers, the enlarged panel
    for fill, count in fills:
        assert fill == next(colour for (low, high), colour in legend.items() if low <= count <= high)
    assert {fill for fill, _ in fills} == set(legend.values())  # no legend entry the map never uses
    for panel in ("latam", "china", "caribbean"):
        assert f'class="choropleth panel-{panel}"' in html


def test_charts_say_what_they_count_and_for_which_search(client):
    html = client.get("/map?q=families&country=BRA").get_data(as_text=True)
    caption = re.search(r'<figcaption id="map-caption">(.*?)</figcaption>', html, re.S).group(1)
    assert " ".join(caption.split()).startswith(
        "3 practices in this search; 5 countries have any. Words: “families”. Filters: Country: Brazil.")
    gaps = client.get("/gaps?exclude=geographic_scale:multi-country").get_data(as_text=True)
    caption = re.search(r'id="gaps-caption">(.*?)</p>', gaps, re.S).group(1)
    assert " ".join(caption.split()).startswith("8 practices in this search. Filters: Without Multi-country.")
    switch = re.search(r'<div class="scale-switch".*?</div>', gaps, re.S).group(0)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', switch) == [("/gaps", "Include them")]
    assert '<span class="current" aria-current="true">Left out</span>' in switch


@pytest.mark.parametrize("path", ["/map", "/timeline", "/gaps", "/evidence"])
def test_chart_pages_avoid_links_in_images_and_labels_on_plain_cells(client, path):
    html = client.get(path).get_data(as_text=True)
    for svg in re.findall(r"<svg[^>]*>", html):
        assert 'role="img"' not in svg
    assert 'aria-label="none"' not in html
    assert not re.search(r'<span[^>]*aria-label', html)


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_downloads_as_a_standalone_svg_with_escaped_text(client, name):
    response = client.get(f"/{name}.svg?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}.svg"'
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode())  # well-formed, so the query's markup was escaped
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title") is not None
    assert "<script" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_downloads_as_csv_for_the_same_search(client, name):
    response = client.get(f"/{name}.csv?country=MEX")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) > 1
    assert all(len(row) == len(rows[0]) for row in rows)


def test_unknown_charts_are_not_found(client):
    assert client.get("/search.svg").status_code == 404
    assert client.get("/practices.csv").status_code == 404


def test_chart_csv_cells_are_neutralised_against_formulas(settings):
    write_practice(settings.practices_dir, "chl-formula", title="=HYPERLINK(\"http://x\")", countries=["CHL"],
                   year_start=2010, year_end=2012, status="completed")
    assert update_index(settings).problems == []
    client = create_app(settings, TESTING=True).test_client()
    rows = list(csv.reader(io.StringIO(client.get("/timeline.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["slug", "title", "countries", "year_start", "year_end", "ongoing", "status"],
                    ["chl-formula", "'=HYPERLINK(\"http://x\")", "CHL", "2010", "2012", "no", "completed"]]
