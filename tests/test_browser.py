"""What a researcher does in a real browser: headless Debian Chromium against `kb serve` on localhost."""

from __future__ import annotations

import pytest
from conftest import BODIES, watched_page

from kb.engine import update_index
from kb.practice import body_sha256

playwright = pytest.importorskip("playwright.sync_api")


pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = watched_page(context)
    yield page
    context.close()


def facet_link(page, facet: str, value: str):
    return page.locator(f'ul[data-facet="{facet}"] a[data-value="{value}"]')


def count_of(page, facet: str, value: str) -> int:
    return int(facet_link(page, facet, value).locator(".count").inner_text())


def api_total(page, query: str) -> int:
    return page.request.get(f"/api/search?{query}").json()["total"]


def test_search_filter_page_and_open_a_practice(page):
    page.goto("/")
    page.fill("#q", "families")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=families")
    total = page.locator("#results-heading").inner_text()
    assert total.startswith(f"{api_total(page, 'q=families')} practices")

    facet_link(page, "country", "BRA").click()
    page.wait_for_url("**country=BRA#f-country-BRA")  # the focus comes back to the value chosen
    assert count_of(page, "country", "MEX") == 3  # disjunctive: Mexico's count is still shown
    facet_link(page, "country", "MEX").click()
    page.wait_for_url("**country=BRA&country=MEX#f-country-MEX")
    both = api_total(page, "q=families&country=BRA&country=MEX")
    assert page.locator("#results-heading").inner_text().startswith(f"{both} practices")
    chips = page.locator(".chips .chip:not(.clear)")
    assert [text.split("×")[0].strip() for text in chips.all_inner_texts()] == ["Country: Brazil", "Country: Mexico"]

    chips.first.click()  # remove Brazil
    page.wait_for_url("**/search?q=families&country=MEX")
    mexico = api_total(page, "q=families&country=MEX")
    assert page.locator("#results-heading").inner_text().startswith(f"{mexico} practice")

    page.goto("/search?per_page=4&sort=title")
    first_page = page.locator(".hit h3").all_inner_texts()
    page.click("a[rel=next]")
    page.wait_for_url("**page=2**")
    assert page.locator(".hit h3").all_inner_texts()[0] not in first_page

    page.click(".hit h3 a >> nth=0")
    page.wait_for_selector("article.practice h1")
    page.locator(".meta-panel a", has_text="Completed").or_(page.locator(".meta-panel dd a").first).first.click()
    page.wait_for_url("**/search?**")
    assert page.locator(".chips .chip").count() >= 1
    assert page.console_errors == []


def test_sort_select_submits_itself(page):
    page.goto("/search")
    page.select_option("#sort", "title")
    page.wait_for_url("**sort=title")
    assert page.locator(".hit h3").first.inner_text() == "Bolsa Família"
    assert page.console_errors == []


def test_click_a_country_on_the_map_to_filter_the_search(page):
    page.goto("/map?q=families")
    page.locator('svg a[data-country="MEX"]').click()
    page.wait_for_url("**/search?q=families&country=MEX")
    assert [t.split("×")[0].strip() for t in page.locator(".chips .chip:not(.clear)").all_inner_texts()] == [
        "Country: Mexico"]
    assert page.console_errors == []


def test_download_the_filtered_results_as_csv(page, tmp_path):
    page.goto("/search?country=BRA")
    with page.expect_download() as info:
        page.click("text=CSV")
    path = tmp_path / "practices.csv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("slug,url,title,")
    assert len(lines) - 1 == page.request.get("/api/search?country=BRA").json()["total"]


def test_compare_two_results(page):
    page.goto("/search?country=BRA&sort=title")
    page.check("#cmp-bra-bolsa-familia")
    page.check("#cmp-bra-cadastro-unico")
    page.click("text=Compare selected")
    page.wait_for_url("**/compare?slug=bra-bolsa-familia&slug=bra-cadastro-unico")
    assert page.locator("table.compare thead a").all_inner_texts()[:2] == ["Bolsa Família", "Cadastro Único"]
    assert page.console_errors == []


def test_switch_to_chinese_and_search_in_chinese(page):
    page.goto("/search?country=CHN")
    page.click('nav.languages a[lang="zh"]')
    page.wait_for_url("**lang=zh")
    assert page.locator("html").get_attribute("lang") == "zh"
    assert page.locator(".chips .chip:not(.clear)").first.inner_text().startswith("国家: 中国")
    page.fill("#q", "低保")
    page.press("#q", "Enter")
    page.wait_for_url("**q=%E4%BD%8E%E4%BF%9D**")
    assert page.locator("html").get_attribute("lang") == "zh"  # remembered without ?lang=
    assert page.locator(".hit h3").first.inner_text() == "农村最低生活保障制度"
    assert "项实践" in page.locator("#results-heading").inner_text()
    assert page.console_errors == []


BOLSA_ZH = "## 背景\n\n该计划把教育和卫生结合起来，帮助贫困家庭的儿童上学。\n"


@pytest.fixture
def bolsa_in_chinese(built):
    """The Brazilian Bolsa Família (written in Portuguese) with a Chinese machine translation."""
    (built.practices_dir / "brazil" / "bra-bolsa-familia.zh.md").write_text(
        f"---\ntitle: 家庭补助金计划\nsummary: 巴西面向贫困家庭的有条件现金转移支付。\nkind: machine\n"
        f"translated_from: {body_sha256(BODIES['bra-bolsa-familia'])}\n---\n{BOLSA_ZH}", encoding="utf-8")
    assert update_index(built).problems == []


def test_a_chinese_reader_finds_and_reads_a_brazilian_case_in_chinese(bolsa_in_chinese, browser, live_server):
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/search?q=儿童上学")
    hit = page.locator(".hit").first
    assert hit.locator("h3").inner_text() == "家庭补助金计划 (机器翻译)"
    assert hit.locator(".matched-lang").inner_text() == "匹配自译文： 中文"
    assert hit.locator(".snippet mark").all_inner_texts() == ["儿童", "上学"]
    hit.locator("h3 a").click()
    page.wait_for_url("**/practices/bra-bolsa-familia")
    body = page.locator("div.body")
    assert (body.get_attribute("lang"), body.locator("p").first.inner_text()) == (
        "zh", "该计划把教育和卫生结合起来，帮助贫困家庭的儿童上学。")
    assert page.locator(".translation-note").inner_text() == "机器翻译，原文为葡萄牙语。 原文： Bolsa Família · 阅读原文"
    page.click("text=阅读原文")
    page.wait_for_url("**/practices/bra-bolsa-familia?text=pt")
    assert (body.get_attribute("lang"), body.locator("p").first.inner_text()) == (
        "pt", "O programa integra educação e saúde das famílias.")
    assert page.locator("html").get_attribute("lang") == "zh"  # the interface stays Chinese
    page.click('nav.text-versions a[lang="zh"]')
    page.wait_for_url("**?text=zh")
    assert body.get_attribute("lang") == "zh"
    assert errors == []
    context.close()
