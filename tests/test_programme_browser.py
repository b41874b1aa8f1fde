"""Comparable data in a real browser (headless Debian Chromium against `kb serve`): the comparison's
charts, the evidence gap map and leaving multi-country projects out of the map."""

from __future__ import annotations

import pytest
from conftest import watched_page

playwright = pytest.importorskip("playwright.sync_api")


pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, programme_server):
    context = browser.new_context(base_url=programme_server, viewport={"width": 1280, "height": 900})
    page = watched_page(context)
    yield page
    context.close()


def test_the_comparison_draws_each_indicator_over_time_with_a_table_twin(page):
    page.goto("/compare?slug=bra-bolsa-familia&slug=mex-prospera&slug=chn-dibao")
    chart = page.get_by_role("img", name="Households covered Line chart; the table below gives the same values.")
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    lines = page.locator("#chart-coverage-households polyline")
    assert lines.count() == 2
    for n in range(2):  # each line is drawn inside the chart, not collapsed to a point
        line = lines.nth(n).bounding_box()
        assert box["x"] <= line["x"] and line["x"] + line["width"] <= box["x"] + box["width"] and line["width"] > 50
    assert page.locator("#chart-coverage-households circle title").all_text_contents() == [
        "Bolsa Família, 2004: 6,500,000", "Bolsa Família, 2019: 14,100,000",
        "Prospera, 2000: 2,600,000", "Prospera, 2018: 6,500,000"]
    twin = page.locator("#chart-coverage-households table tbody tr")
    assert twin.all_inner_texts() == ["2000\t—\t2,600,000", "2004\t6,500,000\t—", "2018\t—\t6,500,000",
                                      "2019\t14,100,000\t—"]
    assert page.locator("#chart-coverage-households .chart-legend li").all_inner_texts() == [
        "Bolsa Família", "Prospera"]
    assert page.console_errors == []


def test_a_cell_of_the_evidence_gap_map_opens_its_practices(page):
    page.goto("/search?conditionality=conditional")
    page.get_by_role("link", name="Evidence gap map").click()
    page.wait_for_url("**/evidence?conditionality=conditional")
    cell = page.locator('tr[data-type="cash-transfers"] td[data-outcome="school-enrolment"] a')
    assert cell.inner_text().split() == ["2", "RCT", "1", "·", "QE", "1"]  # the designs on a line of their own
    cell.click()
    page.wait_for_url("**/search?policy_type=cash-transfers&outcome=school-enrolment&conditionality=conditional")
    assert page.locator("#results-heading").inner_text().startswith("2 practices")
    assert sorted(page.locator(".hit h3").all_inner_texts()) == ["Bolsa Família", "Prospera"]
    assert page.console_errors == []


def test_multi_country_projects_can_be_left_out_of_the_map(page):
    page.goto("/map")
    china = page.locator('svg a[data-country="CHN"]')
    assert china.get_attribute("aria-label") == "China: 2 practices"
    page.click("#multi-country-toggle")
    page.wait_for_url("**/map?exclude=geographic_scale%3Amulti-country")
    assert china.get_attribute("aria-label") == "China: 1 practice"
    china.click()
    page.wait_for_url("**/search?country=CHN&exclude=geographic_scale%3Amulti-country")
    assert page.locator(".hit h3").all_inner_texts() == ["Rural Dibao"]
    assert [t.split("×")[0].strip() for t in page.locator(".chips .chip:not(.clear)").all_inner_texts()] == [
        "Country: China", "Without Multi-country"]
    assert page.console_errors == []
