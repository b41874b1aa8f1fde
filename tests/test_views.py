"""The HTML pages through the test client: what a reader sees, without JavaScript."""

from __future__ import annotations

import re


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_search_page_shows_results_facets_chips_and_state_in_links(client):
    html = client.get("/search?q=families&country=BRA&country=MEX&sort=title").get_data(as_text=True)
    assert '<input id="q" name="q" type="search" value="families"' in html
    assert re.findall(r'<a class="chip" href="([^"]+)">([^<]+)<', html) == [
        ("/search?q=families&amp;sort=title&amp;country=MEX", "Country: Brazil "),
        ("/search?q=families&amp;sort=title&amp;country=BRA", "Country: Mexico "),
    ]
    assert re.search(r'href="/search\?q=families&amp;sort=title&amp;country=BRA&amp;country=MEX&amp;country=CHN#f-country-CHN" '
                     r'id="f-country-CHN" class="facet-value"\s+data-value="CHN" role="checkbox" aria-checked="false"', html)
    assert '<option value="title" selected>Title A-Z</option>' in html
    assert '<a href="/api/search?q=families&amp;sort=title&amp;country=BRA&amp;country=MEX">This search as JSON</a>' in html


def test_empty_state_offers_a_way_out(client):
    page = text(client.get("/search?q=zzzzqqq&country=JAM").get_data(as_text=True))
    assert "No practices found" in page
    assert "Nothing matches “zzzzqqq” with these filters. Remove all filters Browse every practice" in page


def test_did_you_mean(client):
    html = client.get("/search?q=atendance").get_data(as_text=True)
    assert 'Did you mean <a href="/search?q=attendance"><strong>attendance</strong></a>?' in html


def test_practice_page_links_every_value_to_a_search(client):
    html = client.get("/practices/bra-cadastro-unico").get_data(as_text=True)
    for href in ("/search?country=BRA", "/search?region=south-america", "/search?policy_type=targeting-registries",
                 "/search?status=ongoing", "/search?evidence_level=monitoring", "/search?language=en",
                 "/search?year_from=2001&amp;year_to=2001"):
        assert f'href="{href}"' in html, href
    assert re.search(r'<li id="source-1"><a href="https://example.org/a" rel="noopener noreferrer">A study</a>\. '
                     r'World Bank, 2020\.</li>', html)
    assert '<time datetime="2026-11-01">November 1, 2026</time>' in html
    related = re.findall(r'<li><a href="(/practices/[^"]+)">', html)
    assert related[0] == "/practices/bra-bolsa-familia"
    assert "practices/brazil/bra-cadastro-unico.md" in html  # the edit link


def test_browse_pages_list_every_value_with_counts(client):
    countries = text(client.get("/countries").get_data(as_text=True))
    assert "Brazil BRA 3" in countries and "Haiti HTI 0" in countries
    types = text(client.get("/policy-types").get_data(as_text=True))
    assert "Cash transfers (conditional &amp; unconditional) and minimum income 5" in types


def test_about_and_error_pages(client):
    assert "holds 9 case studies" in text(client.get("/about").get_data(as_text=True))
    response = client.get("/search?page=0")
    assert response.status_code == 400
    assert "page: expected a number from 1 to 1000, found 0" in text(response.get_data(as_text=True))
    assert client.get("/practices/nope").status_code == 404
