"""A small smoke run of the benchmark: it builds, serves, measures and checks exactness end to end."""

from __future__ import annotations

import json

from bench.generate import generate
from bench.run import main, seeded_queries
from kb.practice import load_tree


def test_the_generator_writes_valid_practices_in_four_languages(tmp_path):
    generate(tmp_path, 120, seed=3)
    practices, problems = load_tree(tmp_path)
    assert (len(practices), problems) == (120, [])
    assert {p.language for p in practices} == {"en", "es", "pt", "zh"}


def test_queries_are_seeded_and_half_filtered():
    queries = seeded_queries(20)
    assert queries == seeded_queries(20)
    assert sum(1 for q in queries if "country" in q["filters"]) == 10
    assert sum(1 for q in queries if "policy_type" in q["filters"]) == 5


def test_a_smoke_run_measures_everything_and_finds_results_exact(tmp_path, capsys):
    results = main(["--sizes", "80", "--queries", "12", "--soak", "1", "--out", str(tmp_path)])
    [r] = results
    assert r["exactness"] == {"queries_checked": 12, "mismatches": 0, "identical": True}
    assert r["http"]["errors"] == r["soak_16_clients"]["errors"] == r["soak_during_rebuild"]["errors"] == 0
    assert r["soak_16_clients"]["requests"] > 0 and r["server_rss_mb"] > 0
    two = r["two_workers"]
    assert (two["soak_16_clients"]["errors"], two["soak_during_rebuild"]["errors"]) == (0, 0)
    assert two["soak_16_clients"]["requests"] > 0
    assert set(r["in_process"]) == {"ours", "plain_whoosh", "sqlite_fts5", "plain_whoosh_build_docs_per_s"}
    assert json.loads((tmp_path / "results.json").read_text())["results"][0]["size"] == 80
    assert capsys.readouterr().out.splitlines()[0].split()[:3] == ["size", "build/s", "incr"]
