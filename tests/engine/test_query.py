"""Queries: plain words built as Whoosh's parser would, phrases, exact totals, several segments."""

from __future__ import annotations

from conftest import write_practice

from kb.engine import open_store, update_index
from kb.search import SearchRequest, run_search


def slugs(store, q: str = "", **filters) -> list[str]:
    request = SearchRequest.build(q, {k: v for k, v in filters.items()}, sort="title", per_page=100)
    return sorted(hit["slug"] for hit in run_search(store, request).hits)


def exact_slugs(store, q: str) -> list[str]:
    return sorted(h["slug"] for h in run_search(store, SearchRequest.build(q, {}, exact=1, per_page=100)).hits)


def test_a_quoted_phrase_needs_its_words_next_to_each_other_stop_words_aside(built):
    write_practice(built.practices_dir, "a-next", title="Alpha", summary="Support.",
                   body="## Context\n\nRural cash transfers for families.\n")
    write_practice(built.practices_dir, "b-apart", title="Beta", summary="Support.",
                   body="## Context\n\nA transfer of land, paid in cash.\n")
    update_index(built)
    store = open_store(built)
    assert "a-next" in exact_slugs(store, '"cash transfer"')
    assert "b-apart" not in exact_slugs(store, '"cash transfer"')
    assert exact_slugs(store, '"transfer land"') == exact_slugs(store, '"land paid"') == ["b-apart"]
    assert {"a-next", "b-apart"} <= set(exact_slugs(store, "cash transfer"))  # unquoted: anywhere


def test_plain_words_are_parsed_as_whoosh_s_parser_would(store):
    from bench.run import seeded_queries
    from kb.engine.query import SYNTAX, plain_query

    snap = store.snapshot()
    texts = [q["q"] for q in seeded_queries(200)] + [
        "México pensiones", "有条件现金转移", "低保 rural", "Trinidad and Tobago", "3.5 million", "e.g. families",
        "the of and", "Bolsa-Família", "transferências  condicionadas", "a b", "墨西哥 低保", "cash cash",
        "保障保障 保障", "pension pensiones pensão", "México mexico", "and or", "低保 低保"]
    for text in texts:
        assert not SYNTAX.search(text)
        for expand in (True, False):
            got, want = plain_query(snap.schema, text, expand), snap._parsers[expand].parse(text)
            assert got == want if got is not None else type(want).__name__ == "_NullQuery", (text, expand)


def test_totals_with_filters_are_exact(store):
    result = run_search(store, SearchRequest.build("families", {"country": ["BRA", "MEX"]}))
    either = set(slugs(store, "families", country=["BRA"])) | set(slugs(store, "families", country=["MEX"]))
    assert result.total == len(result.hits) == len(either) >= 4


def test_a_filter_combination_with_no_practice_gives_zero_hits(store):
    result = run_search(store, SearchRequest.build("", {"country": ["JAM"], "policy_type": ["relocation"]}))
    assert (result.total, result.hits) == (0, [])


def test_ranked_filtered_hits_are_right_on_a_multi_segment_index(built):
    write_practice(built.practices_dir, "per-juntos", countries=["PER"], title="Juntos families")
    update_index(built)  # the incremental commit adds a second segment
    store = open_store(built)
    assert store.snapshot().segment_count() == 2
    for country in ("PER", "BRA", "JAM"):
        result = run_search(store, SearchRequest.build("families", {"country": [country]}, per_page=50))
        assert result.hits and all(country in h["countries"] for h in result.hits)
        assert len(result.hits) == result.total
