"""Comparable data where researchers read it: the practice page's tables, the API, the OpenAPI
description and the CSV/JSON exports (whole columns and rows)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from conftest import PROGRAMMES

from kb.export import CSV_COLUMNS


def rows_of(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row of a table, cell by cell, tags removed."""
    table = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', html, re.S).group(1)
    body = table.split("<tbody>")[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    cell = r"<t[hd][^>]*>(.*?)</t[hd]>"
    return [[re.sub(r"[ \t\n]+", " ", re.sub(r"<br>", " | ", re.sub(r"<(?!br)[^>]+>", "", c))).strip()
             for c in re.findall(cell, row, re.S)] for row in rows]


@pytest.mark.parametrize("lang, figures, evaluations", [
    ("en", [["Households covered", "6,500,000", "2004", "[1] Official report"],
            ["Households covered", "14,100,000", "2019", "[1] Official report"],
            ["Expenditure as a share of GDP", "0.44%", "2019", "[1] Official report"],
            ["Benefit amount", "R$600 per household per month | minimum per family", "2023", "[1] Official report"]],
     [["Quasi-experimental evaluation", "School enrolment", "+4.4 percentage points | children 6-15", "2010",
       "[2] IFPRI study"]]),
    ("es", [["Hogares cubiertos", "6.500.000", "2004", "[1] Official report"],
            ["Hogares cubiertos", "14.100.000", "2019", "[1] Official report"],
            ["Gasto como porcentaje del PIB", "0,44\u00a0%", "2019", "[1] Official report"],
            ["Monto de la prestación", "600\xa0BRL por hogar por mes | minimum per family", "2023",
             "[1] Official report"]],
     [["Evaluación cuasiexperimental", "Matrícula escolar", "+4.4 percentage points | children 6-15", "2010",
       "[2] IFPRI study"]]),
    ("zh", [["覆盖户数", "6,500,000", "2004", "[1] Official report"],
            ["覆盖户数", "14,100,000", "2019", "[1] Official report"],
            ["支出占国内生产总值比重", "0.44%", "2019", "[1] Official report"],
            ["补助标准", "R$600每户每月 | minimum per family", "2023", "[1] Official report"]],
     [["准实验评估", "入学", "+4.4 percentage points | children 6-15", "2010", "[2] IFPRI study"]]),
])
def test_the_practice_page_shows_key_figures_and_evaluations_in_the_readers_language(
        programme_client, lang, figures, evaluations):
    html = programme_client.get(f"/practices/bra-bolsa-familia?lang={lang}").get_data(as_text=True)
    assert rows_of(html, "key-figures") == figures
    assert rows_of(html, "evaluations") == evaluations
    assert '<a href="#source-2" title="IFPRI study">' in html
    assert '<li id="source-2">' in html


def test_the_practice_page_lists_the_design_linked_to_searches(programme_client):
    html = programme_client.get("/practices/bra-bolsa-familia").get_data(as_text=True)
    assert ('<dt>Benefits</dt><dd><a href="/search?benefits=cash">Cash</a><br>'
            '<a href="/search?benefits=services">Services</a></dd>') in html
    assert '<dt>Conditionality</dt><dd><a href="/search?conditionality=conditional">Conditional</a></dd>' in html
    assert '<dt>Target group</dt><dd lang="en">Poor families with children</dd>' in html


def test_a_practice_without_the_blocks_shows_no_empty_tables(programme_client):
    html = programme_client.get("/practices/jam-path").get_data(as_text=True)
    assert ('id="key-figures"', 'id="evaluations"', "<dt>Benefits</dt>") == tuple(
        s for s in ('id="key-figures"', 'id="evaluations"', "<dt>Benefits</dt>") if s not in html)


def test_the_api_carries_design_indicators_and_evaluations(programme_client):
    practice = programme_client.get("/api/practices/chn-dibao").get_json()
    expected = PROGRAMMES["chn-dibao"]
    blank = {"currency": None, "period": None, "unit": None, "note": None}
    assert practice["design"] == {"target_group": None, **expected["design"]}
    assert practice["indicators"] == [{**blank, **i} for i in expected["indicators"]]
    assert practice["evaluations"] == [{"note": None, **e} for e in expected["evaluations"]]
    hits = programme_client.get("/api/search?conditionality=unconditional").get_json()["hits"]
    assert [(h["slug"], h["design"], h["indicators"], h["evaluations"]) for h in hits] == [
        ("chn-dibao", practice["design"], practice["indicators"], practice["evaluations"])]


def test_the_openapi_describes_the_blocks_and_the_long_export(programme_client):
    doc = programme_client.get("/api/openapi.json").get_json()
    practice = doc["components"]["schemas"]["Practice"]["properties"]
    evaluation = practice["evaluations"]["items"]
    assert evaluation["required"] == ["design", "outcome", "effect", "year", "source"]
    assert evaluation["properties"]["outcome"]["enum"][:3] == ["income-consumption", "poverty", "inequality"]
    assert practice["indicators"]["items"]["properties"]["value"]["type"] == "number"
    assert set(practice["design"]["properties"]) == {"target_group", "benefits", "conditionality", "targeting"}
    hit = doc["components"]["schemas"]["SearchResult"]["properties"]["hits"]["items"]["properties"]
    assert (hit["indicators"]["items"], hit["evaluations"]["items"]) == (
        practice["indicators"]["items"], practice["evaluations"]["items"])
    export = doc["paths"]["/api/export/indicators.csv"]["get"]
    assert [p["name"] for p in export["parameters"]] == [
        p["name"] for p in doc["paths"]["/api/search"]["get"]["parameters"]]
    assert "slug, country, indicator, kind, value, currency, unit, period, year, source_url, note" in (
        export["description"])


def read_csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_csv_export_has_design_and_the_latest_value_of_each_indicator(programme_client):
    rows = read_csv(programme_client.get("/api/export.csv?sort=title"))
    start = CSV_COLUMNS.index("source_urls")
    assert list(rows[0])[start:start + 6] == [
        "source_urls", "target_group", "benefits", "conditionality", "targeting", "impact_evaluation"]
    figures = {r["slug"]: {k: v for k, v in r.items() if k in CSV_COLUMNS[CSV_COLUMNS.index("target_group"):-1] and v}
               for r in rows}
    assert figures == {
        "bra-bolsa-familia": {
            "target_group": "Poor families with children", "benefits": "cash; services",
            "conditionality": "conditional", "targeting": "means-test; geographic", "impact_evaluation": "yes",
            "coverage_households": "14100000", "coverage_households_year": "2019",
            "expenditure_gdp_pct": "0.44", "expenditure_gdp_pct_year": "2019",
            "benefit_amount": "600", "benefit_amount_year": "2023", "benefit_amount_currency": "BRL",
            "benefit_amount_period": "month", "benefit_amount_unit": "household"},
        "chn-celac-cooperation": {"impact_evaluation": "no"},
        "jam-path": {"impact_evaluation": "no"},
        "per-juntos": {"benefits": "cash", "conditionality": "conditional", "targeting": "geographic",
                       "impact_evaluation": "yes"},
        "mex-prospera": {"benefits": "cash", "conditionality": "conditional",
                         "targeting": "proxy-means-test; geographic", "impact_evaluation": "yes",
                         "coverage_households": "6500000", "coverage_households_year": "2018"},
        "chn-dibao": {"benefits": "cash", "conditionality": "unconditional", "targeting": "means-test",
                      "impact_evaluation": "no", "coverage_people": "34600000", "coverage_people_year": "2019",
                      "expenditure_local_currency": "3000000000", "expenditure_local_currency_year": "2007",
                      "expenditure_local_currency_currency": "CNY"},
    }


def test_the_long_format_export_has_one_row_per_figure_and_honours_the_search(programme_client):
    rows = read_csv(programme_client.get("/api/export/indicators.csv?country=CHN&country=MEX&sort=title"))
    assert [list(r.values()) for r in rows] == [
        ["mex-prospera", "MEX", "coverage-households", "count", "2600000", "", "", "", "2000",
         "https://example.org/report", ""],
        ["mex-prospera", "MEX", "coverage-households", "count", "6500000", "", "", "", "2018",
         "https://example.org/report", ""],
        ["chn-dibao", "CHN", "coverage-people", "count", "52100000", "", "", "", "2010", "https://example.org/report",
         ""],
        ["chn-dibao", "CHN", "coverage-people", "count", "34600000", "", "", "", "2019", "https://example.org/report",
         ""],
        ["chn-dibao", "CHN", "expenditure-local-currency", "money", "3000000000", "CNY", "", "", "2007",
         "https://example.org/report", "central allocation"],
    ]
    assert list(rows[0]) == ["slug", "country", "indicator", "kind", "value", "currency", "unit", "period", "year",
                             "source_url", "note"]
    response = programme_client.get("/api/export/indicators.csv?contry=CHN")
    assert (response.status_code, response.get_json()["error"]["parameter"]) == (400, "contry")


def test_the_json_export_has_the_blocks_and_the_latest_values(programme_client):
    data = programme_client.get("/api/export.json?q=&country=PER&country=CHN&sort=title").get_json()
    by_slug = {p["slug"]: p for p in data["practices"]}
    assert sorted(by_slug) == ["chn-celac-cooperation", "chn-dibao", "per-juntos"]
    assert by_slug["chn-dibao"]["latest_indicators"] == {
        "coverage-people": {"indicator": "coverage-people", "value": 34600000, "year": 2019, "source": 1,
                            "currency": None, "period": None, "unit": None, "note": None},
        "expenditure-local-currency": {"indicator": "expenditure-local-currency", "value": 3000000000,
                                       "year": 2007, "source": 1, "currency": "CNY", "period": None, "unit": None,
                                       "note": "central allocation"}}
    assert (by_slug["per-juntos"]["latest_indicators"], by_slug["per-juntos"]["evaluations"][0]["outcome"]) == (
        {}, "health-services")


def compare_rows(html: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr class="(?:differs|same)"><th scope="row">(.*?)</th>(.*?)</tr>', html, re.S)
    return {re.sub(r"<[^>]+>|\(differs\)", "", label).strip(): re.findall(r"<td>(.*?)</td>", cells, re.S)
            for label, cells in rows}


def test_the_comparison_lines_up_design_latest_figures_and_evaluations(programme_client):
    html = programme_client.get("/compare?slug=bra-bolsa-familia&slug=chn-dibao").get_data(as_text=True)
    rows = compare_rows(html)
    assert {k: rows[k] for k in list(rows)[list(rows).index("Target group"):list(rows).index("Results")]} == {
        "Target group": ["Poor families with children", "—"],
        "Benefits": ["Cash, Services", "Cash"],
        "Conditionality": ["Conditional", "Unconditional"],
        "Targeting": ["Means test, Geographic", "Means test"],
        "People covered": ["—", "34,600,000 (2019)"],
        "Households covered": ["14,100,000 (2019)", "—"],
        "Expenditure in local currency": ["—", "CN¥3,000,000,000 (2007)"],
        "Expenditure as a share of GDP": ["0.44% (2019)", "—"],
        "Benefit amount": ["R$600 per household per month (2023)", "—"],
        "Evaluations": ["Quasi-experimental evaluation: School enrolment, +4.4 percentage points (2010)",
                        "Monitoring data: Poverty, gap narrowed (2015)"],
    }


def test_the_comparison_charts_each_indicator_with_two_years_and_a_table_twin(programme_client):
    html = programme_client.get("/compare?slug=bra-bolsa-familia&slug=mex-prospera&slug=chn-dibao&lang=es"
                                ).get_data(as_text=True)
    charts = re.findall(r'<figure class="line-chart" id="chart-([a-z-]+)"(.*?)</figure>', html, re.S)
    assert [name for name, _ in charts] == ["coverage-people", "coverage-households"]
    households = dict(charts)["coverage-households"]
    assert re.findall(r'<g class="series series-(\d)" data-slug="([a-z-]+)">', households) == [
        ("0", "bra-bolsa-familia"), ("1", "mex-prospera")]
    assert re.findall(r"<title>(.*?)</title>", households) == [
        "Bolsa Família, 2004: 6.500.000", "Bolsa Família, 2019: 14.100.000",
        "Prospera, 2000: 2.600.000", "Prospera, 2018: 6.500.000"]
    table = re.search(r"<tbody>(.*?)</tbody>", households, re.S).group(1)
    assert re.findall(r"<tr><th scope=\"row\">(\d+)</th><td class=\"num\">(.*?)</td><td class=\"num\">(.*?)</td>",
                      table) == [("2000", "—", "2.600.000"), ("2004", "6.500.000", "—"), ("2018", "—", "6.500.000"),
                                 ("2019", "14.100.000", "—")]
    assert "<h2 id=\"charts-heading\">Indicadores a lo largo del tiempo</h2>" in html


def test_no_chart_when_no_practice_has_two_years_of_a_figure(programme_client):
    html = programme_client.get("/compare?slug=per-juntos&slug=jam-path").get_data(as_text=True)
    assert ("line-chart" in html, compare_rows(html)["Evaluations"]) == (
        False, ["Quasi-experimental evaluation: Health services use, +10 points (2012)".replace(
            "Health services use", "Use of health services"), "—"])


def benefit(value, year, currency="BRL"):
    return {"indicator": "benefit-amount", "value": value, "year": year, "currency": currency, "period": "month",
            "unit": "household", "source": 1, "note": None}


def test_money_in_one_currency_is_charted_with_it_and_mixed_currencies_only_tabled():
    from kb.figures import indicator_charts

    one = [{"slug": "a", "title": "A", "indicators": [benefit(500, 2020), benefit(600, 2023)]}]
    chart = indicator_charts(one, "es")[0]
    assert (chart["label"], chart["mixed"], [t["value"] for t in chart["y_ticks"]]) == (
        "Monto de la prestación (BRL por hogar por mes)", False, ["0", "150", "300", "450", "600"])
    mixed = [*one, {"slug": "b", "title": "B", "indicators": [benefit(100, 2020, "MXN")]}]
    chart = indicator_charts(mixed, "en")[0]
    assert (chart["label"], chart["mixed"], chart["table"]) == ("Benefit amount", True, [
        {"year": 2020, "cells": ["R$500 per household per month", "MX$100 per household per month"]},
        {"year": 2023, "cells": ["R$600 per household per month", "—"]}])
