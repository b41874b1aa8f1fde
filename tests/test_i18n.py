"""Four languages: the interface, the catalogs, the analysers, and query expansion across languages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from conftest import ROOT

from kb import vocab
from kb.config import Settings
from kb.engine import open_store, update_index
from kb.engine.analysis import fold_in_place, text_analyzer
from kb.engine.highlight import snippet
from kb.practice import load_tree
from kb.search import SearchRequest, run_search

CATALOGS = ROOT / "kb" / "translations"
LANGS = ("es", "pt", "zh")
# Every page the site has: each view, each template, the error pages (404 and 400) included.
PAGES = ["/", "/search", "/search?q=families&country=BRA", "/search?q=zzzzqq", "/practices/jam-path",
         "/practices/chn-dibao", "/countries", "/policy-types", "/about", "/map", "/timeline", "/gaps", "/evidence",
         "/map?country=BRA", "/compare?slug=jam-path&slug=mex-prospera", "/practices/nope", "/search?country=XXX",
         "/compare?nope=1"]


def catalog(lang: str):
    with open(CATALOGS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated(lang):
    missing = [m.id for m in catalog(lang) if m.id and (not all(m.string if isinstance(m.string, tuple)
                                                                else [m.string]) or m.fuzzy)]
    assert missing == []


def test_the_catalogs_hold_every_string_of_the_code_and_templates(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-o", str(pot),
                    "--no-location", "."], check=True, capture_output=True, cwd=ROOT)
    with open(pot, "rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    for lang in LANGS:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(lang) if m.id}
        assert sorted(wanted - have) == [], lang


def english_strings() -> set[str]:
    """Distinctive English interface strings: none may show on a page in another language."""
    out = set()
    for m in catalog("es"):
        text = m.id if isinstance(m.id, str) else m.id[0]
        if text and len(text) >= 14 and "%(" not in text and text not in ("CELAC–China",):
            out.add(text)
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_renders_in_each_language_without_english_left(client, lang):
    leftovers = {}
    for url in PAGES:
        sep = "&" if "?" in url else "?"
        html = client.get(f"{url}{sep}lang={lang}").get_data(as_text=True)
        assert f'<html lang="{lang}">' in html, url
        found = [s for s in english_strings() if s in html]
        if found:
            leftovers[url] = found
    assert leftovers == {}


@pytest.mark.parametrize("lang", LANGS)
def test_short_strings_and_the_scripts_labels_are_translated_too(client, lang):
    """What the distinctive-string check leaves out: short labels and those the script shows."""
    short = {m.id for m in catalog("es") if isinstance(m.id, str) and m.id and len(m.id) < 14 and "%(" not in m.id}
    html = client.get(f"/search?lang={lang}").get_data(as_text=True)
    labels = dict(re.findall(r'data-(more|fewer)-label="([^"]+)"', html))
    assert labels and not re.match(r"Show \d+ more|Show fewer", labels["more"] + labels["fewer"])
    practice = client.get(f"/practices/jam-path?lang={lang}").get_data(as_text=True)
    buttons = re.findall(r'<button type="button" class="copy"[^>]*>([^<]+)</button>', practice)
    assert buttons and [b for b in buttons if b in short | {"Copy BibTeX"}] == []
    assert re.search(r'data-copied="([^"]+)"', practice).group(1) != "Copied to the clipboard."


def test_language_choice_is_remembered_and_defaults_to_the_browser(client):
    assert '<html lang="pt">' in client.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9"}).get_data(as_text=True)
    client.get("/search?lang=zh")
    html = client.get("/about").get_data(as_text=True)
    assert '<html lang="zh">' in html and "关于" in html
    alternates = re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)">', html)
    assert alternates == [("en", "/about?lang=en"), ("es", "/about?lang=es"), ("pt", "/about?lang=pt"),
                          ("zh", "/about?lang=zh")]


def test_the_switch_keeps_the_search(client):
    html = client.get("/search?q=families&country=BRA").get_data(as_text=True)
    assert 'href="/search?q=families&amp;country=BRA&amp;lang=es"' in html


def test_labels_dates_and_translated_titles_follow_the_language(client):
    html = client.get("/practices/jam-path?lang=es").get_data(as_text=True)
    assert '<h1 lang="es">PATH (Programa de Avance)</h1>' in html
    assert "Título y resumen: traducción automática." in html
    assert "1 de noviembre de 2026" in html and "Jamaica" in html
    zh = client.get("/practices/jam-path?lang=zh").get_data(as_text=True)
    assert '<h1 lang="zh">牙买加健康与教育促进计划</h1>' in zh and "Li Wei" in zh and "牙买加" in zh
    facets = client.get("/api/search?lang=zh").get_json()["facets"]["country"]["values"]
    assert {v["value"]: v["label"] for v in facets}["MEX"] == "墨西哥"


# ---- analysers, on sentences from the content -------------------------------------------------

@pytest.mark.parametrize("lang, sentence, expected", [
    ("en", "Families received integrated support for school attendance.",
     ["famili", "receiv", "integr", "support", "school", "attend"]),
    ("es", "Los hogares pobres reciben transferencias condicionadas a la educación.",
     ["hogar", "pobr", "recib", "transferent", "condicion", "educ"]),
    ("pt", "As famílias recebem transferências de renda com condicionalidades de saúde.",
     ["famil", "receb", "transferenc", "rend", "condicional", "saud"]),
])
def test_western_analysers_fold_accents_then_stem(lang, sentence, expected):
    assert [t.text for t in text_analyzer(lang)(sentence)] == expected


def test_the_chinese_analyser_finds_words_inside_runs_of_characters():
    tokens = {t.text for t in text_analyzer("zh")("农村最低生活保障制度（农村低保）于2007年在全国推开")}
    assert {"农村", "低保", "最低", "生活", "保障", "制度", "全国", "推开", "村低"} <= tokens


@pytest.mark.parametrize("text, folded", [
    ("Políticas de Educación en ÁREAS", "politicas de educacion en areas"),
    ("São Paulo: ações", "sao paulo: acoes"),
    ("didn’t – “quoted” — 低保", "didn't – “quoted” — 低保"),
    ("İstanbul, Ğ Ş", "istanbul, g s"),
    ("Straße, Ærø", "strase, æro"),  # as the analysers fold them
    ("", ""),
])
def test_folding_in_place_keeps_every_position(text, folded):
    assert fold_in_place(text) == folded


@pytest.mark.parametrize("lang, text, query, marked", [
    ("en", "We use it. Using it, they used more, and many did.", "use many", ["use", "Using", "used", "many"]),
    ("en", "They didn’t go; políticas públicas were cited.", "didn't politicas", ["didn’t", "políticas"]),
    ("es", "Las POLÍTICAS y la educación: políticas públicas.", "politica educacion",
     ["POLÍTICAS", "educación", "políticas"]),
    ("pt", "Ações de transferência de renda e transferências.", "acoes transferencia",
     ["Ações", "transferência", "transferências"]),
])
def test_snippets_mark_every_word_that_analyses_to_a_query_term(lang, text, query, marked):
    terms = frozenset(t.text for t in text_analyzer(lang)(query))
    assert re.findall(r"<mark>(.*?)</mark>", snippet(text, lang, terms)) == marked


# ---- expansion: names and synonyms in every language find their practices ---------------------

@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    settings = Settings(ROOT / "practices", tmp_path_factory.mktemp("index"))
    update_index(settings)
    return open_store(settings), load_tree(ROOT / "practices")[0]


def slugs(store, q: str, **kw) -> set[str]:
    result = run_search(store, SearchRequest.build(q, {}, per_page=100, **kw))
    assert result.total <= 100
    return {h["slug"] for h in result.hits}


def test_every_taxonomy_synonym_and_label_finds_its_type(real_store):
    store, practices = real_store
    failures = []
    for term in vocab.policy_types():
        members = {p.slug for p in practices if term.value in p.policy_types}
        for name in [*term.synonyms, *term.labels.values()]:
            if not members <= slugs(store, name):
                failures.append((term.value, name))
    assert failures == []


def test_country_names_in_four_languages_find_the_country(real_store):
    store, practices = real_store
    for code in ("MEX", "BRA", "CHN", "TTO"):
        members = {p.slug for p in practices if code in p.countries}
        for name in vocab.countries().get(code).labels.values():
            assert members <= slugs(store, name), (code, name)


@pytest.mark.parametrize("q", ["transferencias condicionadas", "transferência de renda", "有条件现金转移",
                               "conditional cash transfer"])
def test_cash_transfer_queries_in_four_languages_find_the_cash_transfer_practices(real_store, q):
    store, practices = real_store
    members = {p.slug for p in practices if "cash-transfers" in p.policy_types}
    result = run_search(store, SearchRequest.build(q, {}, per_page=100))
    assert members <= {h["slug"] for h in result.hits}
    assert {"facet": "policy_type", "value": "cash-transfers",
            "label": "Cash transfers (conditional & unconditional) and minimum income"} in result.expansion


def test_expansion_can_be_turned_off(real_store):
    store, _ = real_store
    # 低保 (Dibao) is a Chinese synonym of the cash-transfers type: expanded, it finds every practice of
    # that type; exact, only the texts that write the word (country names no longer tell the two apart:
    # every Mexican case study now names Mexico in its Chinese translation)
    expanded = run_search(store, SearchRequest.build("低保", {}, per_page=100))
    exact = run_search(store, SearchRequest.build("低保", {}, per_page=100, exact=1))
    assert [e["value"] for e in expanded.expansion] == ["cash-transfers"] and exact.expansion == []
    assert exact.total < expanded.total
