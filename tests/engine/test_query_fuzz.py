"""Any query text gives results or a 400 that says what is wrong, never a 5xx.

Seeded random combinations of words, operators, quotes, parentheses, wildcards, ranges, field
prefixes and stray punctuation: most through the engine's parse, match and rank directly, a few
thousand through every page and download that takes a query, on Flask's test client.
"""

from __future__ import annotations

import random

import pytest

from kb.engine import expansions, snippet_terms
from kb.search import MAX_QUERY_CHARS, SearchRequest, run_search

WORDS = ["pension", "pensiones", "families", "transfer", "cash", "educação", "México", "低保", "农村最低生活",
         "Bolsa", "rural", "the", "de", "and", "x", "a", "2003", "3.5", "e.g.", "Família", "integrated",
         "not", "or", "İstanbul", "ﬁnance", "ß", "", "'", "’s"]
OPERATORS = ["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "and", "or", "&&", "||", "!", "-", "+"]
SYNTAX = ['"', "'", "(", ")", "[", "]", "{", "}", "<", ">", "*", "?", ":", "^", "~", "\\", "/", "=",
          " TO ", "^2", "~2", "*)", "(*", '"*"', "[* TO *]", "{a TO}", "[TO b]", "<=", ">=2000"]
FIELDS = ["title:", "body_en:", "meta:", "year_start:", "country:", "slug:", "path:", "record:", "nofield:",
          "title_zh:", "*:", ":"]
ENDPOINTS = ["/api/search", "/search", "/feed.atom", "/map", "/timeline", "/gaps", "/api/export.csv",
             "/api/export.json"]


def random_query(rng: random.Random) -> str:
    """A query of 1 to 10 pieces, each a word, an operator, syntax, a field prefix or a range."""
    pieces = []
    for _ in range(rng.randint(1, 10)):
        kind = rng.random()
        if kind < 0.35:
            piece = rng.choice(WORDS)
        elif kind < 0.55:
            piece = rng.choice(OPERATORS)
        elif kind < 0.8:
            piece = rng.choice(SYNTAX)
        elif kind < 0.9:
            piece = rng.choice(FIELDS) + rng.choice(WORDS + SYNTAX)
        else:
            piece = f"{rng.choice('[{')}{rng.choice(WORDS)} TO {rng.choice(WORDS)}{rng.choice(']}')}"
        if rng.random() < 0.15:
            piece += rng.choice("*?")
        pieces.append(piece)
    return rng.choice([" ", "", "  "]).join(pieces)


def queries(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [random_query(rng) for _ in range(n)]


def node_types(parsed) -> set[str]:
    return {type(parsed).__name__} | {kind for child in parsed.children() for kind in node_types(child)}


def test_parsing_matching_and_ranking_are_total_on_20000_random_queries(store):
    snap = store.snapshot()
    kinds = set()
    for n, text in enumerate(queries(12, 20_000)):
        expand = n % 2 == 0
        parsed, bits = snap.text_match(text, expand)
        assert bits & ~snap.all_bits == 0, text  # matches are documents of the index
        scores = [score for _, score in snap.ranked(parsed, bits, 10)]
        assert scores == sorted(scores, reverse=True), text
        snippet_terms(parsed), expansions(parsed)
        kinds |= node_types(parsed) if parsed is not None else set()
    # the combinations reached every kind of query Whoosh's parser makes with our plugins
    assert kinds >= {"And", "Or", "Not", "AndNot", "AndMaybe", "Phrase", "Term", "TermRange", "Every"}


def test_the_two_queries_that_once_gave_500_give_results(client):
    for text, slug in [("NOT NOT pension", "mex-pension-bienestar"), ("OR ANDMAYBE ANDMAYBE pension",
                                                                      "mex-pension-bienestar")]:
        response = client.get("/api/search", query_string={"q": text, "exact": "1"})
        assert response.status_code == 200, text
        assert slug in [hit["slug"] for hit in response.get_json()["hits"]], text


def test_no_page_or_download_answers_5xx_to_random_queries(client):
    failures = []
    for n, text in enumerate(queries(34, 2_000)):
        url = ENDPOINTS[n % len(ENDPOINTS)]
        with client.get(url, query_string={"q": text, "exact": str(n % 2)}) as response:
            response.get_data()  # downloads are streamed: the error would come while reading
            if response.status_code >= 500:
                failures.append((url, text, response.status_code))
            elif response.status_code == 400:  # only a query too long is refused, and it says so
                assert len(text) > MAX_QUERY_CHARS and b"characters; at most" in response.data, text
            else:
                assert response.status_code == 200, (url, text)
    assert failures == []


@pytest.mark.parametrize("text", ["x" * (MAX_QUERY_CHARS + 1), "(" * (MAX_QUERY_CHARS + 1)])
def test_a_query_over_the_limit_is_a_400_naming_the_limit(client, text):
    response = client.get("/api/search", query_string={"q": text})
    assert (response.status_code, response.get_json()["error"]) == (400, {
        "status": 400, "parameter": "q",
        "message": f"q: is {MAX_QUERY_CHARS + 1} characters; at most {MAX_QUERY_CHARS} allowed"})


def test_the_longest_allowed_queries_of_syntax_are_answered(store):
    rng = random.Random(56)
    for _ in range(50):
        text = random_query(rng)
        text = (text + " ") * (MAX_QUERY_CHARS // (len(text) + 1))
        result = run_search(store, SearchRequest.build(text[:MAX_QUERY_CHARS]))
        assert result.total == len(result.hits) or result.total > len(result.hits) == 10


def test_a_range_over_too_many_words_is_a_400_that_says_so_even_for_a_download(client, monkeypatch):
    import kb.engine.query

    monkeypatch.setattr(kb.engine.query, "MAX_EXPANDED_TERMS", 3)
    for url in ("/api/search", "/api/export.csv"):
        with client.get(url, query_string={"q": "[a TO z]", "exact": "1"}) as response:
            assert response.status_code == 400, url
            assert response.get_json()["error"]["message"] == (
                "q: title_en:[a TO z] covers more than 3 words; narrow the range")
    narrow = client.get("/api/search", query_string={"q": "[pensio TO pensioz]", "exact": "1"}).get_json()
    assert [h["slug"] for h in narrow["hits"]] == ["mex-pension-bienestar", "mex-prospera"]
