"""The researcher's experience in a real browser (headless Debian Chromium against `kb serve`): the phone's
filter control, tables whose labels stay in view when scrolled, the map's legend matching what is drawn,
and a chart's SVG and CSV downloads."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def open_page(browser, live_server, viewport, javascript=True):
    context = browser.new_context(base_url=live_server, viewport=viewport, java_script_enabled=javascript)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_phone_results_come_first_and_the_filters_open_from_a_control_above_them(
        browser, live_server, javascript):
    page = open_page(browser, live_server, PHONE, javascript)
    page.goto("/search?q=families&country=BRA")
    toggle = page.locator("#filters-toggle")
    assert toggle.inner_text() == "Filters (1 selected)"
    results = page.locator(".results").bounding_box()
    assert toggle.bounding_box()["y"] < results["y"] < PHONE["height"]  # the first result is on the first screen
    assert not page.locator("#filters").is_visible()
    if javascript:
        assert (toggle.get_attribute("role"), toggle.get_attribute("aria-expanded")) == ("button", "false")
    toggle.click()
    filters = page.locator("#filters")
    assert filters.is_visible()
    assert filters.bounding_box()["y"] < page.locator(".results").bounding_box()["y"]
    if javascript:
        assert toggle.get_attribute("aria-expanded") == "true"
        page.locator('ul[data-facet="country"] a[data-value="MEX"]').click()  # still open on the next page
        page.wait_for_url("**country=BRA&country=MEX#f-country-MEX")  # the focus comes back to the value
        assert page.locator("#filters").is_visible()
        assert page.locator("#filters-toggle").inner_text() == "Filters (2 selected)"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize(("path", "viewport", "label"), [
    ("/gaps", DESKTOP, "Argentina"), ("/gaps", PHONE, "Argentina"),
    ("/compare?slug=bra-bolsa-familia&slug=mex-prospera&slug=chn-dibao&slug=jam-path", PHONE, "Status")])
def test_row_labels_and_headers_stay_in_view_when_a_table_is_scrolled(browser, live_server, path, viewport, label):
    page = open_page(browser, live_server, viewport)
    page.goto(path)
    box = page.locator(".sticky-table")
    row_label = box.locator("tbody th[scope=row]", has_text=label).first
    header = box.locator("thead th").nth(2)
    before = row_label.bounding_box()
    header_before = header.bounding_box()
    scrolled = box.evaluate("b => { b.scrollLeft = 400; b.scrollTop = 150; return [b.scrollLeft, b.scrollTop]; }")
    assert scrolled[0] > 0  # the table is wider than its box, so it did scroll
    after = row_label.bounding_box()
    assert abs(after["x"] - before["x"]) < 1  # the first column did not move sideways
    wrap = box.bounding_box()
    assert after["x"] >= wrap["x"] - 1 and after["x"] + after["width"] <= wrap["x"] + wrap["width"]
    if scrolled[1] > 0:
        assert abs(header.bounding_box()["y"] - header_before["y"]) < 1  # the header row stayed on top
    assert page.errors == []
    page.context.close()


def test_the_map_legend_shows_the_colours_the_browser_paints(browser, live_server):
    page = open_page(browser, live_server, DESKTOP)
    page.goto("/map?exclude=geographic_scale:multi-country")
    legend = page.locator(".map-legend rect.swatch").evaluate_all(
        "rs => rs.map(r => [+r.dataset.low, +r.dataset.high, getComputedStyle(r).fill])")
    painted = page.locator("svg.choropleth [data-count]").evaluate_all(
        "es => es.map(e => [+e.dataset.count, getComputedStyle(e).fill])")
    assert len(legend) >= 2 and len(painted) >= 50
    for count, fill in painted:
        assert fill == next(colour for low, high, colour in legend if low <= count <= high)
    caribbean = page.locator("svg.panel-caribbean")
    assert caribbean.bounding_box()["width"] > 300
    assert caribbean.locator("text.island-label").count() == 8
    page.context.close()


def test_the_map_fills_a_phone_screen(browser, live_server):
    page = open_page(browser, live_server, PHONE)
    page.goto("/map")
    for panel in ("latam", "china", "caribbean"):
        assert page.locator(f"svg.panel-{panel}").bounding_box()["width"] >= 350
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.context.close()


def test_a_chart_downloads_as_svg_and_csv(browser, live_server, tmp_path):
    page = open_page(browser, live_server, DESKTOP)
    page.goto("/timeline?country=MEX")
    with page.expect_download() as svg_download:
        page.get_by_role("link", name="SVG image").click()
    assert svg_download.value.suggested_filename == "timeline.svg"
    svg_path = tmp_path / "timeline.svg"
    svg_download.value.save_as(svg_path)
    root = ET.parse(svg_path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Filters: Country: Mexico." in texts and "Progresa-Oportunidades-Prospera · 1997–2019" in texts
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV data").click()
    csv_path = tmp_path / "timeline.csv"
    csv_download.value.save_as(csv_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert [r[:5] for r in rows] == [["slug", "title", "countries", "year_start", "year_end"],
                                     ["mex-prospera", "Progresa-Oportunidades-Prospera", "MEX", "1997", "2019"],
                                     ["mex-pension-bienestar", "Pensión Bienestar", "MEX", "2019", ""],
                                     ["chn-celac-forum", "CELAC-China Forum", "CHN; BRA; MEX; JAM", "2021", ""]]
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_the_timeline_has_axes_and_readable_labels_at_both_widths(browser, live_server, viewport):
    page = open_page(browser, live_server, viewport)
    page.goto("/timeline")
    chart = page.locator("svg.timeline-chart")
    box = chart.bounding_box()
    assert box["width"] >= min(viewport["width"] - 40, 990)  # it fills a phone's width, 62rem on a wide screen
    ticks = chart.locator("text.tick").all_text_contents()
    assert ticks[::2] == ticks[1::2] == ["2000", "2005", "2010", "2015", "2020", "2025"]  # axes on top and bottom
    labels = chart.locator("text.bar-label, text.tick, text.group-label")
    sizes = labels.evaluate_all("ts => ts.map(t => t.getBoundingClientRect().height)")
    assert min(sizes) >= 12  # text in pixels, whatever the width
    rights = chart.locator("text.bar-label").evaluate_all("ts => ts.map(t => t.getBoundingClientRect().right)")
    assert max(rights) <= box["x"] + box["width"] + 1  # no label runs off the chart
    bars = chart.locator("a.bar")
    assert bars.count() == 9
    for slug, start, end in (("mex-prospera", "1997", "2019"), ("chn-relocation", "2016", "2020")):
        bar = chart.locator(f'a.bar[data-slug="{slug}"]')
        assert (bar.get_attribute("data-start"), bar.get_attribute("data-end")) == (start, end)
    assert page.locator("svg.histogram rect").count() == 8
    page.context.close()
