"""Analysis: each language's words, stems and names reach the practices that contain them."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import write_practice

from kb.engine import open_store, update_index
from kb.engine.analysis import terms_in, text_analyzer
from kb.engine.schema import FastText
from kb.search import SearchRequest, run_search


def slugs(store, q: str = "", **filters) -> list[str]:
    request = SearchRequest.build(q, {k: v for k, v in filters.items()}, sort="title", per_page=100)
    return sorted(hit["slug"] for hit in run_search(store, request).hits)


def test_english_stemming_joins_integrate_and_integrated(built):
    write_practice(built.practices_dir, "bra-integrate", body="## Context\n\nWe integrate services.\n",
                   title="Integrate")
    update_index(built)
    store = open_store(built)
    assert "bra-integrate" in slugs(store, "integrated")
    assert "jam-path" in slugs(store, "integrate")  # the default body says 'integrated support'


@pytest.mark.parametrize("query, expected", [
    ("educacion", ["mex-prospera"]),     # accents folded before Spanish stemming
    ("pensiones", ["mex-pension-bienestar", "mex-prospera"]),
    ("推开", ["chn-dibao"]),               # a word inside a run of Chinese characters
    ("贫困人口", ["chn-dibao"]),
    ("educação", ["bra-bolsa-familia", "mex-prospera"]),  # Portuguese and Spanish share the stem
])
def test_each_language_is_analysed(store, query, expected):
    assert slugs(store, query) == expected


def test_country_names_in_other_languages_find_the_country(store):
    assert slugs(store, "墨西哥") == slugs(store, "México") == ["chn-celac-forum", "mex-pension-bienestar",
                                                                "mex-prospera"]


def test_text_fields_index_the_terms_and_counts_the_analyser_gives():
    sentences = {"en": "The families' integrated programmes integrate 3.5 million families, e.g. in Peru.",
                 "es": "Las transferencias condicionadas llegan a las familias más pobres de la región.",
                 "pt": "A transferência de renda às famílias pobres do semiárido, com educação.",
                 "zh": "农村最低生活保障制度覆盖贫困家庭，低保标准逐年提高。"}
    for lang, text in sentences.items():
        analysed = Counter(t.text for t in text_analyzer(lang)(text))
        indexed = {term.decode(): (freq, weight) for term, freq, weight, _ in FastText(lang).index(text)}
        assert indexed == {term: (n, float(n)) for term, n in analysed.items()}, lang
        assert terms_in(lang, text) == [t.text for t in text_analyzer(lang)(text)], lang
