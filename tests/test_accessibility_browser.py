"""Accessibility and keyboard in a real browser: axe-core on every kind of page, facets as checkboxes,
focus after a facet is chosen, the citation copy button and a whole search's BibTeX parsed back."""

from __future__ import annotations

import re

import bibtexparser
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import watched_page

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

PAGES = {"home": "/", "search": "/search?q=families", "practice": "/practices/jam-path",
         "compare": "/compare?slug=jam-path&slug=mex-prospera", "map": "/map", "timeline": "/timeline",
         "gaps": "/gaps", "evidence": "/evidence", "countries": "/countries", "error": "/practices/nope"}
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
FAILING_IMPACTS = {"serious", "critical"}

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS["desktop"])
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = watched_page(context)
    yield page
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_axe_finds_no_serious_or_critical_violation(browser, live_server, viewport, lang):
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS[viewport])
    page = context.new_page()
    axe = Axe()
    found = {}
    for name, path in PAGES.items():
        page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # the Cite box too
        violations = axe.run(page).response["violations"]
        rules = sorted({v["id"] for v in violations if v["impact"] in FAILING_IMPACTS})
        if rules:
            found[name] = {rule: [n["target"] for v in violations if v["id"] == rule for n in v["nodes"]][:3]
                           for rule in rules}
    context.close()
    assert found == {}


def test_facets_are_announced_as_checkboxes_and_the_focus_comes_back_after_a_choice(page):
    page.goto("/search?q=families")
    brazil = page.get_by_role("checkbox", name="BRA Brazil", exact=False).first
    assert brazil.get_attribute("aria-checked") == "false"
    brazil.focus()
    page.keyboard.press("Space")  # as on a checkbox
    page.wait_for_url("**country=BRA#f-country-BRA")
    chosen = page.locator("#f-country-BRA")
    assert chosen.get_attribute("aria-checked") == "true"
    assert page.evaluate("document.activeElement.id") == "f-country-BRA"
    total = page.locator("#results-heading").inner_text().split("(")[0].strip()
    expect(page.locator("#facet-announce")).to_have_text(re.compile(".+"))  # after a pause, to be announced
    assert page.locator("#facet-announce").inner_text().startswith(total)
    assert page.locator("#facet-announce").get_attribute("role") == "status"
    assert page.console_errors == []


def test_a_folded_facet_value_is_unfolded_when_the_focus_comes_back_to_it(page):
    page.goto("/search?lang=zh")
    facet = page.locator("ul.collapsed").first
    toggle = facet.locator("xpath=following-sibling::button[1]")
    assert toggle.inner_text().startswith("再显示")
    hidden = facet.locator("li.more a").first
    anchor = hidden.get_attribute("id")
    page.goto(hidden.get_attribute("href").split("#")[0] + "&lang=zh#" + anchor)
    assert page.evaluate("document.activeElement.id") == anchor
    assert page.locator(f"#{anchor}").is_visible()


def test_skip_to_results_is_the_second_tab_stop_and_lands_on_the_results(page):
    page.goto("/search?q=families")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to results"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.results') !== null")


def test_the_cite_box_copies_the_apa_citation(page):
    page.goto("/practices/jam-path")
    assert page.locator("#cite summary").bounding_box()["y"] < 450  # near the top, not at the end
    page.get_by_text("Cite this practice").click()
    expected = page.locator("#cite-apa").inner_text()
    assert expected.startswith("CELAC–China Poverty Reduction Knowledge Base. (2026, November 1). PATH. ")
    page.locator('button.copy[data-copy="cite-apa"]').click()
    expect(page.locator("#copy-status")).to_have_text(re.compile(".+"))
    assert page.locator("#copy-status").inner_text() == "Copied to the clipboard."
    assert page.evaluate("navigator.clipboard.readText()") == expected
    assert page.console_errors == []


def test_the_cite_text_is_there_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/practices/jam-path")
    page.get_by_text("Cite this practice").click()
    assert page.locator("#cite-chicago").is_visible()
    assert page.locator("button.copy").count() == page.locator("button.copy[hidden]").count()
    context.close()


def test_download_the_whole_search_as_bibtex_and_parse_it_back(page, tmp_path):
    page.goto("/search?country=BRA")
    with page.expect_download() as info:
        page.click("#export-bib")
    path = tmp_path / "practices.bib"
    info.value.save_as(path)
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    assert library.failed_blocks == []
    slugs = sorted(h["slug"] for h in page.request.get("/api/search?country=BRA&per_page=100").json()["hits"])
    assert sorted(e.key for e in library.entries) == [f"kb-{s}" for s in slugs]
    assert {e.entry_type for e in library.entries} == {"misc"}


def test_axe_does_catch_a_serious_violation(page):
    """The check above is not vacuous: an image without alt text on the home page is reported."""
    page.goto("/")
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    violations = Axe().run(page).response["violations"]
    assert {(v["id"], v["impact"]) for v in violations} == {("image-alt", "critical")}
